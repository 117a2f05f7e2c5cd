"""Custom field value errors come back in each sales record's own error enum; a code missing
from one of them would turn a user's mistake into a server error."""

from __future__ import annotations

from enum import StrEnum

import pytest

from domain.contacts import ContactErrorCode
from domain.custom_field_values import CustomValueCode
from domain.customers import CustomerErrorCode
from domain.deals import DealErrorCode
from domain.leads import LeadErrorCode
from resolvers.errors import input_path


@pytest.mark.parametrize(
    "codes", [ContactErrorCode, CustomerErrorCode, LeadErrorCode, DealErrorCode]
)
def test_every_sales_record_enum_holds_every_custom_value_code(codes: type[StrEnum]) -> None:
    missing = {code.value for code in CustomValueCode} - {code.value for code in codes}
    assert not missing, f"{codes.__name__} lacks {sorted(missing)}"


def test_a_custom_field_key_keeps_its_spelling_in_error_paths() -> None:
    assert input_path("custom_fields.annual_budget") == "customFields.annual_budget"
    assert input_path("filter.custom_fields.0.at_least") == "filter.customFields.0.atLeast"
    assert input_path("address.postal_code") == "address.postalCode"
