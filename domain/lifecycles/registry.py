"""Every lifecycle machine by record type, for introspection."""

from __future__ import annotations

from statemachine import StateMachine

from domain.lifecycles import Lifecycle, describe
from domain.lifecycles.calling_task import CallingTaskLifecycle
from domain.lifecycles.campaign import CampaignLifecycle
from domain.lifecycles.contact import ContactLifecycle
from domain.lifecycles.customer import CustomerLifecycle
from domain.lifecycles.deal import DealLifecycle
from domain.lifecycles.lead import LeadLifecycle
from domain.lifecycles.meeting import MeetingLifecycle
from domain.lifecycles.ticket import TicketLifecycle

MACHINES: dict[str, type[StateMachine]] = {
    "Contact": ContactLifecycle,
    "Customer": CustomerLifecycle,
    "CallingTask": CallingTaskLifecycle,
    "Lead": LeadLifecycle,
    "Deal": DealLifecycle,
    "Meeting": MeetingLifecycle,
    "Campaign": CampaignLifecycle,
    "Ticket": TicketLifecycle,
}


def lifecycles() -> list[Lifecycle]:
    return [describe(machine) for machine in MACHINES.values()]


def lifecycle(record_type: str) -> Lifecycle | None:
    machine = MACHINES.get(record_type)
    return describe(machine) if machine else None
