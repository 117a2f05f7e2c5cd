"""The timeline (360 view) of a contact, a customer, a lead or a deal: everything about it in
one feed, newest first, keyset-paginated.

Where the entries come from, and why not from the event log alone
-----------------------------------------------------------------
The event log records every change, but each event names the record it *changed*: a note's
events name the note, a calling task's name the task, an email sent by a flow has no event at
all. Reading "the record's events" would need a subject column on every event (a change to
`append_event` and every caller) and would show history, not the things themselves: a note
edited three times would be four entries, a deleted note would still show.

So each kind of entry is read from its source of truth, and the log is used for what only it
holds, the history of statuses:

- note: the record's live `note` rows, at their creation;
- document: the record's live `document` rows, at their upload;
- calling task (tasks and calls): live `calling_task` rows about the record that the caller
  may read, at their creation (a task names a contact or a customer, and perhaps a lead or a
  deal);
- meeting: live `meeting` rows with the record's contact, lead or deal that the caller may
  read, at their proposal;
- status change: the record's `<type>.transitioned` events (a deal's stage moves are its
  `deal.transitioned` events), the `calling_task.transitioned` events of those tasks (a
  call done or aborted) and the events of those meetings (`meeting.booked`, `.held`, ...),
  when they occurred;
- email: the record's `message` rows (sent, skipped with the reason, failed or still queued),
  when they were written (flows and people message contacts and customers, so a lead or a
  deal has none);
- received email: mail from the record's people (`inbound_email_link` rows: a message from a
  contact is linked to the contact and to its customers, open leads and open deals), when
  it arrived;
- ticket: live `ticket` rows of the record (a contact's or a customer's) that the caller may
  read, at their creation; their status changes with the record's. A ticket's own timeline
  holds its internal notes, its public replies (`message` rows about the ticket) and its
  status changes;
- flow stopped: the record's `flow_run` rows that a `stop_when` condition ended (a nurture
  sequence the contact replied to), when they ended, with the condition as the reason. Runs
  that simply end are not news on a timeline; the flow runs API lists every run.

Each source is read with the same keyset, (at, kind, id) descending, at most `first + 1` rows
each, and the results are merged: a page costs one query per source, however far down the
feed, and rows inserted while a client pages (newer ones) never shift or repeat an entry.
Who may see it: whoever may read the record sees its timeline; calling tasks (and their status
changes) are further limited to the tasks the caller may read, as everywhere else.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from db.calling_tasks import CallingTask
from db.documents import Document
from db.events import Event
from db.flow_runs import FlowRun
from db.inbound_emails import InboundEmailLink
from db.meetings import Meeting
from db.messages import Message
from db.notes import Note
from db.tickets import Ticket
from domain.actors import Actor
from domain.attachments import check_readable
from domain.errors import DomainError
from domain.flows.definitions import FlowRunStatus
from domain.meetings import EVENT_TYPES as MEETING_EVENT_TYPES
from domain.pagination import PageErrorCode, check_page_size
from domain.policies import scope
from domain.roles import Access, Resource, RowScope
from domain.sales_records import scoped


class TimelineErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"


class EntryKind(StrEnum):
    """In tie-break order: at the same instant, a later kind comes first."""

    RECEIVED_EMAIL = "received_email"
    EMAIL = "email"
    STATUS_CHANGE = "status_change"
    CALLING_TASK = "calling_task"
    MEETING = "meeting"
    TICKET = "ticket"
    DOCUMENT = "document"
    NOTE = "note"
    FLOW_STOPPED = "flow_stopped"


_RANK = {kind: rank for rank, kind in enumerate(EntryKind)}
_INTEGER_IDS = frozenset(
    {EntryKind.EMAIL, EntryKind.STATUS_CHANGE, EntryKind.RECEIVED_EMAIL, EntryKind.FLOW_STOPPED}
)


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    kind: EntryKind
    at: datetime
    item: Any  # Note, Document, CallingTask, Meeting, Ticket, Event, Message, InboundEmailLink...

    @property
    def sort_key(self) -> tuple[datetime, int, Any]:
        return (self.at, _RANK[self.kind], self.item.pk)


@dataclass(frozen=True, slots=True)
class TimelinePage:
    entries: list[TimelineEntry]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


@dataclass(frozen=True, slots=True)
class _Position:
    at: datetime
    kind: EntryKind
    pk: UUID | int


def encode_cursor(entry: TimelineEntry) -> str:
    raw = json.dumps([entry.at.isoformat(), entry.kind.value, str(entry.item.pk)])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> _Position:
    try:
        at, kind_value, pk = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        kind = EntryKind(kind_value)
        key: UUID | int = int(pk) if kind in _INTEGER_IDS else UUID(pk)
        return _Position(datetime.fromisoformat(at), kind, key)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise DomainError(
            PageErrorCode.INVALID_CURSOR, "The cursor is not one this API gave out.", "after"
        ) from exc


def _after(query: QuerySet[Any], kind: EntryKind, at_field: str, after: _Position) -> Any:
    """Rows of one source that come after the cursor in (at, kind, id) descending order."""
    before: dict[str, Any] = {f"{at_field}__lt": after.at}
    if _RANK[kind] < _RANK[after.kind]:
        return query.filter(**{f"{at_field}__lte": after.at})
    if _RANK[kind] > _RANK[after.kind]:
        return query.filter(**before)
    same_instant: dict[str, Any] = {at_field: after.at, "id__lt": after.pk}
    return query.filter(Q(**before) | Q(**same_instant))


async def _read(
    kind: EntryKind,
    query: QuerySet[Any],
    at_field: str,
    first: int,
    after: _Position | None,
) -> list[TimelineEntry]:
    if after is not None:
        query = _after(query, kind, at_field, after)
    rows = await query.order_by(f"-{at_field}", "-id").limit(first + 1)
    return [TimelineEntry(kind, getattr(row, at_field), row) for row in rows]


@dataclass(frozen=True, slots=True)
class _RecordsAbout:
    """Records about a record (its calling tasks, its meetings): an entry each, and their
    status changes among the record's."""

    kind: EntryKind
    aggregate: str
    model: type[Model]
    owner_field: str
    links: dict[str, str]  # record type -> the column naming it
    status_events: tuple[str, ...]
    resource: Resource = Resource.SALES_RECORDS


_RECORDS_ABOUT = (
    _RecordsAbout(
        EntryKind.CALLING_TASK,
        "calling_task",
        CallingTask,
        "assignee_id",
        {"contact": "contact_id", "customer": "customer_id", "lead": "lead_id", "deal": "deal_id"},
        ("calling_task.transitioned",),
    ),
    _RecordsAbout(
        EntryKind.MEETING,
        "meeting",
        Meeting,
        "owner_id",
        {"contact": "contact_id", "lead": "lead_id", "deal": "deal_id"},
        tuple(MEETING_EVENT_TYPES.values()),
    ),
    _RecordsAbout(
        EntryKind.TICKET,
        "ticket",
        Ticket,
        "assignee_id",
        {"contact": "contact_id", "customer": "customer_id"},
        ("ticket.transitioned",),
        Resource.TICKETS,
    ),
)


async def timeline(
    actor: Actor, record_type: str, record_id: UUID, first: int, after: str | None = None
) -> TimelinePage:
    """One page of the record's timeline, newest first."""
    check_page_size(first)
    position = decode_cursor(after) if after is not None else None
    await check_readable(actor, record_type, record_id, TimelineErrorCode, "record_id")
    about = {"agency_id": actor.agency_id, "record_type": record_type, "record_id": record_id}
    sources: list[tuple[EntryKind, QuerySet[Any], str]] = [
        (EntryKind.NOTE, Note.filter(**about, deleted_at__isnull=True), "created_at"),
        (EntryKind.DOCUMENT, Document.filter(**about, deleted_at__isnull=True), "created_at"),
    ]
    status_changes = Q(
        aggregate_type=record_type,
        aggregate_id=str(record_id),
        type=f"{record_type}.transitioned",
    )
    for about_it in _RECORDS_ABOUT:
        link = about_it.links.get(record_type)
        if link is None or scope(actor, about_it.resource, Access.READ) is RowScope.NONE:
            continue
        related = scoped(
            about_it.model, actor, Access.READ, about_it.owner_field, about_it.resource
        )
        related = related.filter(**{link: record_id})
        sources.append((about_it.kind, related, "created_at"))
        related_ids = [str(i) for i in await related.values_list("id", flat=True)]
        if related_ids:
            status_changes |= Q(
                aggregate_type=about_it.aggregate,
                aggregate_id__in=related_ids,
                type__in=list(about_it.status_events),
            )
    sources.append(
        (
            EntryKind.STATUS_CHANGE,
            Event.filter(status_changes, agency_id=actor.agency_id),
            "occurred_at",
        )
    )
    messages = Message.filter(**{**about, "record_id": str(record_id)})
    sources.append((EntryKind.EMAIL, messages, "created_at"))
    received = InboundEmailLink.filter(**{**about, "record_id": str(record_id)}).select_related(
        "inbound_email"
    )
    sources.append((EntryKind.RECEIVED_EMAIL, received, "received_at"))
    stopped = FlowRun.filter(**{**about, "record_id": str(record_id)}, status=FlowRunStatus.STOPPED)
    sources.append((EntryKind.FLOW_STOPPED, stopped, "finished_at"))
    candidates: list[TimelineEntry] = []
    for kind, query, at_field in sources:
        candidates += await _read(kind, query, at_field, first, position)
    return _page(candidates, first, position is not None)


def _page(candidates: Sequence[TimelineEntry], first: int, after_given: bool) -> TimelinePage:
    ordered = sorted(candidates, key=lambda entry: entry.sort_key, reverse=True)
    entries = ordered[:first]
    return TimelinePage(
        entries=entries,
        cursors=[encode_cursor(entry) for entry in entries],
        has_next_page=len(ordered) > first,
        has_previous_page=after_given,
    )
