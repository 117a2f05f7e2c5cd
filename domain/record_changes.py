"""A change to a record, written twice in its transaction: an audit row and a domain event.

The audit row keeps who changed what (before and after); the event is what subscribers,
webhooks and flows hear. Services write the pair through these helpers, so each kind of change
has one spelling: actions `create`, `update`, `transition:<event>` and `delete`, event types
`<aggregate>.created`, `.updated`, `.transitioned` and `.deleted`. A record whose events
are named by what happened (a meeting: `meeting.proposed`, `meeting.booked`) passes
`event_type` instead.
"""

from __future__ import annotations

from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from domain.actors import Actor
from domain.audit import record_audit
from domain.events import append_event


async def record_created(
    actor: Actor,
    aggregate: str,
    record_id: str,
    after: dict[str, Any],
    conn: BaseDBAsyncClient,
    event_type: str | None = None,
) -> None:
    """A new record: nothing before, its snapshot after and in the event."""
    await record_audit(actor, aggregate, record_id, "create", {}, after, conn)
    kind = event_type or f"{aggregate}.created"
    await append_event(actor, kind, aggregate, record_id, after, conn)


async def record_updated(
    actor: Actor,
    aggregate: str,
    record_id: str,
    old: dict[str, Any],
    new: dict[str, Any],
    conn: BaseDBAsyncClient,
) -> None:
    """Changed fields: their old and new values audited, the new ones as the event's `changes`."""
    await record_audit(actor, aggregate, record_id, "update", old, new, conn)
    await append_event(actor, f"{aggregate}.updated", aggregate, record_id, {"changes": new}, conn)


async def record_transitioned(
    actor: Actor,
    aggregate: str,
    record_id: str,
    event: str,
    audited: tuple[dict[str, Any], dict[str, Any]],
    change: dict[str, Any],
    conn: BaseDBAsyncClient,
    event_type: str | None = None,
) -> None:
    """A lifecycle event applied: the fields it changed (old, new) audited, and `change`
    (`{event, from, to, ...}`) as the event's payload."""
    old, new = audited
    await record_audit(actor, aggregate, record_id, f"transition:{event}", old, new, conn)
    kind = event_type or f"{aggregate}.transitioned"
    await append_event(actor, kind, aggregate, record_id, change, conn)


async def record_deleted(
    actor: Actor, aggregate: str, record_id: str, before: dict[str, Any], conn: BaseDBAsyncClient
) -> None:
    """A (soft) deleted record: its last snapshot audited; the event carries nothing."""
    await record_audit(actor, aggregate, record_id, "delete", before, {}, conn)
    await append_event(actor, f"{aggregate}.deleted", aggregate, record_id, {}, conn)
