"""Validated field types shared by the records' commands: names, emails, phones, tags,
addresses, time zones and locales.

Each record's error enum has members named like the codes here (REQUIRED, TOO_LONG, ...), so
`input_codes` maps pydantic's error types onto any of them.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cache
from typing import Annotated, Any
from zoneinfo import available_timezones

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
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
    "invalid_time_zone": "INVALID_TIME_ZONE",
    "invalid_locale": "INVALID_LOCALE",
    "url_scheme": "INVALID_URL",
    "url_parsing": "INVALID_URL",
    "invalid_url": "INVALID_URL",
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


@cache
def _time_zones() -> frozenset[str]:
    """The IANA names this machine's zone database knows (the `tzdata` package or the OS)."""
    return frozenset(available_timezones())


def _time_zone(value: str) -> str:
    if value not in _time_zones():
        raise PydanticCustomError(
            "invalid_time_zone", "Not an IANA time zone name (e.g. Europe/London, UTC)."
        )
    return value


# A BCP 47 language tag as mail and date formatting need it: language, optional script and
# region (en, en-GB, pt-BR, zh-Hant-TW, es-419).
_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$")


def _locale(value: str) -> str:
    if not _LOCALE.match(value):
        raise PydanticCustomError(
            "invalid_locale", "Not a language tag such as en, en-GB or pt-BR."
        )
    return value


def _web_address(value: str) -> str:
    if value and not re.match(r"^https?://[^\s/?#]+\.[^\s/?#]+([/?#]\S*)?$", value):
        raise PydanticCustomError("invalid_url", "Not a web address (https://example.com).")
    return value


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
# Empty means "none given"; anything else must be an international phone number.
OptionalPhone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=40),
    AfterValidator(lambda value: _phone(value) if value else value),
]
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
TimeZone = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=64), AfterValidator(_time_zone)
]
Locale = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=35), AfterValidator(_locale)
]
# Empty means "none given"; anything else must be an http(s) address with a host name.
WebAddress = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=500), AfterValidator(_web_address)
]


class Address(BaseModel):
    """A postal address with optional coordinates (contacts, the agency's own)."""

    model_config = ConfigDict(extra="forbid")

    street: Text = ""
    city: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    region: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] = ""
    country: CountryCode = ""
    latitude: Annotated[float | None, Field(ge=-90, le=90)] = None
    longitude: Annotated[float | None, Field(ge=-180, le=180)] = None


def address_snapshot(row: Any) -> dict[str, Any]:
    """The address held in a row's columns (`street`, `city`, ...) as JSON values."""
    return {field: getattr(row, field) for field in Address.model_fields}
