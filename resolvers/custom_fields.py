"""Custom field resolvers: thin calls into domain.custom_fields, and the values of a record
through the request's DataLoader."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from strawberry import relay

from domain import custom_fields
from domain.custom_field_queries import CustomFieldOrdering
from domain.custom_field_values import FieldValue
from domain.custom_fields import CustomField, CustomFieldErrorCode
from domain.pagination import Ordering
from resolvers.context import RequestContext, actor_of, loaders_of
from resolvers.errors import Outcome, answer, attempt
from resolvers.inputs import given, node_uuid

TYPE_NAME = "CustomField"


def _id(global_id: relay.GlobalID) -> UUID:
    return node_uuid(global_id, TYPE_NAME, CustomFieldErrorCode)


async def custom_fields_list(
    context: RequestContext, record_type: str | None, include_archived: bool
) -> list[CustomField]:
    actor = actor_of(context)
    record_types = [record_type] if record_type is not None else None
    return await answer(custom_fields.list_custom_fields(actor, record_types, include_archived))


async def define_custom_field(context: RequestContext, data: Any) -> Outcome[CustomField]:
    actor = actor_of(context)
    return await attempt(
        CustomFieldErrorCode, lambda: custom_fields.define_custom_field(actor, given(data))
    )


async def update_custom_field(context: RequestContext, data: Any) -> Outcome[CustomField]:
    actor = actor_of(context)
    changes = given(data)
    global_id = changes.pop("id")
    return await attempt(
        CustomFieldErrorCode,
        lambda: custom_fields.update_custom_field(actor, _id(global_id), changes),
    )


async def archive_custom_field(
    context: RequestContext, global_id: relay.GlobalID
) -> Outcome[CustomField]:
    actor = actor_of(context)
    return await attempt(
        CustomFieldErrorCode, lambda: custom_fields.archive_custom_field(actor, _id(global_id))
    )


async def values_of(context: RequestContext, record_type: str, record_id: UUID) -> list[FieldValue]:
    """A record's custom field values, batched with every other record of the response."""
    return await loaders_of(context).custom_field_values.load((record_type, record_id))


def record_ordering(
    field: str, descending: bool, custom_field: str | None
) -> Ordering | CustomFieldOrdering:
    """A list's ordering: by a custom field's value when one is named, else by the column."""
    if custom_field is not None:
        return CustomFieldOrdering(custom_field, descending)
    return Ordering(field, descending)
