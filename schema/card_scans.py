"""Visiting card scan types, inputs and payloads. The upload is a plain HTTP request:
`POST /card-scans` (crm/card_scans_http.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.card_scans import CardScan as CardScanRecord
from domain.card_scans import CardScanErrorCode, CardScanStatus
from domain.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from resolvers import card_scans as resolve
from resolvers import contacts as resolve_contacts
from resolvers import related
from schema.contacts import AddressInput, Contact
from schema.documents import Document
from schema.enum_values import described_enum, error_code_enum
from schema.payloads import errors_as
from schema.shared_fields import (
    MUTATION_INPUT,
    After,
    First,
    RecordId,
    created_at,
    error_code,
    error_field,
    error_message,
    node_id,
    payload_errors,
    payload_record,
    updated_at,
)
from schema.users import UserSummary

error_code_enum(CardScanErrorCode, "CardScanErrorCode", "card scans")
described_enum(
    CardScanStatus,
    "CardScanStatus",
    "Where a card scan is: a draft to check, or confirmed as a contact.",
    {
        "DRAFT": "Read from the photo; waiting for `confirmCardScan`.",
        "CONFIRMED": "Its contact was created (`contact`).",
    },
)


@strawberry.type(description="A value read from the card, and how sure the reading is.")
class CardField:
    value: str = strawberry.field(description="The text as read (phones in E.164).")
    confidence: float = strawberry.field(
        description="0 to 1: the OCR's confidence in the line, lowered for a field placed by "
        "a guess (name, title, company, address) rather than found by its form (email, phone, "
        "website)."
    )


@strawberry.type(description="One line of text the OCR read on the card, top to bottom.")
class CardTextLine:
    text: str = strawberry.field(description="The line as read.")
    confidence: float = strawberry.field(description="The OCR's confidence, 0 to 1.")


def _field(root: CardScanRecord, name: str) -> CardField | None:
    found = root.extracted.get(name)
    if not found:
        return None
    return CardField(value=str(found["value"]), confidence=float(found["confidence"]))


@strawberry.type(
    description="A photographed visiting card read into a draft contact: the fields found "
    "(null: not on the card, or not recognised), the text as read, and the photo. "
    "`confirmCardScan` turns it into a contact."
)
class CardScan(relay.Node):
    id: relay.NodeID[str] = node_id()
    status: CardScanStatus = strawberry.field(description="Draft or confirmed.")
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()
    confirmed_at: datetime | None = strawberry.field(
        description="When it was confirmed as a contact; null while a draft."
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, CardScanRecord))

    @strawberry.field(description="The person's full name.")
    def name(self, root: strawberry.Parent[CardScanRecord]) -> CardField | None:
        return _field(root, "name")

    @strawberry.field(description="Their job title.")
    def title(self, root: strawberry.Parent[CardScanRecord]) -> CardField | None:
        return _field(root, "title")

    @strawberry.field(description="The company on the card.")
    def company(self, root: strawberry.Parent[CardScanRecord]) -> CardField | None:
        return _field(root, "company")

    @strawberry.field(description="The email address, lowercased.")
    def email(self, root: strawberry.Parent[CardScanRecord]) -> CardField | None:
        return _field(root, "email")

    @strawberry.field(
        description="The first phone number (not a fax), in E.164; numbers without a "
        "country code are read in the agency's country."
    )
    def phone(self, root: strawberry.Parent[CardScanRecord]) -> CardField | None:
        return _field(root, "phone")

    @strawberry.field(description="The website.")
    def website(self, root: strawberry.Parent[CardScanRecord]) -> CardField | None:
        return _field(root, "website")

    @strawberry.field(description="The postal address, its lines joined with commas.")
    def address(self, root: strawberry.Parent[CardScanRecord]) -> CardField | None:
        return _field(root, "address")

    @strawberry.field(description="Every line of text read, top to bottom, to correct by.")
    def lines(self, root: strawberry.Parent[CardScanRecord]) -> list[CardTextLine]:
        return [
            CardTextLine(text=str(line["text"]), confidence=float(line["confidence"]))
            for line in root.lines
        ]

    @strawberry.field(description="The card's photo (its `downloadPath` serves it).")
    async def photo(self, info: Info, root: strawberry.Parent[CardScanRecord]) -> Document | None:
        return await resolve.photo(info.context, root)  # type: ignore[return-value]

    @strawberry.field(description="Who scanned it.")
    async def owner(
        self, info: Info, root: strawberry.Parent[CardScanRecord]
    ) -> UserSummary | None:
        return await related.colleague(info.context, root.owner_id)  # type: ignore[return-value]

    @strawberry.field(description="The contact it became; null while a draft.")
    async def contact(self, info: Info, root: strawberry.Parent[CardScanRecord]) -> Contact | None:
        if root.contact_id is None:
            return None
        global_id = relay.GlobalID("Contact", str(root.contact_id))
        return await resolve_contacts.contact(info.context, global_id)  # type: ignore[return-value]


@strawberry.type(description="A problem with the input; nothing was changed.")
class CardScanError:
    field: str | None = error_field()
    code: CardScanErrorCode = error_code()
    message: str = error_message()


@strawberry.type(description="The outcome of `confirmCardScan`.")
class ConfirmCardScanPayload:
    card_scan: CardScan | None = payload_record("card scan")
    contact: Contact | None = strawberry.field(
        description="The contact created; null when `errors` is not empty."
    )
    errors: list[CardScanError] = payload_errors()


@strawberry.input(
    description="Which scan to confirm, and what to correct: a field left out takes the "
    "value read from the card, one given replaces it (an empty text or list clears it). "
    "The contact is checked as `createContact` checks it, with its error codes."
)
class ConfirmCardScanInput:
    id: relay.GlobalID = strawberry.field(description="The card scan's global id.")
    first_name: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Given name; read: the name but its last word (REQUIRED if none).",
    )
    last_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Family name; read: the name's last word."
    )
    job_title: str | None = strawberry.field(
        default=strawberry.UNSET, description="Read: the title."
    )
    company_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Read: the company."
    )
    emails: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Read: the email."
    )
    phones: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="International form; read: the phone."
    )
    website: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Read: the website. Contacts have no website field: it is added to the notes.",
    )
    address: AddressInput | None = strawberry.field(
        default=strawberry.UNSET,
        description="The whole address; read: the card's address split into street, postal "
        "code, city and region (the country is left for you).",
    )
    tags: list[str] | None = strawberry.field(default=strawberry.UNSET, description="Tags.")
    notes: str | None = strawberry.field(default=strawberry.UNSET, description="Notes.")
    source: str | None = strawberry.field(
        default=strawberry.UNSET, description='Where it came from; "visiting card" if left out.'
    )


@strawberry.type(description="The outcome of `discardCardScan`.")
class DiscardCardScanPayload:
    card_scan: CardScan | None = payload_record("card scan")
    errors: list[CardScanError] = payload_errors()


@strawberry.input(description="Which draft to discard.")
class DiscardCardScanInput:
    id: relay.GlobalID = strawberry.field(description="The card scan's global id.")


@strawberry.type
class CardScanQuery:
    @strawberry.field(description="One card scan by its global id, or null if not visible.")
    async def card_scan(self, info: Info, id: RecordId) -> CardScan | None:
        return await resolve.card_scan(info.context, id)  # type: ignore[return-value]

    @strawberry.field(
        description=f"Card scans you may see (your own, or your team's or agency's by role), "
        f"newest first; at most {MAX_PAGE_SIZE}."
    )
    async def card_scans(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        status: Annotated[
            CardScanStatus | None,
            strawberry.argument(description="Only scans with this status; all when left out."),
        ] = None,
    ) -> relay.Connection[CardScan]:
        return await resolve.card_scans_page(
            info.context, first, after, status.value if status else None
        )


@strawberry.type
class CardScanMutation:
    @strawberry.mutation(
        description="Create the contact a card scan drafted, with your corrections, through "
        "the same checks, audit, events and flows as `createContact`. ALREADY_CONFIRMED "
        "for a scan confirmed before. Scanning is a plain upload: POST /card-scans."
    )
    async def confirm_card_scan(
        self, info: Info, input: Annotated[ConfirmCardScanInput, MUTATION_INPUT]
    ) -> ConfirmCardScanPayload:
        outcome = await resolve.confirm_card_scan(info.context, input)
        scan, contact = outcome.value if outcome.value else (None, None)
        return ConfirmCardScanPayload(
            card_scan=scan,  # type: ignore[arg-type]
            contact=contact,  # type: ignore[arg-type]
            errors=errors_as(CardScanError, outcome.errors),
        )

    @strawberry.mutation(
        description="Discard a draft (a card read badly, or scanned twice): it and its photo "
        "are no longer listed or served. ALREADY_CONFIRMED for a confirmed scan (delete its "
        "contact instead)."
    )
    async def discard_card_scan(
        self, info: Info, input: Annotated[DiscardCardScanInput, MUTATION_INPUT]
    ) -> DiscardCardScanPayload:
        outcome = await resolve.discard_card_scan(info.context, input.id)
        return DiscardCardScanPayload(
            card_scan=outcome.value,  # type: ignore[arg-type]
            errors=errors_as(CardScanError, outcome.errors),
        )
