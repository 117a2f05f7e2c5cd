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
from schema.enum_values import error_code_enum
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

strawberry.enum(
    CustomFieldRecordType, name="CustomFieldRecordType", description="Records with custom fields."
)
strawberry.enum(CustomFieldType, name="CustomFieldType", description="What a custom field holds.")
error_code_enum(CustomFieldErrorCode, "CustomFieldErrorCode", "custom fields")


@strawberry.type(description="A typed field an admin added to one record type.")
class CustomField(relay.Node):
    id: relay.NodeID[str] = node_id()
    record_type: CustomFieldRecordType
    key: str = strawberry.field(description="The field's name in inputs, filters and values.")
    label: str
    type: CustomFieldType
    choices: list[str] = strawberry.field(description="Allowed values of (multi-)choice fields.")
    required: bool
    max_length: int | None = strawberry.field(description="Longest text value (default 500).")
    min_value: float | None
    max_value: float | None
    position: int = strawberry.field(description="Place in the record type's form.")
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, CustomFieldRecord))

    @strawberry.field(description="Archived fields keep their values but are not shown.")
    def archived(self, root: strawberry.Parent[CustomFieldRecord]) -> bool:
        return root.archived_at is not None


@strawberry.type(
    description="A record's value of one custom field: the member of the field's type is "
    "set (choices for choice and multi-choice fields), or none when the value is unset."
)
class CustomFieldValue:
    key: str
    label: str
    type: CustomFieldType
    text: str | None
    number: float | None
    date: Date | None
    boolean: bool | None
    choices: list[str]


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
    key: str
    text: str | None = strawberry.UNSET
    number: float | None = strawberry.UNSET
    date: Date | None = strawberry.UNSET
    boolean: bool | None = strawberry.UNSET
    choices: list[str] | None = strawberry.UNSET


@strawberry.input(
    description="A value to compare with: the member of the field's type (`text` for choices)."
)
class CustomFieldOperand:
    text: str | None = strawberry.UNSET
    number: float | None = strawberry.UNSET
    date: Date | None = strawberry.UNSET
    boolean: bool | None = strawberry.UNSET


@strawberry.input(
    description="Conditions on one custom field, all of which must hold. For a multi-choice "
    "field they hold when one of the chosen values meets them."
)
class CustomFieldCondition:
    key: str
    equals: CustomFieldOperand | None = strawberry.UNSET
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


@strawberry.input
class DefineCustomFieldInput:
    record_type: CustomFieldRecordType
    key: str = strawberry.field(description="Lower case letters, digits and _, e.g. budget.")
    label: str
    type: CustomFieldType
    choices: list[str] | None = strawberry.UNSET
    required: bool | None = strawberry.UNSET
    max_length: int | None = strawberry.UNSET
    min_value: float | None = strawberry.UNSET
    max_value: float | None = strawberry.UNSET
    position: int | None = strawberry.field(
        default=strawberry.UNSET, description="Defaults to after the last field."
    )


@strawberry.input(
    description="Fields left out are unchanged; key, record type and type never change."
)
class UpdateCustomFieldInput:
    id: relay.GlobalID = node_id()
    label: str | None = strawberry.UNSET
    choices: list[str] | None = strawberry.UNSET
    required: bool | None = strawberry.UNSET
    max_length: int | None = strawberry.UNSET
    min_value: float | None = strawberry.UNSET
    max_value: float | None = strawberry.UNSET
    position: int | None = strawberry.UNSET


@strawberry.input
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
        record_type: CustomFieldRecordType | None = None,
        include_archived: bool = False,
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
