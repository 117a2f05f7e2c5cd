"""Reading contact fields from a visiting card's text lines (no OCR here: the lines are what
an OCR would give, with its usual slips)."""

from __future__ import annotations

from domain.card_fields import (
    CardLine,
    PostalAddress,
    extract_fields,
    split_address,
    split_name,
)


def lines(*texts: str, heights: tuple[float, ...] = ()) -> list[CardLine]:
    return [
        CardLine(text, 0.95, heights[i] if i < len(heights) else 20.0)
        for i, text in enumerate(texts)
    ]


def values(card: list[CardLine], region: str = "") -> dict[str, str]:
    return {name: field.value for name, field in extract_fields(card, region).items()}


def test_a_classic_card_gives_every_field() -> None:
    card = lines(
        "Maria Schneider",
        "Head of Procurement",
        "Nordwind Logistics GmbH",
        "maria.schneider@nordwind-logistics.de",
        "+49 30 1234567",
        "www.nordwind-logistics.de",
        "Friedrichstrasse 123, 10117 Berlin",
        heights=(40, 24, 28),
    )
    assert values(card) == {
        "name": "Maria Schneider",
        "title": "Head of Procurement",
        "company": "Nordwind Logistics GmbH",
        "email": "maria.schneider@nordwind-logistics.de",
        "phone": "+49301234567",
        "website": "www.nordwind-logistics.de",
        "address": "Friedrichstrasse 123, 10117 Berlin",
    }


def test_labels_are_dropped_and_fax_numbers_are_not_the_phone() -> None:
    card = lines(
        "ACME Widgets Ltd",
        "John Smith",
        "Senior Account Manager",
        "Fax: +44 20 7946 0000",
        "T: +44 20 7946 0958",
        "E: JOHN.SMITH@ACME-WIDGETS.CO.UK",
        "Web: acme-widgets.co.uk",
        "1 Fleet Street",
        "London EC4Y 1AA",
    )
    assert values(card) == {
        "company": "ACME Widgets Ltd",
        "name": "John Smith",
        "title": "Senior Account Manager",
        "phone": "+442079460958",
        "email": "john.smith@acme-widgets.co.uk",
        "website": "acme-widgets.co.uk",
        "address": "1 Fleet Street, London EC4Y 1AA",
    }


def test_a_national_number_is_read_in_the_agencys_region() -> None:
    card = lines("Jane Doe", "(415) 555-2671", "500 Market Street, San Francisco, CA 94105")
    assert values(card, region="US")["phone"] == "+14155552671"
    assert "phone" not in values(card)  # no region, no country code: not a number to store


def test_ocr_that_drops_spaces_still_finds_the_title_and_the_phone() -> None:
    found = values(lines("Kim Lee", "HeadofSales", "+4930123456"))
    assert found["title"] == "HeadofSales"
    assert found["phone"] == "+4930123456"


def test_the_company_is_the_email_domain_when_it_has_no_legal_suffix() -> None:
    found = values(
        lines("Blue Harbor Analytics", "Tom Baker", "Data Scientist", "tom@blueharbor.io"),
    )
    assert found["company"] == "Blue Harbor Analytics"
    assert found["name"] == "Tom Baker"


def test_a_personal_domain_names_the_person_not_a_company() -> None:
    found = values(lines("Jane Doe", "Freelance Designer", "jane@janedoe.com"))
    assert found["name"] == "Jane Doe"
    assert "company" not in found


def test_the_name_is_the_line_in_the_largest_type() -> None:
    card = lines("Oak Street Bakery Co.", "Rosa Diaz", "Pat Kim", heights=(30, 44, 18))
    assert values(card)["name"] == "Rosa Diaz"


def test_guessed_fields_are_trusted_less_than_fields_found_by_their_form() -> None:
    found = extract_fields(lines("Kim Lee", "kim@lee-partners.com"))
    assert found["email"].confidence == 0.95
    assert found["name"].confidence < found["email"].confidence


def test_an_empty_card_gives_nothing() -> None:
    assert extract_fields([CardLine("  ", 0.9)]) == {}


def test_names_split_into_first_and_last() -> None:
    assert split_name("Maria Schneider") == ("Maria", "Schneider")
    assert split_name("Anna Maria van Dijk") == ("Anna Maria", "van Dijk")
    assert split_name("Cher") == ("Cher", "")


def test_addresses_split_into_their_parts() -> None:
    assert split_address("Friedrichstrasse 123, 10117 Berlin") == PostalAddress(
        street="Friedrichstrasse 123", city="Berlin", postal_code="10117"
    )
    assert split_address("500 Market Street, San Francisco, CA 94105") == PostalAddress(
        street="500 Market Street", city="San Francisco", region="CA", postal_code="94105"
    )
    assert split_address("1 Fleet Street, London EC4Y 1AA") == PostalAddress(
        street="1 Fleet Street", city="London", postal_code="EC4Y 1AA"
    )
    assert split_address("Main Road") == PostalAddress(street="Main Road")


def test_address_lines_the_ocr_squashed_get_their_spaces_back() -> None:
    found = values(lines("Priya Raman", "500MarketStreet", "75004Paris"))
    assert found["address"] == "500 Market Street, 75004 Paris"
