"""Per-request DataLoaders. Each wraps one domain batch function, so agency and role scope
are applied in the same place as every other read, and a list costs one query per relation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

from strawberry.dataloader import DataLoader

from domain import calling_tasks, campaigns, contacts, customers, deals, leads, meetings, users
from domain.actors import Actor
from domain.calling_tasks import CallingTask
from domain.campaign_counters import Totals
from domain.campaign_roi import CampaignReturn
from domain.contacts import ContactRow
from domain.custom_field_values import FieldValue, RecordKey, values_of_records
from domain.customers import ContactLink, CustomerRow
from domain.deals import Deal
from domain.leads import Lead
from domain.meetings import Meeting, MeetingSlot
from domain.message_preferences import Preferences, preferences_of_records
from domain.users import Colleague

V = TypeVar("V")


def _by_key(
    actor: Actor, batch: Callable[[Actor, Sequence[UUID]], Awaitable[dict[UUID, V]]], default: Any
) -> DataLoader[UUID, Any]:
    async def load(keys: list[UUID]) -> list[Any]:
        found = await batch(actor, keys)
        return [found.get(key, default) for key in keys]

    return DataLoader(load_fn=load)


def _preferences_of(
    record_type: str,
) -> Callable[[Actor, Sequence[UUID]], Awaitable[dict[UUID, Preferences]]]:
    async def batch(actor: Actor, ids: Sequence[UUID]) -> dict[UUID, Preferences]:
        return await preferences_of_records(actor, record_type, ids)

    return batch


@dataclass
class Loaders:
    actor: Actor
    colleagues: DataLoader[UUID, Colleague | None] = field(init=False)
    contacts: DataLoader[UUID, ContactRow | None] = field(init=False)
    customers: DataLoader[UUID, CustomerRow | None] = field(init=False)
    leads: DataLoader[UUID, Lead | None] = field(init=False)
    deals: DataLoader[UUID, Deal | None] = field(init=False)
    customer_of_contact: DataLoader[UUID, CustomerRow | None] = field(init=False)
    contact_links: DataLoader[UUID, list[ContactLink]] = field(init=False)
    custom_field_values: DataLoader[RecordKey, list[FieldValue]] = field(init=False)
    contact_preferences: DataLoader[UUID, Preferences] = field(init=False)
    customer_preferences: DataLoader[UUID, Preferences] = field(init=False)
    meeting_slots: DataLoader[UUID, list[MeetingSlot]] = field(init=False)
    ticket_calling_tasks: DataLoader[UUID, list[CallingTask]] = field(init=False)
    ticket_meetings: DataLoader[UUID, list[Meeting]] = field(init=False)
    campaign_totals: DataLoader[UUID, Totals] = field(init=False)
    campaign_returns: DataLoader[UUID, CampaignReturn | None] = field(init=False)

    def __post_init__(self) -> None:
        self.colleagues = _by_key(self.actor, users.colleagues_by_ids, None)
        self.contacts = _by_key(self.actor, contacts.contacts_by_ids, None)
        self.customers = _by_key(self.actor, customers.customers_by_ids, None)
        self.leads = _by_key(self.actor, leads.leads_by_ids, None)
        self.deals = _by_key(self.actor, deals.deals_by_ids, None)
        self.customer_of_contact = _by_key(self.actor, customers.customers_of_contacts, None)
        self.contact_links = _by_key(self.actor, customers.links_of_customers, [])
        self.custom_field_values = DataLoader(load_fn=self._custom_field_values)
        self.contact_preferences = _by_key(self.actor, _preferences_of("contact"), None)
        self.customer_preferences = _by_key(self.actor, _preferences_of("customer"), None)
        self.meeting_slots = _by_key(self.actor, meetings.slots_of_meetings, [])
        self.ticket_calling_tasks = _by_key(self.actor, calling_tasks.tasks_of_tickets, [])
        self.ticket_meetings = _by_key(self.actor, meetings.meetings_of_tickets, [])
        self.campaign_totals = _by_key(self.actor, campaigns.totals_by_ids, Totals())
        self.campaign_returns = _by_key(self.actor, campaigns.returns_by_ids, None)

    async def _custom_field_values(self, keys: list[RecordKey]) -> list[list[FieldValue]]:
        found = await values_of_records(self.actor, keys)
        return [found.get(key, []) for key in keys]
