"""Custom field types: definitions, typed values on records, value inputs, list conditions."""

from __future__ import annotations

from datetime import date as Date
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.custom_field_values import FieldValue
from domain.custom_fields import CustomField as CustomFieldRecord
from domain.custom_fields import CustomFieldErrorCode, CustomFieldRecordType, CustomFieldType
from resolvers import custom_fields as resolve
from resolvers.context import RequestContext
from resolvers.errors import Outcome
from schema.enum_values import described_enum, error_code_enum
from schema.payloads import errors_as
from schema.shared_fields import (
    MUTATION_INPUT,
    created_at,
    error_code,
    error_field,
    error_message,
    node_id,
    payload_errors,
    payload_record,
    updated_at,
)

described_enum(
    CustomFieldRecordType,
    "CustomFieldRecordType",
    "Records with custom fields.",
    {
        "CONTACT": "Contacts.",
        "CUSTOMER": "Customers.",
        "LEAD": "Leads.",
        "DEAL": "Deals.",
        "CALLING_TASK": "Calling tasks.",
    },
)
described_enum(
    CustomFieldType,
    "CustomFieldType",
    "What a custom field holds.",
    {
        "TEXT": "Text, up to the field's maximum length.",
        "NUMBER": "A number, within the field's range.",
        "DATE": "A calendar date.",
        "BOOLEAN": "Yes or no.",
        "CHOICE": "One of the field's choices.",
        "MULTI_CHOICE": "Any number of the field's choices.",
    },
)
error_code_enum(CustomFieldErrorCode, "CustomFieldErrorCode", "custom fields")
SORTABLE = (
    "Lists can be ordered by it through an index: at most three number, date and yes/no "
    "fields and three text and choice fields per record type (contacts only, so far: else "
    "INVALID, or TOO_MANY). Marking one fills its records' sort keys in batches."
)


@strawberry.type(description="A typed field an admin added to one record type.")
class CustomField(relay.Node):
    id: relay.NodeID[str] = node_id()
    record_type: CustomFieldRecordType = strawberry.field(
        description="The kind of record it belongs to."
    )
    key: str = strawberry.field(description="The field's name in inputs, filters and values.")
    label: str = strawberry.field(description="What users see, e.g. Contract end.")
    type: CustomFieldType = strawberry.field(description="What it holds.")
    choices: list[str] = strawberry.field(description="Allowed values of (multi-)choice fields.")
    required: bool = strawberry.field(description="Whether records must have a value.")
    max_length: int | None = strawberry.field(description="Longest text value (default 500).")
    min_value: float | None = strawberry.field(
        description="The smallest number allowed (NUMBER fields), if any."
    )
    max_value: float | None = strawberry.field(
        description="The largest number allowed (NUMBER fields), if any."
    )
    position: int = strawberry.field(description="Place in the record type's form.")
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, CustomFieldRecord))

    @strawberry.field(description="Archived fields keep their values but are not shown.")
    def archived(self, root: strawberry.Parent[CustomFieldRecord]) -> bool:
        return root.archived_at is not None

    @strawberry.field(description="Whether it is sortable: " + SORTABLE)
    def sortable(self, root: strawberry.Parent[CustomFieldRecord]) -> bool:
        return root.sort_column is not None

    @strawberry.field(
        description="Records whose sort key the backfill has filled since the field was marked "
        "sortable (0 when it is not)."
    )
    def sort_keys_filled(self, root: strawberry.Parent[CustomFieldRecord]) -> int:
        return root.sort_keys_filled

    @strawberry.field(
        description="Whether every record's sort key is filled: orderings by the field then "
        "read the index; until then they sort the values, with the same results."
    )
    def sort_index_ready(self, root: strawberry.Parent[CustomFieldRecord]) -> bool:
        return root.sort_column is not None and root.sort_ready_at is not None


@strawberry.type(
    description="A record's value of one custom field: the member of the field's type is "
    "set (choices for choice and multi-choice fields), or none when the value is unset."
)
class CustomFieldValue:
    key: str = strawberry.field(description="The field's key.")
    label: str = strawberry.field(description="The field's label.")
    type: CustomFieldType = strawberry.field(
        description="What the field holds: which of the value fields is set."
    )
    text: str | None = strawberry.field(description="The value of a TEXT field.")
    number: float | None = strawberry.field(description="The value of a NUMBER field.")
    date: Date | None = strawberry.field(description="The value of a DATE field.")
    boolean: bool | None = strawberry.field(description="The value of a BOOLEAN field.")
    choices: list[str] = strawberry.field(
        description="The chosen values of a CHOICE (one) or MULTI_CHOICE field."
    )


def as_values(found: list[FieldValue]) -> list[CustomFieldValue]:
    return [
        CustomFieldValue(
            key=value.definition.key,
            label=value.definition.label,
            type=CustomFieldType(value.definition.type),
            text=value.text,
            number=value.number,
            date=value.date,
            boolean=value.boolean,
            choices=value.choices,
        )
        for value in found
    ]


async def custom_field_values(
    context: RequestContext, record_type: CustomFieldRecordType, record_id: UUID
) -> list[CustomFieldValue]:
    """The `customFields` of a record type's GraphQL object (batched by a DataLoader)."""
    return as_values(await resolve.values_of(context, record_type.value, record_id))


@strawberry.input(
    description="A custom field value to write: the key and the member of the field's type "
    "(`choices` with one item for a choice field). None of them clears the value."
)
class CustomFieldValueInput:
    key: str = strawberry.field(description="The field's key (else UNKNOWN_FIELD).")
    text: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="For TEXT fields, at most the field's maximum length.",
    )
    number: float | None = strawberry.field(
        default=strawberry.UNSET, description="For NUMBER fields, within the field's range."
    )
    date: Date | None = strawberry.field(default=strawberry.UNSET, description="For DATE fields.")
    boolean: bool | None = strawberry.field(
        default=strawberry.UNSET, description="For BOOLEAN fields."
    )
    choices: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="For CHOICE (one item) and MULTI_CHOICE fields: each one of its choices.",
    )


@strawberry.input(
    description="A value to compare with: the member of the field's type (`text` for choices)."
)
class CustomFieldOperand:
    text: str | None = strawberry.field(
        default=strawberry.UNSET, description="For text and choice fields."
    )
    number: float | None = strawberry.field(
        default=strawberry.UNSET, description="For number fields."
    )
    date: Date | None = strawberry.field(default=strawberry.UNSET, description="For date fields.")
    boolean: bool | None = strawberry.field(
        default=strawberry.UNSET, description="For boolean fields."
    )


@strawberry.input(
    description="Conditions on one custom field, all of which must hold. For a multi-choice "
    "field they hold when one of the chosen values meets them."
)
class CustomFieldCondition:
    key: str = strawberry.field(description="The custom field's key.")
    equals: CustomFieldOperand | None = strawberry.field(
        default=strawberry.UNSET, description="The value must be this."
    )
    at_least: CustomFieldOperand | None = strawberry.field(
        default=strawberry.UNSET, description="Numbers and dates, inclusive."
    )
    at_most: CustomFieldOperand | None = strawberry.field(
        default=strawberry.UNSET, description="Numbers and dates, inclusive."
    )
    any_of: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Choice, multi-choice and text fields."
    )
    contains: str | None = strawberry.field(
        default=strawberry.UNSET, description="Text fields, case-insensitive."
    )
    is_set: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Whether the record has a value at all."
    )


@strawberry.type(description="A problem with the input; nothing was changed.")
class CustomFieldError:
    field: str | None = error_field()
    code: CustomFieldErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class CustomFieldPayload:
    custom_field: CustomField | None = payload_record("custom field")
    errors: list[CustomFieldError] = payload_errors()


@strawberry.input(
    description="A new custom field (at most 100 per record type). Errors: REQUIRED, "
    "TOO_LONG, TOO_MANY, INVALID, DUPLICATE_KEY, FORBIDDEN."
)
class DefineCustomFieldInput:
    record_type: CustomFieldRecordType = strawberry.field(
        description="The kind of record it belongs to."
    )
    key: str = strawberry.field(description="Lower case letters, digits and _, e.g. budget.")
    label: str = strawberry.field(description="1 to 100 characters.")
    type: CustomFieldType = strawberry.field(description="What it holds; it never changes.")
    choices: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="For CHOICE and MULTI_CHOICE: at most 100, each 1 to 100 characters.",
    )
    required: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Records must then have a value."
    )
    max_length: int | None = strawberry.field(
        default=strawberry.UNSET, description="For TEXT: 1 to 500 characters."
    )
    min_value: float | None = strawberry.field(
        default=strawberry.UNSET, description="For NUMBER: the smallest value allowed."
    )
    max_value: float | None = strawberry.field(
        default=strawberry.UNSET, description="For NUMBER: the largest value allowed."
    )
    position: int | None = strawberry.field(
        default=strawberry.UNSET, description="Defaults to after the last field."
    )
    sortable: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description=SORTABLE,
    )


@strawberry.input(
    description="Fields left out are unchanged; key, record type and type never change."
)
class UpdateCustomFieldInput:
    id: relay.GlobalID = node_id()
    label: str | None = strawberry.field(
        default=strawberry.UNSET, description="1 to 100 characters."
    )
    choices: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="The whole list (a choice records hold cannot go: CHOICE_IN_USE).",
    )
    required: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Records must then have a value."
    )
    max_length: int | None = strawberry.field(
        default=strawberry.UNSET, description="1 to 500 characters."
    )
    min_value: float | None = strawberry.field(
        default=strawberry.UNSET, description="The smallest value allowed."
    )
    max_value: float | None = strawberry.field(
        default=strawberry.UNSET, description="The largest value allowed."
    )
    position: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Its place among the record type's fields, 0 to 10,000.",
    )
    sortable: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description=SORTABLE + " False frees its place for another field.",
    )


@strawberry.input(description="The custom field to archive: it is hidden and its values kept.")
class ArchiveCustomFieldInput:
    id: relay.GlobalID = node_id()


def _payload(outcome: Outcome[CustomFieldRecord]) -> CustomFieldPayload:
    return CustomFieldPayload(
        custom_field=outcome.value,  # type: ignore[arg-type]
        errors=errors_as(CustomFieldError, outcome.errors),
    )


@strawberry.type
class CustomFieldQuery:
    @strawberry.field(description="The agency's custom fields (of one record type), in form order.")
    async def custom_fields(
        self,
        info: Info,
        record_type: Annotated[
            CustomFieldRecordType | None,
            strawberry.argument(description="Only this record type; all when left out."),
        ] = None,
        include_archived: Annotated[
            bool, strawberry.argument(description="Also the archived fields.")
        ] = False,
    ) -> list[CustomField]:
        kind = record_type.value if record_type is not None else None
        return await resolve.custom_fields_list(info.context, kind, include_archived)  # type: ignore[return-value]


@strawberry.type
class CustomFieldMutation:
    @strawberry.mutation(description="Admins and sysadmins add a typed field to a record type.")
    async def define_custom_field(
        self, info: Info, input: Annotated[DefineCustomFieldInput, MUTATION_INPUT]
    ) -> CustomFieldPayload:
        return _payload(await resolve.define_custom_field(info.context, input))

    @strawberry.mutation(description="Change a field's label, choices, limits or position.")
    async def update_custom_field(
        self, info: Info, input: Annotated[UpdateCustomFieldInput, MUTATION_INPUT]
    ) -> CustomFieldPayload:
        return _payload(await resolve.update_custom_field(info.context, input))

    @strawberry.mutation(description="Hide a field; its values are kept, its key stays taken.")
    async def archive_custom_field(
        self, info: Info, input: Annotated[ArchiveCustomFieldInput, MUTATION_INPUT]
    ) -> CustomFieldPayload:
        return _payload(await resolve.archive_custom_field(info.context, input.id))
