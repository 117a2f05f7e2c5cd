"""Following the event log: replay after a cursor from the table, then live, authorised per event.

The cursor is an opaque string over the event id. A subscription joins the live fan-out
(`domain.live_events`) *before* it reads its backlog: the backlog is read from the table up to
the id where its live queue starts, and the live part skips ids already passed. Every event
then goes through `domain.event_visibility` with the subscriber's actor, re-read from the
database every `reauth_seconds` while events flow, so revoked keys and ended sessions stop.

Live events reach every subscriber of the agency at once, so both checks are shared: a
viewer's visibility of a live batch is decided once for all subscriptions of the same viewer
(the same agency, user or key, roles, team and scopes: everything the decision reads), and
one session's or key's re-check serves all subscriptions made with it. Each subscription
still gets only what its own viewer may see, and a check at most `reauth_seconds` old.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from db.events import Event as Event
from domain.actors import Actor, ApiScope
from domain.auth import current_actor
from domain.errors import DomainError, input_errors
from domain.event_types import EventTypePattern, event_type_filter, event_type_matches
from domain.event_visibility import RECORD_TYPES, record_types_seen_by, visible_events
from domain.live_events import EventSubscriber, LiveEvents, SharedWork, SubscriberTooSlow

BATCH_SIZE = 100
DEFAULT_REAUTH_SECONDS = 30.0
_CURSOR_PREFIX = "event:"


class EventStreamErrorCode(StrEnum):
    INVALID_CURSOR = "INVALID_CURSOR"
    INVALID_FILTER = "INVALID_FILTER"
    FORBIDDEN = "FORBIDDEN"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    SUBSCRIBER_TOO_SLOW = "SUBSCRIBER_TOO_SLOW"


def event_cursor(event_id: int) -> str:
    """The opaque cursor of an event: resume `after` it to get every later one."""
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{event_id}".encode()).decode()


def cursor_position(cursor: str) -> int:
    """The event id inside a cursor this API gave out; INVALID_CURSOR otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        if raw.startswith(_CURSOR_PREFIX):
            position = int(raw.removeprefix(_CURSOR_PREFIX))
            if position >= 0:
                return position
    except (ValueError, binascii.Error, UnicodeError):
        pass
    raise DomainError(
        EventStreamErrorCode.INVALID_CURSOR, "The cursor is not one this API gave out.", "after"
    )


RecordId = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)]


class EventCriteria(BaseModel):
    """What a subscriber wants; each given list narrows the stream (all must match)."""

    model_config = ConfigDict(extra="forbid")

    record_types: Annotated[list[str], Field(min_length=1, max_length=50)] | None = None
    record_ids: Annotated[list[RecordId], Field(min_length=1, max_length=100)] | None = None
    event_types: Annotated[list[EventTypePattern], Field(min_length=1, max_length=50)] | None = None


@dataclass(frozen=True)
class EventStreamPlan:
    """A checked subscription request: who follows which events from where."""

    actor: Actor
    after: int | None
    record_types: frozenset[str]
    record_ids: frozenset[str] | None = None
    event_types: list[str] | None = None
    reauth_seconds: float = DEFAULT_REAUTH_SECONDS

    def accepts(self, event: Event) -> bool:
        """The cheap, in-memory part of the filter, applied before anything is queued."""
        return (
            event.aggregate_type in self.record_types
            and (self.record_ids is None or event.aggregate_id in self.record_ids)
            and (self.event_types is None or event_type_matches(self.event_types, event.type))
        )

    async def backlog(self, after: int, up_to: int, limit: int) -> list[Event]:
        """Events of the plan in (after, up_to], from the table, oldest first."""
        query = Event.filter(
            agency_id=self.actor.agency_id,
            id__gt=after,
            id__lte=up_to,
            aggregate_type__in=sorted(self.record_types),
        )
        if self.record_ids is not None:
            query = query.filter(aggregate_id__in=sorted(self.record_ids))
        if self.event_types is not None:
            query = query.filter(event_type_filter(self.event_types))
        return await query.order_by("id").limit(limit)


def plan_event_stream(
    actor: Actor,
    after: str | None,
    criteria: dict[str, Any] | None,
    reauth_seconds: float = DEFAULT_REAUTH_SECONDS,
) -> EventStreamPlan:
    """Check a subscription request: the cursor, the filter and the actor's access."""
    if actor.api_scopes is not None and ApiScope.SUBSCRIBE not in actor.api_scopes:
        raise DomainError(EventStreamErrorCode.FORBIDDEN, "This API key lacks the SUBSCRIBE scope.")
    position = cursor_position(after) if after is not None else None
    try:
        where = EventCriteria.model_validate(criteria or {})
    except ValidationError as exc:
        raise input_errors(exc, {}, EventStreamErrorCode.INVALID_FILTER) from exc
    unknown = sorted(set(where.record_types or ()) - set(RECORD_TYPES))
    if unknown:
        raise DomainError(
            EventStreamErrorCode.INVALID_FILTER,
            f"Unknown record types {unknown}; known: {sorted(RECORD_TYPES)}.",
            "filter.record_types",
        )
    seen = record_types_seen_by(actor)
    wanted = seen & set(where.record_types) if where.record_types is not None else seen
    if not wanted:
        raise DomainError(
            EventStreamErrorCode.FORBIDDEN, "You may not see events of these record types."
        )
    return EventStreamPlan(
        actor=actor,
        after=position,
        record_types=frozenset(wanted),
        record_ids=frozenset(where.record_ids) if where.record_ids is not None else None,
        event_types=where.event_types,
        reauth_seconds=reauth_seconds,
    )


def viewer_of(actor: Actor) -> Actor:
    """The actor without what differs between two connections of one viewer (the request, the
    session): two subscriptions see the same events exactly when their viewers are equal."""
    return replace(actor, request_id="", session_id=None, portal_session_id=None)


class _Access:
    """The subscriber's actor, re-read from the database now and then while events flow; the
    re-read is shared with the other subscriptions of the same session or key."""

    def __init__(self, actor: Actor, every_seconds: float, checks: SharedWork) -> None:
        self.actor = actor
        self.viewer = viewer_of(actor)
        self._every = every_seconds
        self._checks = checks
        self._checked = time.monotonic()

    async def current(self) -> Actor:
        if time.monotonic() - self._checked >= self._every:
            # The same check for every connection of this session or key (request id aside).
            session = replace(self.actor, request_id="")
            refreshed = await self._checks.answer(
                session, lambda: current_actor(session), max_age=self._every
            )
            if refreshed is None:
                raise DomainError(
                    EventStreamErrorCode.UNAUTHENTICATED,
                    "The session has ended or the API key was revoked; sign in again.",
                )
            self.actor = replace(refreshed, request_id=self.actor.request_id)
            self.viewer, self._checked = viewer_of(self.actor), time.monotonic()
        return self.actor


async def _visible_live(
    access: _Access, subscriber: EventSubscriber, events: Sequence[Event]
) -> list[Event]:
    """The live events the subscriber's viewer may see, decided once per viewer and batch."""
    actor = await access.current()
    key = (access.viewer, tuple(event.id for event in events))
    return await subscriber.batch_work.answer(key, lambda: visible_events(actor, events))


async def follow_events(plan: EventStreamPlan, live: LiveEvents) -> AsyncGenerator[Event, None]:
    """The plan's events: those after its cursor from the table, then the live ones.

    Raises DomainError(SUBSCRIBER_TOO_SLOW) with `details["cursor"]` when the subscriber's
    queue overflowed; resuming `after` that cursor misses nothing.
    """
    access = _Access(plan.actor, plan.reauth_seconds, live.access_checks)
    subscriber = await live.subscribe(plan.actor.agency_id, plan.accepts)
    position = subscriber.start if plan.after is None else plan.after
    try:
        while position < subscriber.start:
            rows = await plan.backlog(position, subscriber.start, BATCH_SIZE)
            if not rows:
                break
            for event in await visible_events(await access.current(), rows):
                yield event
            position = rows[-1].id
        # Everything up to the live queue's start is delivered (or not for this subscriber).
        position = max(position, subscriber.start)
        while True:
            fresh = [event for event in await subscriber.take(BATCH_SIZE) if event.id > position]
            if not fresh:
                continue
            for event in await _visible_live(access, subscriber, fresh):
                yield event
            position = fresh[-1].id
    except SubscriberTooSlow as exc:
        cursor = event_cursor(position)
        raise DomainError(
            EventStreamErrorCode.SUBSCRIBER_TOO_SLOW,
            f"Events arrived faster than this client read them; resume with after: {cursor}.",
            details={"cursor": cursor},
        ) from exc
    finally:
        live.unsubscribe(subscriber)
