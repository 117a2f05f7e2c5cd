"""Domain errors as the API shows them: `errors { field code message }` or a GraphQL error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

from graphql import GraphQLError

from domain.errors import DomainError, DomainErrors, errors_of

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class UserErrorData:
    field: str | None
    code: StrEnum
    message: str


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """What a mutation resolver hands the schema: the result, or the reasons there is none."""

    value: T | None = None
    errors: list[UserErrorData] = field(default_factory=list)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def input_path(field: str | None) -> str | None:
    """`address.postal_code` -> `address.postalCode`, the names the client sent. A custom
    field's key is the client's own name and stays as it is (`customFields.annual_budget`)."""
    if field is None:
        return None
    parts = field.split(".")
    return ".".join(
        part
        if index and parts[index - 1] == "custom_fields" and not part.isdigit()
        else _camel(part)
        for index, part in enumerate(parts)
    )


FieldPath = Callable[[str | None], str | None]


def user_errors(
    exc: DomainError | DomainErrors, codes: type[StrEnum], path: FieldPath = input_path
) -> list[UserErrorData]:
    """Errors in the payload's own code enum (each domain's enum holds every code it can
    meet, FORBIDDEN and NOT_FOUND included; a code outside it is a bug and fails loudly).
    `path` turns the domain's field name into the one the client knows."""
    return [UserErrorData(path(e.field), codes(str(e.code)), e.message) for e in errors_of(exc)]


async def attempt(
    codes: type[StrEnum], work: Callable[[], Awaitable[T]], path: FieldPath = input_path
) -> Outcome[T]:
    """Run one domain call for a mutation: its value, or its expected errors as user errors."""
    try:
        return Outcome(value=await work())
    except (DomainError, DomainErrors) as exc:
        return Outcome(errors=user_errors(exc, codes, path))


def query_error(exc: DomainError) -> GraphQLError:
    """For queries, which have no payload: a GraphQL error with the code in its extensions."""
    extensions: dict[str, object] = {"code": str(exc.code)}
    if exc.field:
        extensions["field"] = input_path(exc.field)
    return GraphQLError(exc.message, extensions=extensions)


async def found_or_none(work: Callable[[], Awaitable[T]]) -> T | None:
    """Run one domain fetch for a nullable `record(id)` query: NOT_FOUND is null (a row
    outside the caller's scope looks like no row); other expected errors are GraphQL errors."""
    try:
        return await work()
    except DomainError as exc:
        if str(exc.code) == "NOT_FOUND":
            return None
        raise query_error(exc) from exc


async def answer(work: Awaitable[T]) -> T:
    """Run one domain call for a query; expected errors become GraphQL errors with a code."""
    try:
        return await work
    except DomainError as exc:
        raise query_error(exc) from exc
    except DomainErrors as exc:
        raise query_error(exc.errors[0]) from exc
