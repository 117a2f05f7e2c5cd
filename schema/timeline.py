"""The timeline (360 view): one feed of a record's notes, documents, calling tasks, status
changes, emails and stopped flow runs, newest first (see `domain.timeline` for where each
entry comes from)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from domain.timeline import EntryKind, TimelinePage
from domain.timeline import TimelineEntry as TimelineEntryRecord
from resolvers import timeline as resolve
from schema.calling_tasks import CallingTask
from schema.documents import Document
from schema.enum_values import described_enum
from schema.flows import FlowRun
from schema.inbound_emails import ReceivedEmail
from schema.meetings import Meeting
from schema.messages import Message
from schema.notes import Note
from schema.shared_fields import After, First
from schema.tickets import Ticket

if TYPE_CHECKING:
    TimelineEntryKindEnum = StrEnum
else:
    TimelineEntryKindEnum = described_enum(
        EntryKind,
        "TimelineEntryKind",
        "What a timeline entry is.",
        {
            "RECEIVED_EMAIL": "Mail the record sent in.",
            "EMAIL": "A message sent to the record.",
            "STATUS_CHANGE": "A lifecycle transition.",
            "CALLING_TASK": "A calling task about the record.",
            "MEETING": "A meeting with the record.",
            "DOCUMENT": "A document attached.",
            "NOTE": "A note.",
            "FLOW_STOPPED": "A flow run ended early by a stop condition.",
            "TICKET": "A support ticket about the record.",
        },
    )

# GraphQL type name of each record type whose status changes appear on a timeline.
_TYPE_NAMES = {
    "contact": "Contact",
    "customer": "Customer",
    "lead": "Lead",
    "deal": "Deal",
    "calling_task": "CallingTask",
    "meeting": "Meeting",
    "ticket": "Ticket",
}


@strawberry.interface(description="One thing that happened to a record.")
class TimelineEntry:
    kind: TimelineEntryKindEnum = strawberry.field(
        description="What the entry is: which type it is."
    )
    at: datetime = strawberry.field(description="When it happened (created, sent, changed).")


@strawberry.type(description="A note written on the record.")
class NoteEntry(TimelineEntry):
    note: Note = strawberry.field(description="The note.")


@strawberry.type(description="A document uploaded to the record.")
class DocumentEntry(TimelineEntry):
    document: Document = strawberry.field(description="The document.")


@strawberry.type(description="A call to make about the record (its status says if it was made).")
class CallingTaskEntry(TimelineEntry):
    calling_task: CallingTask = strawberry.field(description="The calling task.")


@strawberry.type(description="A meeting with the record's contact, about the record.")
class MeetingEntry(TimelineEntry):
    meeting: Meeting = strawberry.field(description="The meeting.")


@strawberry.type(description="A ticket the record's people (or the customer) opened.")
class TicketEntry(TimelineEntry):
    ticket: Ticket = strawberry.field(description="The ticket.")


@strawberry.type(
    description="A lifecycle event applied to the record, or to one of its calling tasks "
    "(a call done or aborted), meetings (booked, held, ...) or tickets (resolved, ...)."
)
class StatusChangeEntry(TimelineEntry):
    subject_id: relay.GlobalID = strawberry.field(
        description="The record that changed: this one, or one of its CallingTasks, Meetings "
        "or Tickets."
    )
    event: str = strawberry.field(description="The lifecycle event, e.g. mark_hot, complete.")
    from_status: str = strawberry.field(description="The status before, as its enum value.")
    to_status: str = strawberry.field(description="The status after, as its enum value.")


@strawberry.type(
    description="A message to the record (a flow's or a person's): sent, skipped (the person "
    "did not agree, or the address bounced), failed, or still queued."
)
class EmailEntry(TimelineEntry):
    message: Message = strawberry.field(description="The message sent.")
    subject: str = strawberry.field(description="Its subject.")
    recipients: list[str] = strawberry.field(description="The addresses it went to.")
    message_id: str = strawberry.field(description="The Message-ID header, once sent.")


@strawberry.type(description="A message received from the record's people.")
class ReceivedEmailEntry(TimelineEntry):
    email: ReceivedEmail = strawberry.field(description="The mail received.")


@strawberry.type(
    description="A flow run on the record that a condition of its `stop_when` ended early "
    "(the contact replied, converted, ...): `flowRun.stopReason` says which."
)
class FlowStoppedEntry(TimelineEntry):
    flow_run: FlowRun = strawberry.field(description="The run that stopped.")


def _item(entry: TimelineEntryRecord) -> TimelineEntry:
    kind, at, item = entry.kind, entry.at, entry.item
    if kind is EntryKind.NOTE:
        return NoteEntry(kind=kind, at=at, note=item)
    if kind is EntryKind.DOCUMENT:
        return DocumentEntry(kind=kind, at=at, document=item)
    if kind is EntryKind.CALLING_TASK:
        return CallingTaskEntry(kind=kind, at=at, calling_task=item)
    if kind is EntryKind.RECEIVED_EMAIL:
        return ReceivedEmailEntry(
            kind=kind, at=at, email=ReceivedEmail.from_row(item.inbound_email)
        )
    if kind is EntryKind.MEETING:
        return MeetingEntry(kind=kind, at=at, meeting=item)
    if kind is EntryKind.TICKET:
        return TicketEntry(kind=kind, at=at, ticket=item)
    if kind is EntryKind.STATUS_CHANGE:
        return StatusChangeEntry(
            kind=kind,
            at=at,
            subject_id=relay.GlobalID(_TYPE_NAMES[item.aggregate_type], item.aggregate_id),
            event=str(item.payload.get("event", "")),
            from_status=str(item.payload.get("from", "")),
            to_status=str(item.payload.get("to", "")),
        )
    if kind is EntryKind.FLOW_STOPPED:
        return FlowStoppedEntry(kind=kind, at=at, flow_run=FlowRun.of(item))
    return EmailEntry(
        kind=kind,
        at=at,
        message=Message.from_row(item),
        subject=item.subject,
        recipients=list(item.recipients),
        message_id=item.message_id,
    )


# Reached only through the interface: the schema lists them (`schema.build_schema`).
ENTRY_TYPES = (
    NoteEntry,
    DocumentEntry,
    CallingTaskEntry,
    MeetingEntry,
    TicketEntry,
    StatusChangeEntry,
    EmailEntry,
    ReceivedEmailEntry,
    FlowStoppedEntry,
)


@strawberry.type(name="TimelineConnection", description="A page of a record's timeline.")
class TimelineConnection(relay.Connection[TimelineEntry]):  # type: ignore[type-var]
    """Entries are not Nodes (they have no id of their own): Relay's edges need none."""


def timeline_connection(page: TimelinePage) -> TimelineConnection:
    edges = [
        relay.Edge(cursor=cursor, node=_item(entry))  # type: ignore[type-var]
        for cursor, entry in zip(page.cursors, page.entries, strict=True)
    ]
    return TimelineConnection(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
    )


async def timeline_field(
    info: Info, record_type: str, record_id: UUID, first: int, after: str | None
) -> TimelineConnection:
    """The `timeline` field of Contact, Customer, Lead and Deal."""
    page = await resolve.timeline_of(info.context, record_type, record_id, first, after)
    return timeline_connection(page)


@strawberry.type
class TimelineQuery:
    @strawberry.field(
        description="The timeline of a contact, customer, lead, deal or ticket, newest first "
        f"(at most {MAX_PAGE_SIZE} a page); null if you cannot see the record."
    )
    async def timeline(
        self,
        info: Info,
        record_id: Annotated[
            relay.GlobalID,
            strawberry.argument(description="A Contact, Customer, Lead, Deal or CallingTask id."),
        ],
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> TimelineConnection | None:
        page = await resolve.timeline_of_record(info.context, record_id, first, after)
        return timeline_connection(page) if page is not None else None
