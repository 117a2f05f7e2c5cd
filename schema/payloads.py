"""Building mutation payloads from resolver outcomes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from resolvers.errors import UserErrorData

E = TypeVar("E")


def errors_as(error_type: Callable[..., E], errors: list[UserErrorData]) -> list[E]:
    """Resolver errors as the payload's own error type (`ContactError`, `UserError`, ...)."""
    return [error_type(field=e.field, code=e.code, message=e.message) for e in errors]
