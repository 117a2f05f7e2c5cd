"""Building mutation payloads from resolver outcomes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from graphql import GraphQLError

from resolvers.errors import UserErrorData

E = TypeVar("E")


def errors_as(error_type: Callable[..., E], errors: list[UserErrorData]) -> list[E]:
    """Resolver errors as the payload's own error type (`ContactError`, `UserError`, ...)."""
    return [error_type(field=e.field, code=e.code, message=e.message) for e in errors]


Input = TypeVar("Input")

# The reason shown on the loose arguments some mutations took before they took one `input`.
USE_INPUT = "Use `input` (the API's one-input convention); this argument will be removed."


def one_input(
    mutation: str, input: Input | None, make: Callable[..., Input], **loose: object
) -> Input:
    """The input of a mutation that still takes its older loose arguments (deprecated, so
    clients written against them keep working): `input`, or every loose argument, not both."""
    given = {name: value for name, value in loose.items() if value is not None}
    if input is not None and not given:
        return input
    if input is None and len(given) == len(loose):
        return make(**given)
    names = ", ".join(f"`{name}`" for name in loose)
    raise GraphQLError(f"`{mutation}` takes `input` (or, deprecated, {names} instead of it).")
