"""Expected failures as values: a domain error carries a code, a message and the input field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)


class DomainError(Exception):
    """One expected failure; the API shows it as `{ field code message }`."""

    def __init__(
        self,
        code: StrEnum,
        message: str,
        field: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.details = details or {}

    def __repr__(self) -> str:
        return f"DomainError({self.code!s}, {self.message!r}, field={self.field!r})"


class DomainErrors(Exception):
    """Several expected failures found at once (e.g. every invalid field of an input)."""

    def __init__(self, errors: Sequence[DomainError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = list(errors)


def errors_of(exc: DomainError | DomainErrors) -> list[DomainError]:
    return exc.errors if isinstance(exc, DomainErrors) else [exc]


def input_errors(
    exc: ValidationError, codes: dict[str, StrEnum], fallback: StrEnum
) -> DomainErrors:
    """Map pydantic's validation errors to domain errors, one per bad field.

    `codes` maps a pydantic error type (`string_too_long`, `invalid_email`, ...) to the
    domain's code; any other type becomes `fallback`.
    """
    found = []
    for error in exc.errors(include_url=False, include_input=False):
        field = ".".join(str(part) for part in error["loc"]) or None
        found.append(DomainError(codes.get(error["type"], fallback), error["msg"], field))
    return DomainErrors(found)


def validated(
    model: type[ModelT], data: Mapping[str, Any], codes: dict[str, StrEnum], fallback: StrEnum
) -> ModelT:
    """`model` made from `data`, its validation errors raised as domain errors (input_errors)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise input_errors(exc, codes, fallback) from exc
