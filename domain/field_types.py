"""Validated field types shared by the records' commands: names, emails, phones, tags.

Each record's error enum has members named like the codes here (REQUIRED, TOO_LONG, ...), so
`input_codes` maps pydantic's error types onto any of them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

# pydantic error type -> the member name every record's error enum uses for it
_CODE_NAMES = {
    "missing": "REQUIRED",
    "string_too_short": "REQUIRED",
    "string_too_long": "TOO_LONG",
    "too_long": "TOO_MANY",
    "greater_than_equal": "OUT_OF_RANGE",
    "less_than_equal": "OUT_OF_RANGE",
    "greater_than": "OUT_OF_RANGE",
    "less_than": "OUT_OF_RANGE",
    "invalid_email": "INVALID_EMAIL",
    "invalid_phone": "INVALID_PHONE",
}


def input_codes(codes: type[StrEnum]) -> dict[str, StrEnum]:
    """The pydantic-error-type -> code map for one record's error enum."""
    members = codes.__members__
    return {kind: members[name] for kind, name in _CODE_NAMES.items() if name in members}


def _email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise PydanticCustomError("invalid_email", "{reason}", {"reason": str(exc)}) from exc


def _phone(value: str) -> str:
    """Phones are stored in E.164 and must carry their country code (+44 ...)."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise PydanticCustomError(
            "invalid_phone", "Not a phone number in international form (+<country> <number>)."
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise PydanticCustomError("invalid_phone", "Not a valid phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def distinct(values: list[str]) -> list[str]:
    """Duplicates dropped, first occurrence kept."""
    return list(dict.fromkeys(values))


Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
RequiredName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=10_000)]
Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(_email)]
# Empty means "none given"; anything else must be an email address.
OptionalEmail = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254),
    AfterValidator(lambda value: _email(value) if value else value),
]
Phone = Annotated[str, StringConstraints(max_length=40), AfterValidator(_phone)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
# What a list filter's `search` may be.
SearchTerm = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Tags = Annotated[list[Tag], Field(max_length=20), AfterValidator(distinct)]
CountryCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^([A-Za-z]{2})?$"),
    AfterValidator(str.upper),
]
CurrencyCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^([A-Za-z]{3})?$"),
    AfterValidator(str.upper),
]
