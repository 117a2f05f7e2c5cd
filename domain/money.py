"""Money in commands: non-negative amounts with two decimals and ISO 4217 currency codes.

Amounts are Decimals end to end (GraphQL `Decimal` strings, DECIMAL columns), never floats.
Currency codes are checked against ISO 4217's list of active codes, so a typo such as `EUO`
is refused instead of stored. The two-decimal scale is the storage format for every
currency: zero-decimal currencies (JPY) simply carry `.00`.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

MAX_DIGITS = 14
DECIMAL_PLACES = 2
CENT = Decimal("0.01")

# ISO 4217 active codes (list one), without XTS (testing) and XXX (no currency).
ISO_4217 = frozenset(
    [
        "AED",
        "AFN",
        "ALL",
        "AMD",
        "ANG",
        "AOA",
        "ARS",
        "AUD",
        "AWG",
        "AZN",
        "BAM",
        "BBD",
        "BDT",
        "BGN",
        "BHD",
        "BIF",
        "BMD",
        "BND",
        "BOB",
        "BOV",
        "BRL",
        "BSD",
        "BTN",
        "BWP",
        "BYN",
        "BZD",
        "CAD",
        "CDF",
        "CHE",
        "CHF",
        "CHW",
        "CLF",
        "CLP",
        "CNY",
        "COP",
        "COU",
        "CRC",
        "CUC",
        "CUP",
        "CVE",
        "CZK",
        "DJF",
        "DKK",
        "DOP",
        "DZD",
        "EGP",
        "ERN",
        "ETB",
        "EUR",
        "FJD",
        "FKP",
        "GBP",
        "GEL",
        "GHS",
        "GIP",
        "GMD",
        "GNF",
        "GTQ",
        "GYD",
        "HKD",
        "HNL",
        "HTG",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "IQD",
        "IRR",
        "ISK",
        "JMD",
        "JOD",
        "JPY",
        "KES",
        "KGS",
        "KHR",
        "KMF",
        "KPW",
        "KRW",
        "KWD",
        "KYD",
        "KZT",
        "LAK",
        "LBP",
        "LKR",
        "LRD",
        "LSL",
        "LYD",
        "MAD",
        "MDL",
        "MGA",
        "MKD",
        "MMK",
        "MNT",
        "MOP",
        "MRU",
        "MUR",
        "MVR",
        "MWK",
        "MXN",
        "MXV",
        "MYR",
        "MZN",
        "NAD",
        "NGN",
        "NIO",
        "NOK",
        "NPR",
        "NZD",
        "OMR",
        "PAB",
        "PEN",
        "PGK",
        "PHP",
        "PKR",
        "PLN",
        "PYG",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "RWF",
        "SAR",
        "SBD",
        "SCR",
        "SDG",
        "SEK",
        "SGD",
        "SHP",
        "SLE",
        "SLL",
        "SOS",
        "SRD",
        "SSP",
        "STN",
        "SVC",
        "SYP",
        "SZL",
        "THB",
        "TJS",
        "TMT",
        "TND",
        "TOP",
        "TRY",
        "TTD",
        "TWD",
        "TZS",
        "UAH",
        "UGX",
        "USD",
        "USN",
        "UYI",
        "UYU",
        "UYW",
        "UZS",
        "VED",
        "VES",
        "VND",
        "VUV",
        "WST",
        "XAF",
        "XAG",
        "XAU",
        "XBA",
        "XBB",
        "XBC",
        "XBD",
        "XCD",
        "XCG",
        "XDR",
        "XOF",
        "XPD",
        "XPF",
        "XPT",
        "XSU",
        "XUA",
        "YER",
        "ZAR",
        "ZMW",
        "ZWG",
        "ZWL",
    ]
)

# pydantic error types of the types below -> the member name each record's error enum uses
_CODE_NAMES = {
    "invalid_currency": "INVALID_CURRENCY",
    "decimal_max_digits": "OUT_OF_RANGE",
    "decimal_whole_digits": "OUT_OF_RANGE",
    "decimal_max_places": "OUT_OF_RANGE",
    "decimal_parsing": "INVALID",
    "decimal_type": "INVALID",
    "finite_number": "INVALID",
}


def _currency(value: str) -> str:
    code = value.strip().upper()
    if code not in ISO_4217:
        raise PydanticCustomError(
            "invalid_currency", "Not an ISO 4217 currency code (e.g. EUR, USD, GBP)."
        )
    return code


Amount = Annotated[
    Decimal, Field(ge=0, max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, allow_inf_nan=False)
]
Currency = Annotated[str, AfterValidator(_currency)]


def money_codes(codes: type[StrEnum]) -> dict[str, StrEnum]:
    """The pydantic-error-type -> code map of the money types, for one record's error enum."""
    members = codes.__members__
    return {kind: members[name] for kind, name in _CODE_NAMES.items() if name in members}


def weighted(amount: Decimal, probability: int) -> Decimal:
    """`amount` times a win probability in percent, to the cent (half-up, as accountants do)."""
    return (amount * probability / 100).quantize(CENT, rounding=ROUND_HALF_UP)
