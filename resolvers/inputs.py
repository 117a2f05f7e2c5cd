"""Turning Strawberry input objects into the plain dicts domain commands validate."""

from __future__ import annotations

import dataclasses
from typing import Any
from uuid import UUID

from strawberry import UNSET, relay


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


def node_uuid(global_id: relay.GlobalID | str, type_name: str) -> UUID | None:
    """The UUID inside a Relay global id of `type_name`, or None if it is not one."""
    try:
        gid = (
            global_id
            if isinstance(global_id, relay.GlobalID)
            else relay.GlobalID.from_id(global_id)
        )
        if gid.type_name != type_name:
            return None
        return UUID(gid.node_id)
    except (ValueError, TypeError):
        return None
