"""Who may see which events: one registration per record type, decided by the same policies
as the queries (`domain.policies`).

A record type joins subscriptions by adding one line to `RECORD_TYPES` that says how the
visibility of its records is decided; events of a type that is not registered are seen by
nobody. Checks run on batches of events, with at most one query per record type and batch,
and none for actors who see the whole agency's records of that type.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from tortoise.models import Model

from db.calling_tasks import CallingTask
from db.campaigns import Campaign
from db.card_scans import CardScan
from db.contacts import Contact
from db.customers import Customer
from db.deals import Deal
from db.documents import Document
from db.events import Event
from db.flow_runs import FlowRun
from db.imports import RecordImport
from db.leads import Lead
from db.meetings import Meeting
from db.message_preferences import MessagePreference
from db.messages import Message
from db.notes import Note
from db.notifications import Notification
from db.report_schedules import ReportSchedule
from db.tickets import Ticket
from db.users import User
from domain.actors import Actor
from domain.campaigns import readable as readable_campaigns
from domain.policies import rows, scope
from domain.roles import Access, Resource, RowScope


class Visibility(Protocol):
    def may_see_some(self, actor: Actor) -> bool:
        """Whether any record of the type could be visible to the actor (cheap, no I/O)."""
        ...

    async def visible(self, actor: Actor, record_ids: set[str]) -> set[str]:
        """The ids, among `record_ids` of the actor's agency, whose events the actor may see."""
        ...


def _keys(model: type[Model], record_ids: Iterable[str]) -> list[Any]:
    """The record ids as the model's primary-key values; ids of another shape match nothing."""
    pk = model._meta.pk
    keys = []
    for record_id in record_ids:
        try:
            keys.append(pk.to_python_value(record_id))
        except (ValueError, TypeError, AttributeError):
            continue
    return keys


@dataclass(frozen=True)
class OwnedRecords:
    """Records with an owner column: seen by whoever may read the record under its row scope.

    Soft-deleted rows keep their owner, so their owner still sees the deletion; a hard-deleted
    record's events are left to those who see the whole agency.
    """

    resource: Resource
    model: type[Model]
    owner_field: str = "owner_id"

    def may_see_some(self, actor: Actor) -> bool:
        return scope(actor, self.resource, Access.READ) is not RowScope.NONE

    async def visible(self, actor: Actor, record_ids: set[str]) -> set[str]:
        granted = scope(actor, self.resource, Access.READ)
        if granted is RowScope.AGENCY:
            return set(record_ids)
        if granted is RowScope.NONE:
            return set()
        pk = self.model._meta.pk_attr
        query = self.model.filter(
            rows(actor, self.resource, Access.READ, self.owner_field),
            **{f"{pk}__in": _keys(self.model, record_ids)},
        )
        return {str(key) for key in await query.values_list(pk, flat=True)}


@dataclass(frozen=True)
class AgencyRecords:
    """Agency-level data (org units, API keys, webhooks): seen by those who may read all of it."""

    resource: Resource

    def may_see_some(self, actor: Actor) -> bool:
        return scope(actor, self.resource, Access.READ) is RowScope.AGENCY

    async def visible(self, actor: Actor, record_ids: set[str]) -> set[str]:
        return set(record_ids) if self.may_see_some(actor) else set()


@dataclass(frozen=True)
class SharedRecords:
    """Settings a whole team works with (pipelines): seen by all who may read some of `resource`."""

    resource: Resource

    def may_see_some(self, actor: Actor) -> bool:
        return scope(actor, self.resource, Access.READ) is not RowScope.NONE

    async def visible(self, actor: Actor, record_ids: set[str]) -> set[str]:
        return set(record_ids) if self.may_see_some(actor) else set()


@dataclass(frozen=True)
class PersonalRecords:
    """Records addressed to one user (notifications): seen by that user only."""

    model: type[Model]
    user_field: str = "user_id"

    def may_see_some(self, actor: Actor) -> bool:
        return actor.user_id is not None

    async def visible(self, actor: Actor, record_ids: set[str]) -> set[str]:
        if actor.user_id is None:
            return set()
        pk = self.model._meta.pk_attr
        query = self.model.filter(
            agency_id=actor.agency_id,
            **{f"{pk}__in": _keys(self.model, record_ids), self.user_field: actor.user_id},
        )
        return {str(key) for key in await query.values_list(pk, flat=True)}


@dataclass(frozen=True)
class RecordsAbout:
    """Records about another record (a flow run on a contact): seen by whoever sees that one."""

    model: type[Model]
    record_type_field: str = "record_type"
    record_id_field: str = "record_id"

    def may_see_some(self, actor: Actor) -> bool:
        return any(
            rule.may_see_some(actor)
            for rule in RECORD_TYPES.values()
            if not isinstance(rule, RecordsAbout)
        )

    async def visible(self, actor: Actor, record_ids: set[str]) -> set[str]:
        pk = self.model._meta.pk_attr
        found = await self.model.filter(
            agency_id=actor.agency_id, **{f"{pk}__in": _keys(self.model, record_ids)}
        ).values_list(pk, self.record_type_field, self.record_id_field)
        subjects: dict[str, set[str]] = defaultdict(set)
        for _, subject_type, subject_id in found:
            subjects[subject_type].add(str(subject_id))  # a UUID column or a text one
        seen: set[tuple[str, str]] = set()
        for subject_type, subject_ids in subjects.items():
            rule = RECORD_TYPES.get(subject_type)
            if rule is None or isinstance(rule, RecordsAbout):
                continue  # one level only: a run on a run is nobody's business
            seen.update((subject_type, i) for i in await rule.visible(actor, subject_ids))
        return {str(pk) for pk, kind, subject in found if (kind, str(subject)) in seen}


@dataclass(frozen=True)
class CampaignRecords:
    """Campaigns: seen by whoever their visibility shows them to (`domain.campaigns`)."""

    def may_see_some(self, actor: Actor) -> bool:
        return scope(actor, Resource.CAMPAIGNS, Access.READ) is not RowScope.NONE

    async def visible(self, actor: Actor, record_ids: set[str]) -> set[str]:
        if not self.may_see_some(actor):
            return set()
        query = Campaign.filter(readable_campaigns(actor), id__in=_keys(Campaign, record_ids))
        return {str(key) for key in await query.values_list("id", flat=True)}


# Record type (the event's aggregate type) -> how the visibility of its events is decided.
RECORD_TYPES: dict[str, Visibility] = {
    "contact": OwnedRecords(Resource.SALES_RECORDS, Contact),
    "customer": OwnedRecords(Resource.SALES_RECORDS, Customer),
    "lead": OwnedRecords(Resource.SALES_RECORDS, Lead),
    "deal": OwnedRecords(Resource.SALES_RECORDS, Deal),
    "calling_task": OwnedRecords(Resource.SALES_RECORDS, CallingTask, owner_field="assignee_id"),
    "meeting": OwnedRecords(Resource.SALES_RECORDS, Meeting),
    "card_scan": OwnedRecords(Resource.SALES_RECORDS, CardScan),
    "ticket": OwnedRecords(Resource.TICKETS, Ticket, owner_field="assignee_id"),
    "business_calendar": SharedRecords(Resource.TICKETS),
    "sla_policy": SharedRecords(Resource.TICKETS),
    "ticket_assignment": SharedRecords(Resource.TICKETS),
    "article": AgencyRecords(Resource.KNOWLEDGE_BASE),
    "pipeline": SharedRecords(Resource.SALES_RECORDS),
    "tag": SharedRecords(Resource.SALES_RECORDS),
    "user": OwnedRecords(Resource.USERS, User, owner_field="id"),
    "record_import": OwnedRecords(Resource.IMPORTS, RecordImport),
    "agency": AgencyRecords(Resource.ORGANISATION),
    "org_unit": AgencyRecords(Resource.ORGANISATION),
    "department": AgencyRecords(Resource.ORGANISATION),
    "designation": AgencyRecords(Resource.ORGANISATION),
    "api_key": AgencyRecords(Resource.API_KEYS),
    "webhook_endpoint": AgencyRecords(Resource.WEBHOOKS),
    "notification": PersonalRecords(Notification),
    "flow_run": RecordsAbout(FlowRun),
    "custom_field": AgencyRecords(Resource.CUSTOM_FIELDS),
    "message_template": AgencyRecords(Resource.TEMPLATES),
    "note": RecordsAbout(Note),
    "document": RecordsAbout(Document),
    "message": RecordsAbout(Message),
    "message_preference": RecordsAbout(MessagePreference),
    "broadcast": AgencyRecords(Resource.BROADCASTS),
    # Connecting and removing mailboxes: admins follow them (people list their own).
    "email_account": AgencyRecords(Resource.EMAIL_ACCOUNTS),
    "campaign": CampaignRecords(),
    # Hard-deleted: their deletion is seen by admins only.
    "report_schedule": OwnedRecords(Resource.REPORT_SCHEDULES, ReportSchedule),
}


def record_types_seen_by(actor: Actor) -> frozenset[str]:
    """The record types some of whose events the actor may see."""
    return frozenset(name for name, rule in RECORD_TYPES.items() if rule.may_see_some(actor))


async def visible_events(actor: Actor, events: Sequence[Event]) -> list[Event]:
    """The events, in their order, that the actor may see: its agency, its row scope."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for event in events:
        if event.agency_id == actor.agency_id and event.aggregate_type in RECORD_TYPES:
            wanted[event.aggregate_type].add(event.aggregate_id)
    seen: dict[str, set[str]] = {}
    for record_type, record_ids in wanted.items():
        seen[record_type] = await RECORD_TYPES[record_type].visible(actor, record_ids)
    return [
        event
        for event in events
        if event.aggregate_id in seen.get(event.aggregate_type, ())
        and event.agency_id == actor.agency_id
    ]
