"""Duplicate types, the `duplicatesOf` query, and the merge mutations with their payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.duplicates import DuplicateMatch as DuplicateMatchRecord
from domain.duplicates import DuplicateReason
from domain.merges import MergeErrorCode, RecordMerge
from resolvers import duplicates as resolve
from resolvers.errors import Outcome
from schema.enum_values import described_enum, error_code_enum
from schema.payloads import errors_as
from schema.shared_fields import (
    MUTATION_INPUT,
    RecordId,
    error_code,
    error_field,
    error_message,
    payload_errors,
)

described_enum(
    DuplicateReason,
    "DuplicateReason",
    "Why a record may be a duplicate of another.",
    {
        "EMAIL": "An email address is the same (case, spaces and Gmail's dots and +tags aside).",
        "PHONE": "A phone number is the same (in E.164).",
        "WEBSITE": "The website is the same host (`www.` aside).",
        "NAME": "The name is similar (fuzzy, in any word order).",
        "COMPANY": "The company is similar (legal suffixes such as Ltd or GmbH aside).",
    },
)
error_code_enum(MergeErrorCode, "MergeErrorCode", "merges")


@strawberry.type(description="A record that may be the same person or company as another.")
class DuplicateMatch:
    score: int = strawberry.field(
        description="How likely the two are the same, 0 to 100 (reported from 80): 100 for "
        "the same email address, 95 for the same phone or website, a similar name its "
        "similarity (raised by a similar company, lowered by a different one)."
    )
    reasons: list[DuplicateReason] = strawberry.field(
        description="Every kind of evidence found, strongest first."
    )
    display_name: str = strawberry.field(description="The record's name, to show in a warning.")

    @strawberry.field(description="The other record's global id (a Contact or a Customer).")
    def record_id(self, root: strawberry.Parent[DuplicateMatchRecord]) -> relay.GlobalID:
        return relay.GlobalID(root.record_type.value.title(), str(root.record_id))


async def duplicate_warnings(info: Info, record: object | None) -> list[DuplicateMatch]:
    """What a create or update payload's `duplicates` field answers."""
    if record is None:
        return []
    return await resolve.visible_duplicates(info.context, record)  # type: ignore[return-value]


@strawberry.type(
    name="RecordMerge", description="Two to nine contacts or customers joined into one survivor."
)
class Merge:
    record_type: str = strawberry.field(description="`contact` or `customer`.")
    created_at: datetime = strawberry.field(description="When the records were merged.")
    undo_until: datetime = strawberry.field(description="Until when `undoMerge` can undo it.")
    undone_at: datetime | None = strawberry.field(description="When it was undone, if it was.")

    @strawberry.field(description="The merge's global id, as `undoMerge` takes it.")
    def id(self, root: strawberry.Parent[RecordMerge]) -> relay.GlobalID:
        return relay.GlobalID(resolve.MERGE_TYPE_NAME, str(root.id))

    @strawberry.field(description="The record the others were merged into (its global id).")
    def survivor_id(self, root: strawberry.Parent[RecordMerge]) -> relay.GlobalID:
        return relay.GlobalID(root.record_type.title(), str(root.survivor_id))

    @strawberry.field(
        description="The records merged into the survivor (deleted by the merge, restored by "
        "its undo)."
    )
    def merged_ids(self, root: strawberry.Parent[RecordMerge]) -> list[relay.GlobalID]:
        return [relay.GlobalID(root.record_type.title(), m) for m in root.merged_ids]

    @strawberry.field(
        description="How many related rows (notes, tasks, deals, tags...) moved to the survivor."
    )
    def moved_rows(self, root: strawberry.Parent[RecordMerge]) -> int:
        return sum(len(group["ids"]) for group in root.moved)


@strawberry.type(description="A problem with the input; nothing was changed.")
class MergeError:
    field: str | None = error_field()
    code: MergeErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What a merge (or its undo) answers: the merge, or the errors that stopped it "
    "(then nothing was changed)."
)
class MergePayload:
    merge: Merge | None = strawberry.field(
        description="The merge as it is now; null when `errors` is not empty."
    )
    errors: list[MergeError] = payload_errors()


@strawberry.input(description="The value of one field, taken from one of the merged records.")
class MergeValueInput:
    field: str = strawberry.field(
        description="The field, as the record type names it (contacts: firstName, lastName, "
        "emails, phones, companyName, jobTitle, address, source, ownerId, notes; customers: "
        "name, legalName, website, industry, category, rating, parentId, ownerId, "
        "operationsUserId, services, billingEmail, billingAddress, taxId, currency, "
        "paymentTermsDays, billingUnits), or `custom:<key>` for a custom field's values. "
        "Another name: INVALID."
    )
    record_id: relay.GlobalID = strawberry.field(
        description="The record (the survivor or a merged one) whose value the survivor takes."
    )


@strawberry.input(
    description="Records to merge into a survivor. Errors: SAME_RECORD_TWICE, TOO_FEW, "
    "TOO_MANY (more than nine in all), NOT_FOUND (a record you cannot see, or of another "
    "agency), FORBIDDEN (one you may not change), INVALID (a field or source not allowed)."
)
class MergeRecordsInput:
    survivor_id: relay.GlobalID = strawberry.field(
        description="The record that stays; the others' related rows move to it."
    )
    merged_ids: list[relay.GlobalID] = strawberry.field(
        description="One to eight other records of the same type, deleted by the merge."
    )
    values: list[MergeValueInput] = strawberry.field(
        default_factory=list,
        description="Fields (and custom fields, `custom:<key>`) to take from a given record. "
        "Left out: the survivor's value, or the first merged record's when the survivor's is "
        "empty. Emails, phones and services are joined unless chosen, tags always.",
    )


@strawberry.input(description="The merge to undo, within its undo window.")
class UndoMergeInput:
    id: relay.GlobalID = strawberry.field(description="The merge's global id.")


def _payload(outcome: Outcome[RecordMerge]) -> MergePayload:
    return MergePayload(
        merge=outcome.value,  # type: ignore[arg-type]
        errors=errors_as(MergeError, outcome.errors),
    )


def _values(given: MergeRecordsInput) -> list[tuple[str, relay.GlobalID]]:
    return [(value.field, value.record_id) for value in given.values]


@strawberry.type
class DuplicateQuery:
    @strawberry.field(
        description="Possible duplicates of a contact or customer, among the records you may "
        "read, best first; null when the record is not visible."
    )
    async def duplicates_of(self, info: Info, id: RecordId) -> list[DuplicateMatch] | None:
        return await resolve.duplicates_of(info.context, id)  # type: ignore[return-value]


@strawberry.type
class DuplicateMutation:
    @strawberry.mutation(
        description="Merge two to nine contacts into the survivor: notes, documents, tasks, "
        "meetings, leads, deals, tickets, tags, custom values, messages and flow runs move to "
        "it; the others are deleted. Audited, `contact.merged` event; `undoMerge` reverses it "
        "within the undo window. You must be allowed to change every contact."
    )
    async def merge_contacts(
        self, info: Info, input: Annotated[MergeRecordsInput, MUTATION_INPUT]
    ) -> MergePayload:
        return _payload(
            await resolve.merge(
                info.context, "Contact", input.survivor_id, input.merged_ids, _values(input)
            )
        )

    @strawberry.mutation(
        description="Merge two to nine customers into the survivor, as `mergeContacts` does "
        "(contact links, sub-companies, leads, deals, tickets... move). `customer.merged` event."
    )
    async def merge_customers(
        self, info: Info, input: Annotated[MergeRecordsInput, MUTATION_INPUT]
    ) -> MergePayload:
        return _payload(
            await resolve.merge(
                info.context, "Customer", input.survivor_id, input.merged_ids, _values(input)
            )
        )

    @strawberry.mutation(
        description="Undo a merge within its window: the moved rows go back, the merged "
        "records return, the survivor gets back the fields the merge changed (unless changed "
        "since). Errors: NOT_FOUND, FORBIDDEN, ALREADY_UNDONE, UNDO_EXPIRED."
    )
    async def undo_merge(
        self, info: Info, input: Annotated[UndoMergeInput, MUTATION_INPUT]
    ) -> MergePayload:
        return _payload(await resolve.undo_merge(info.context, input.id))
