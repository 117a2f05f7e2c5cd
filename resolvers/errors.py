"""Domain errors as the API shows them: `errors { field code message }` or a GraphQL error."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from graphql import GraphQLError

from domain.errors import DomainError, DomainErrors, errors_of


@dataclass(frozen=True, slots=True)
class UserErrorData:
    field: str | None
    code: StrEnum
    message: str


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def input_path(field: str | None) -> str | None:
    """`address.postal_code` -> `address.postalCode`, the names the client sent."""
    if field is None:
        return None
    return ".".join(_camel(part) for part in field.split("."))


def user_errors(exc: DomainError | DomainErrors) -> list[UserErrorData]:
    return [UserErrorData(input_path(e.field), e.code, e.message) for e in errors_of(exc)]


def query_error(exc: DomainError) -> GraphQLError:
    """For queries, which have no payload: a GraphQL error with the code in its extensions."""
    extensions: dict[str, object] = {"code": str(exc.code)}
    if exc.field:
        extensions["field"] = input_path(exc.field)
    return GraphQLError(exc.message, extensions=extensions)
