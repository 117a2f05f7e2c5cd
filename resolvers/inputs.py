"""Turning Strawberry input objects into the plain values domain commands validate."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from enum import StrEnum
from typing import Any
from uuid import UUID

from strawberry import UNSET, relay

from domain.errors import DomainError


def given(value: Any) -> Any:
    """Input objects as dicts of only the fields the client sent (UNSET dropped)."""
    if isinstance(value, relay.GlobalID):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: given(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if getattr(value, f.name) is not UNSET
        }
    if isinstance(value, list):
        return [given(item) for item in value]
    return value


def node_uuid(global_id: relay.GlobalID, type_name: str, codes: type[StrEnum]) -> UUID:
    """The UUID inside a Relay global id of `type_name`; NOT_FOUND if it is not one."""
    if global_id.type_name == type_name:
        try:
            return UUID(global_id.node_id)
        except ValueError:
            pass
    raise DomainError(codes("NOT_FOUND"), f"No {type_name} with id {global_id}.", "id")


def with_node_ids(
    data: dict[str, Any], codes: type[StrEnum], links: Mapping[str, str]
) -> dict[str, Any]:
    """Replace the global ids in an input dict by UUIDs; `links` maps each field to the type
    its id must name (`{"owner_id": "User"}`). A wrong id is NOT_FOUND on that field."""
    converted = dict(data)
    for field, type_name in links.items():
        value = converted.get(field)
        if isinstance(value, relay.GlobalID):
            try:
                converted[field] = node_uuid(value, type_name, codes)
            except DomainError as exc:
                raise DomainError(exc.code, f"No such {type_name}.", field) from exc
    return converted


def with_user_ids(data: dict[str, Any], codes: type[StrEnum], *fields: str) -> dict[str, Any]:
    """Replace `User` global ids in `fields` of an input dict by their UUIDs."""
    return with_node_ids(data, codes, dict.fromkeys(fields, "User"))


# GraphQL type name -> record type (as in events) of the records notes and documents attach to.
ATTACHABLE_TYPES = {
    "Contact": "contact",
    "Customer": "customer",
    "Lead": "lead",
    "Deal": "deal",
    "Ticket": "ticket",
}


def attachable_record(
    global_id: relay.GlobalID, codes: type[StrEnum], field: str = "record_id"
) -> tuple[str, UUID]:
    """The record type and UUID of a Contact, Customer, Lead or Deal global id; NOT_FOUND
    otherwise."""
    record_type = ATTACHABLE_TYPES.get(global_id.type_name)
    if record_type is not None:
        try:
            return record_type, UUID(global_id.node_id)
        except ValueError:
            pass
    message = f"No contact, customer, lead, deal or ticket with id {global_id}."
    raise DomainError(codes("NOT_FOUND"), message, field)


def document_record(
    global_id: relay.GlobalID, codes: type[StrEnum], field: str = "record_id"
) -> tuple[str, UUID]:
    """What a document may be on: a sales record, the agency itself (its logo), or a user
    (their picture)."""
    if global_id.type_name in ("Agency", "User"):
        try:
            return global_id.type_name.lower(), UUID(global_id.node_id)
        except ValueError:
            pass
    return attachable_record(global_id, codes, field)


# GraphQL type name -> record type of the records messages go to.
RECIPIENT_TYPES = {"Contact": "contact", "Customer": "customer"}


def recipient_record(
    global_id: relay.GlobalID, codes: type[StrEnum], field: str = "record_id"
) -> tuple[str, UUID]:
    """The record type and UUID of a Contact or Customer global id; NOT_FOUND otherwise."""
    record_type = RECIPIENT_TYPES.get(global_id.type_name)
    if record_type is not None:
        try:
            return record_type, UUID(global_id.node_id)
        except ValueError:
            pass
    raise DomainError(codes("NOT_FOUND"), f"No contact or customer with id {global_id}.", field)
