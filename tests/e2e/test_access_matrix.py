"""Who may do what, for every root field of the schema, checked through the API (on SQLite:
see `database_source` below).

The operations are read from the schema itself: a new query or mutation without a case here
fails `test_every_root_field_has_an_access_case`. For each field, every kind of caller (each
role of agency A, an admin of agency B, API keys, nobody) calls it against agency A's data,
and the outcome must be exactly the one written in the case: `ok`, `hidden` (not found, not
listed: existence is not leaked), `forbidden`, or `unauthenticated`.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from strawberry import relay
from tortoise.transactions import in_transaction

from crm.flow_files import load_default_flows
from crm.settings import Settings
from db.card_scans import CardScan
from db.email_accounts import EmailAccount
from db.events import Event
from db.flow_runs import FlowRun as FlowRunRow
from db.imports import RecordImport
from db.portal import PortalSignIn
from db.users import User
from domain import (
    agencies,
    api_keys,
    broadcasts,
    calling_tasks,
    campaigns,
    contacts,
    custom_fields,
    customers,
    deals,
    knowledge_base,
    lead_scoring,
    leads,
    meetings,
    merges,
    message_templates,
    notes,
    pipelines,
    portal,
    quotas,
    report_schedules,
    service_levels,
    tags,
    tickets,
    users,
)
from domain.actors import Actor, ApiScope
from domain.errors import DomainError
from domain.event_subscriptions import event_cursor
from domain.flows import service as flows_service
from domain.flows.definitions import FlowRunStatus
from domain.flows.service import seed_default_flows
from domain.notifications import notify_user
from domain.portal import PortalLimits
from domain.rate_limits import MemoryCounters
from domain.roles import Role
from domain.signed_links import LinkConfig, LinkPurpose, sign
from domain.webhook_deliveries import DeliveryStatus, WebhookConfig
from domain.webhooks import WebhookDelivery, create_endpoint
from schema import schema
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Api
from tests.fixtures.databases import DatabaseSource


@pytest.fixture
def database_source(sqlite_template: Path) -> DatabaseSource:
    """The matrix runs on SQLite only. Who may do what is decided in `domain/policies.py`
    before any SQL; what differs between the databases is how each row scope filters, and
    every record's own API tests check those scopes on SQLite and PostgreSQL. Running these
    few hundred cases twice cost a fifth of the suite's time for no check of its own."""
    return DatabaseSource("sqlite", sqlite_template=sqlite_template)


PASSWORD = "long enough password"
CALLERS = (
    "anonymous",
    "admin",
    "sysadmin",
    "head_north",
    "sales_north",
    "sales_south",
    "support",
    "marketing",
    "other_agency_admin",
    "api_read",
    "api_read_write",
    "portal",  # a customer portal session: a contact of agency A's customer Portal Co
)


def gid(type_name: str, value: object) -> str:
    return str(relay.GlobalID(type_name, str(value)))


@dataclass
class World:
    """Agency A (sales org North and South under Sales) and agency B, with one caller each."""

    api: Api
    system: Actor
    ids: dict[str, str] = field(default_factory=dict)
    callers: dict[str, Api] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)

    async def contact_of_sales_north(self) -> str:
        owner = uuid.UUID(relay.GlobalID.from_id(self.ids["sales_north"]).node_id)
        contact = await contacts.create_contact(
            self.system,
            {
                "first_name": f"Lead {uuid.uuid4().hex[:6]}",
                "emails": ["lead@example.com"],
                "owner_id": owner,
            },
        )
        return gid("Contact", contact.id)

    def sales_north_id(self) -> uuid.UUID:
        return uuid.UUID(relay.GlobalID.from_id(self.ids["sales_north"]).node_id)

    async def customer_of_sales_north(self, linked_contact: str | None = None) -> str:
        customer = await customers.create_customer(
            self.system, {"name": f"Co {uuid.uuid4().hex[:6]}", "owner_id": self.sales_north_id()}
        )
        if linked_contact:
            contact_id = uuid.UUID(relay.GlobalID.from_id(linked_contact).node_id)
            await customers.link_contact(self.system, customer.id, contact_id, "cto", False)
        return gid("Customer", customer.id)

    async def hot_contact_of_sales_north(self) -> str:
        contact_id = await self.contact_of_sales_north()
        await contacts.transition_contact(
            self.system, uuid.UUID(relay.GlobalID.from_id(contact_id).node_id), "mark_hot"
        )
        return contact_id

    async def task_of_sales_north(self) -> str:
        contact_id = uuid.UUID(relay.GlobalID.from_id(self.ids["contact_north"]).node_id)
        task = await calling_tasks.create_calling_task(
            self.system,
            {"subject": "Call", "contact_id": contact_id, "assignee_id": self.sales_north_id()},
        )
        return gid("CallingTask", task.id)

    async def lead_of_sales_north(self, event: str | None = None) -> str:
        lead = await leads.create_lead(
            self.system,
            {"title": "Lead", "services": ["SEO"], "owner_id": self.sales_north_id()},
        )
        if event:
            await leads.transition_lead(self.system, lead.id, event)
        return gid("Lead", lead.id)

    async def deal_of_sales_north(self) -> str:
        deal = await deals.create_deal(
            self.system,
            {
                "name": "Deal",
                "expected_close_date": "2030-01-01",
                "owner_id": self.sales_north_id(),
            },
        )
        return gid("Deal", deal.id)

    async def meeting_of_sales_north(self, booked: bool = False) -> str:
        """A meeting sales_north proposed to contact_north (booked: at a time of its own)."""
        start = next(MEETING_TIMES)
        meeting = await meetings.propose_meeting(
            self.system,
            {
                "contact_id": _uuid(self.ids["contact_north"]),
                "owner_id": self.sales_north_id(),
                "title": "Meet",
                "slots": [start],
                "duration_minutes": 30,
            },
        )
        if booked:
            slot = (await meetings.slots_of(meeting))[0]
            await meetings.book_meeting(meeting.id, slot.id)
        return gid("Meeting", meeting.id)

    async def ticket_of_sales_north(self) -> str:
        """A ticket from contact_north handed to sales_north (tickets follow their assignee)."""
        ticket = await tickets.create_ticket(
            self.system,
            {
                "subject": "Broken",
                "contact_id": _uuid(self.ids["contact_north"]),
                "assignee_id": self.sales_north_id(),
            },
        )
        return gid("Ticket", ticket.id)

    async def ticket_of_north_customer(self) -> str:
        """A ticket of customer_north (a customer sales_north owns), in the queue (nobody's):
        sales_north reads it as the customer's owner, and may not work it."""
        ticket = await tickets.create_ticket(
            self.system,
            {"subject": "Invoice wrong", "customer_id": _uuid(self.ids["customer_north"])},
        )
        return gid("Ticket", ticket.id)

    async def pipeline_of_agency_a(self) -> pipelines.Pipeline:
        name = f"Pipeline {uuid.uuid4().hex[:6]}"
        return await pipelines.create_pipeline(self.system, {"name": name})

    async def notification_of_sales_north(self) -> str:
        async with in_transaction() as connection:
            notice = await notify_user(
                self.system, self.sales_north_id(), "Call back", "", "", "test", connection
            )
        assert notice is not None
        return gid("Notification", notice.id)

    async def tag_of_agency_a(self) -> str:
        tag = await tags.create_tag(self.system, {"name": f"Tag {uuid.uuid4().hex[:6]}"})
        return gid("Tag", tag.id)

    async def api_key_of_agency_a(self) -> str:
        created = await api_keys.create_api_key(self.system, "spare", [ApiScope.READ], None)
        return gid("ApiKey", created.api_key.id)


async def portal_session(system: Actor, links: LinkConfig) -> str:
    """Agency A's customer Portal Co, its contact, a ticket of theirs, and the contact's
    portal session token (signed in with a real emailed link's row)."""
    customer = await customers.create_customer(system, {"name": "Portal Co"})
    contact = await contacts.create_contact(
        system, {"first_name": "Pat", "emails": ["pat@portal.example.com"]}
    )
    await customers.link_contact(system, customer.id, contact.id, "buyer", True)
    limits = PortalLimits(answer_floor=timedelta(0))
    await portal.request_sign_in_link(
        links, limits, "acme", "pat@portal.example.com", "10.9.9.9", MemoryCounters()
    )
    row = await PortalSignIn.get(contact_id=contact.id)
    session = await portal.sign_in(links, sign(links, LinkPurpose.PORTAL_SIGN_IN, str(row.id)))
    return session.token


async def portal_ticket_and_article(world: World, customer_id: uuid.UUID) -> None:
    ticket = await tickets.create_ticket(
        world.system, {"subject": "Portal Co asks", "customer_id": customer_id}
    )
    world.ids["ticket_portal"] = gid("Ticket", ticket.id)
    article = await knowledge_base.create_article(
        world.system, {"title": "For customers", "status": "published", "visibility": "public"}
    )
    world.ids["article_public"] = gid("Article", article.id)


async def build_world(api: Api, links: LinkConfig) -> World:
    agency_a, admin_a, _ = await agencies.bootstrap_agency(
        "Acme", "acme", ADMIN_EMAIL, "Ada Admin", ADMIN_PASSWORD
    )
    system = Actor.system(agency_a.id, "test")
    world = World(api=api, system=system)
    sales = await agencies.create_org_unit(system, "Sales", None)
    north = await agencies.create_org_unit(system, "North", sales.id)
    south = await agencies.create_org_unit(system, "South", sales.id)
    await agencies.create_department(system, "Sales Ops")
    world.ids.update(
        org_unit_north=gid("OrgUnit", north.id),
        department="Sales Ops",
        admin=gid("User", admin_a.id),
    )
    people = {
        "sysadmin": ([Role.SYSADMIN], None),
        "head_north": ([Role.SALES_HEAD], north.id),
        "sales_north": ([Role.SALES_PERSON], north.id),
        "sales_south": ([Role.SALES_PERSON], south.id),
        "support": ([Role.CUSTOMER_SUPPORT], None),
        "marketing": ([Role.MARKETING], None),
    }
    for name, (roles, unit) in people.items():
        user = await users.create_user(
            system,
            {
                "email": f"{name}@acme.example.com",
                "name": name,
                "password": PASSWORD,
                "roles": roles,
                "org_unit_id": unit,
            },
        )
        world.ids[name] = gid("User", user.id)
    world.ids["contact_north"] = await world.contact_of_sales_north()
    world.ids["customer_north"] = await world.customer_of_sales_north()
    world.ids["task_north"] = await world.task_of_sales_north()
    world.ids["lead_north"] = await world.lead_of_sales_north()
    world.ids["deal_north"] = await world.deal_of_sales_north()
    default_pipeline = await pipelines.ensure_default_pipeline(agency_a.id)
    world.ids["pipeline"] = gid("Pipeline", default_pipeline.id)
    world.ids["tag"] = await world.tag_of_agency_a()
    world.ids["notification_north"] = await world.notification_of_sales_north()
    world.ids["template"] = await template_of_agency_a(world)
    bolt, _, _ = await agencies.bootstrap_agency(
        "Bolt", "bolt", "admin@bolt.example.com", "Bo", PASSWORD
    )
    for agency_id in (agency_a.id, bolt.id):  # the same key in both: each sends its own
        await message_templates.seed_default_templates(agency_id, [NEWSLETTER])
    world.ids["broadcast"] = await broadcast_of_agency_a(world)
    world.ids["import_north"] = await import_of_sales_north(world)
    world.ids["email_account"] = await email_account_of_sales_north(world)
    world.ids["meeting_north"] = await world.meeting_of_sales_north()
    world.ids["campaign_north"] = await campaign_of_sales_north(world)
    world.ids["ticket_north"] = await world.ticket_of_sales_north()
    article = await knowledge_base.create_article(
        system, {"title": "Reset a password", "status": "published"}
    )
    world.ids["article"] = gid("Article", article.id)

    world.callers["anonymous"] = api.as_(None)
    world.callers["admin"] = await api.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD)
    world.callers["other_agency_admin"] = await api.sign_in("admin@bolt.example.com", PASSWORD)
    for name in people:
        world.callers[name] = await api.sign_in(f"{name}@acme.example.com", PASSWORD)
    for name, scopes in (
        ("api_read", [ApiScope.READ]),
        ("api_read_write", [ApiScope.READ, ApiScope.WRITE]),
    ):
        key = await api_keys.create_api_key(system, name, scopes, None)
        world.callers[name] = api.as_(key.secret)
    world.callers["portal"] = api.as_(await portal_session(system, links))
    portal_row = await PortalSignIn.get(agency_id=agency_a.id)
    await portal_ticket_and_article(world, portal_row.customer_id)
    return world


Variables = Callable[[World, str], Awaitable[dict[str, Any]]]


async def no_variables(world: World, caller: str) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Case:
    document: str
    expected: dict[str, str]
    variables: Variables = no_variables
    # For lists: the text that must appear in the answer for `ok` (else `hidden`).
    target: Callable[[World], str] | None = None


def everyone(outcome: str, **exceptions: str) -> dict[str, str]:
    """`outcome` for every signed-in caller, `unauthenticated` for nobody, then exceptions."""
    """A portal session reaches no staff field: `forbidden` unless an exception says."""
    return {
        "anonymous": "unauthenticated",
        **dict.fromkeys(CALLERS[1:], outcome),
        "portal": "forbidden",
        **exceptions,
    }


# Reading and changing agency A's sales records (contact_north belongs to sales_north).
SALES_READ = everyone("ok", sysadmin="forbidden", sales_south="hidden", other_agency_admin="hidden")
SALES_WRITE = everyone(
    "ok",
    sysadmin="forbidden",
    sales_south="hidden",
    support="forbidden",
    marketing="forbidden",
    other_agency_admin="hidden",
    api_read="forbidden",
)
# Reading sales_north's user record.
USER_READ = everyone(
    "hidden",
    admin="ok",
    sysadmin="ok",
    head_north="ok",
    sales_north="ok",
    api_read="forbidden",
    api_read_write="forbidden",
)
ORGANISATION_READ = everyone(
    "forbidden", admin="ok", sysadmin="ok", head_north="ok", other_agency_admin="hidden"
)
ADMIN_ONLY_IN_A = everyone("forbidden", admin="ok", other_agency_admin="hidden")
ADMIN_ONLY_OWN_AGENCY = everyone("forbidden", admin="ok", other_agency_admin="ok")
# A person's own inbox: sales_north's notification is theirs alone; API keys have none.
OWN_NOTIFICATIONS = everyone(
    "hidden", sales_north="ok", api_read="forbidden", api_read_write="forbidden"
)
# The tag catalogue is curated by admins and sales heads, for the whole agency.
TAG_CURATORS = everyone("forbidden", admin="ok", head_north="ok", other_agency_admin="ok")
TAG_CURATORS_IN_A = everyone("forbidden", admin="ok", head_north="ok", other_agency_admin="hidden")
# Changing a note someone else wrote: agency-wide editors only (within the record's scope).
NOTE_EDIT = {**SALES_WRITE, "head_north": "forbidden", "sales_north": "forbidden"}
# Message templates: every role of the agency reads them (to send), admins and sysadmins write.
TEMPLATE_READ = everyone(
    "ok", other_agency_admin="hidden", api_read="forbidden", api_read_write="forbidden"
)
BROADCAST_READ = everyone(
    "forbidden", admin="ok", head_north="ok", marketing="ok", other_agency_admin="hidden"
)
BROADCAST_WRITE_IN_A = everyone(
    "forbidden", admin="ok", marketing="ok", other_agency_admin="hidden"
)
BROADCAST_WRITE_OWN_AGENCY = {**BROADCAST_WRITE_IN_A, "other_agency_admin": "ok"}
# Imports (import_north is sales_north's): rows scoped by the uploader like sales records;
# support and sysadmins import nothing; marketing only its own.
IMPORT_READ = everyone(
    "ok",
    sysadmin="forbidden",
    sales_south="hidden",
    support="forbidden",
    marketing="hidden",
    other_agency_admin="hidden",
)
IMPORT_WRITE = {**IMPORT_READ, "api_read": "forbidden"}
# Connected mailboxes: each person their own, admins every one; API keys and sysadmins none.
EMAIL_ACCOUNTS_OF_NORTH = everyone(
    "hidden",
    admin="ok",
    sales_north="ok",
    sysadmin="forbidden",
    api_read="forbidden",
    api_read_write="forbidden",
)
# Adding one passes access control and reaches the host check, which refuses this test's
# unresolvable host (tests/e2e/test_email_accounts_api.py connects real mailboxes).
EMAIL_ACCOUNT_ADD = everyone(
    "payload error HOST_REFUSED",
    sysadmin="forbidden",
    api_read="forbidden",
    api_read_write="forbidden",
)
TEMPLATE_WRITE_IN_A = everyone("forbidden", admin="ok", sysadmin="ok", other_agency_admin="hidden")
TEMPLATE_WRITE_OWN_AGENCY = {**TEMPLATE_WRITE_IN_A, "other_agency_admin": "ok"}
# Tickets (ticket_north is handed to sales_north): support and admins work the whole queue,
# sales heads read it all and work their team's, marketing and sysadmins have none.
TICKET_READ = everyone(
    "ok",
    sysadmin="forbidden",
    sales_south="hidden",
    marketing="forbidden",
    other_agency_admin="hidden",
)
TICKET_WRITE = {**TICKET_READ, "api_read": "forbidden"}
# The calendar and the SLA policy: read by all who read some tickets (each their agency's),
# set by admins (API keys: organisation data is not theirs).
SERVICE_LEVELS_READ = everyone("ok", sysadmin="forbidden", marketing="forbidden")
# The knowledge base: support and admins write, the other people of the agency read.
KB_READ = everyone(
    "ok",
    sysadmin="forbidden",
    marketing="forbidden",
    other_agency_admin="hidden",
    api_read="forbidden",
    api_read_write="forbidden",
)
KB_WRITE_IN_A = everyone("forbidden", admin="ok", support="ok", other_agency_admin="hidden")
# Pipelines are the sales team's shared settings: anyone reading sales records reads them all.
PIPELINE_READ = everyone("ok", sysadmin="forbidden", other_agency_admin="hidden")


async def contact_north(world: World, caller: str) -> dict[str, Any]:
    return {"id": world.ids["contact_north"]}


async def fresh_contact(world: World, caller: str) -> dict[str, Any]:
    return {"id": await world.contact_of_sales_north()}


async def fresh_contact_pair(world: World, caller: str) -> dict[str, Any]:
    return {
        "survivor": await world.contact_of_sales_north(),
        "merged": await world.contact_of_sales_north(),
    }


async def fresh_customer_pair(world: World, caller: str) -> dict[str, Any]:
    return {
        "survivor": await world.customer_of_sales_north(),
        "merged": await world.customer_of_sales_north(),
    }


async def fresh_contact_merge(world: World, caller: str) -> dict[str, Any]:
    """Two of sales_north's contacts, merged by the system (undoable for an hour)."""
    pair = await fresh_contact_pair(world, caller)
    merge = await merges.merge_contacts(
        world.system, _uuid(pair["survivor"]), [_uuid(pair["merged"])], {}, timedelta(hours=1)
    )
    return {"id": gid("RecordMerge", merge.id)}


async def customer_north(world: World, caller: str) -> dict[str, Any]:
    return {"id": world.ids["customer_north"]}


async def fresh_customer(world: World, caller: str) -> dict[str, Any]:
    return {"id": await world.customer_of_sales_north()}


async def fresh_customer_to_link(world: World, caller: str) -> dict[str, Any]:
    return {"id": await world.customer_of_sales_north(), "contact": world.ids["contact_north"]}


async def fresh_customer_linked(world: World, caller: str) -> dict[str, Any]:
    linked = await world.customer_of_sales_north(world.ids["contact_north"])
    return {"id": linked, "contact": world.ids["contact_north"]}


async def fresh_hot_contact(world: World, caller: str) -> dict[str, Any]:
    return {"id": await world.hot_contact_of_sales_north()}


async def acme_scoring_rules(world: World, caller: str) -> dict[str, Any]:
    """Agency A scores contacts (agency B does not: its admin finds null)."""
    if "scoring_rules" not in world.ids:
        rules = [{"name": "VIP", "kind": "tag", "value": "vip", "points": 10}]
        await lead_scoring.publish_scoring_rules(world.system, {"rules": rules})
        world.ids["scoring_rules"] = "published"
    return {}


async def scored_contact_north(world: World, caller: str) -> dict[str, Any]:
    await acme_scoring_rules(world, caller)
    return await contact_north(world, caller)


async def task_north(world: World, caller: str) -> dict[str, Any]:
    return {"id": world.ids["task_north"]}


async def fresh_task(world: World, caller: str) -> dict[str, Any]:
    return {"id": await world.task_of_sales_north()}


async def task_for_sales_north(world: World, caller: str) -> dict[str, Any]:
    return {"contact": world.ids["contact_north"], "assignee": world.ids["sales_north"]}


# Each meeting of sales_north at an hour of its own: booked ones never overlap.
MEETING_TIMES = (
    datetime(2090, 1, 1, tzinfo=UTC) + timedelta(hours=hour) for hour in itertools.count()
)


async def meeting_north(world: World, caller: str) -> dict[str, Any]:
    return {"id": world.ids["meeting_north"]}


async def fresh_booked_meeting(world: World, caller: str) -> dict[str, Any]:
    return {"id": await world.meeting_of_sales_north(booked=True)}


async def fresh_booked_meeting_and_time(world: World, caller: str) -> dict[str, Any]:
    return {
        "id": await world.meeting_of_sales_north(booked=True),
        "at": next(MEETING_TIMES).isoformat(),
    }


async def slot_for_contact_north(world: World, caller: str) -> dict[str, Any]:
    return {"contact": world.ids["contact_north"], "at": next(MEETING_TIMES).isoformat()}


async def sales_north_as_owner(world: World, caller: str) -> dict[str, Any]:
    return {"owner": world.ids["sales_north"]}


async def ticket_north(world: World, caller: str) -> dict[str, Any]:
    return {"id": world.ids["ticket_north"]}


async def acme_sla_policy(world: World, caller: str) -> dict[str, Any]:
    """Agency A has a policy (agency B none: its admin finds null)."""
    if "sla_policy" not in world.ids:
        targets = [{"priority": "urgent", "first_response_minutes": 30}]
        await service_levels.publish_sla_policy(world.system, {"targets": targets})
        world.ids["sla_policy"] = "published"
    return {}


async def article_of_agency_a(world: World, caller: str) -> dict[str, Any]:
    """A published internal article of agency A (made with the world)."""
    return {"id": world.ids["article"]}


async def portal_ticket(world: World, caller: str) -> dict[str, Any]:
    """A ticket of Portal Co, the portal caller's customer."""
    return {"id": world.ids["ticket_portal"]}


async def public_article(world: World, caller: str) -> dict[str, Any]:
    return {"id": world.ids["article_public"]}


async def fresh_ticket(world: World, caller: str) -> dict[str, Any]:
    return {"id": await world.ticket_of_sales_north()}


async def ticket_of_north_customer(world: World, caller: str) -> dict[str, Any]:
    if "ticket_customer_north" not in world.ids:
        world.ids["ticket_customer_north"] = await world.ticket_of_north_customer()
    return {"id": world.ids["ticket_customer_north"]}


async def made_ticket_of_north_customer(world: World, caller: str) -> dict[str, Any]:
    await ticket_of_north_customer(world, caller)
    return {}


async def fresh_ticket_of_north_customer(world: World, caller: str) -> dict[str, Any]:
    return {"id": await world.ticket_of_north_customer()}


async def lead_north(world: World, caller: str) -> dict[str, Any]:
    return {"id": world.ids["lead_north"]}


async def fresh_lead(world: World, caller: str) -> dict[str, Any]:
    return {"id": await world.lead_of_sales_north()}


async def fresh_qualified_lead(world: World, caller: str) -> dict[str, Any]:
    return {"id": await world.lead_of_sales_north("qualify")}


async def deal_north(world: World, caller: str) -> dict[str, Any]:
    return {"id": world.ids["deal_north"]}


async def fresh_deal(world: World, caller: str) -> dict[str, Any]:
    return {"id": await world.deal_of_sales_north()}


async def fresh_deal_and_next_stage(world: World, caller: str) -> dict[str, Any]:
    pipeline = await pipelines.get_pipeline(world.system, _uuid(world.ids["pipeline"]))
    next_stage = pipelines.stages_of(pipeline)[1]
    return {"id": await world.deal_of_sales_north(), "stage": gid("Stage", next_stage.id)}


def _uuid(global_id: str) -> uuid.UUID:
    return uuid.UUID(relay.GlobalID.from_id(global_id).node_id)


async def pipeline_id(world: World, caller: str) -> dict[str, Any]:
    return {"id": world.ids["pipeline"]}


async def pipeline_and_name(world: World, caller: str) -> dict[str, Any]:
    return {"id": world.ids["pipeline"], "name": f"{caller}-{uuid.uuid4().hex[:6]}"}


async def fresh_stage(world: World, caller: str) -> dict[str, Any]:
    _, stage = await pipelines.add_stage(
        world.system,
        _uuid(world.ids["pipeline"]),
        {"name": f"Stage {uuid.uuid4().hex[:6]}", "probability": 30},
    )
    return {"id": gid("Stage", stage.id)}


async def fresh_pipeline_reversed(world: World, caller: str) -> dict[str, Any]:
    pipeline = await world.pipeline_of_agency_a()
    stage_ids = [gid("Stage", s.id) for s in reversed(pipelines.stages_of(pipeline))]
    return {"id": gid("Pipeline", pipeline.id), "stages": stage_ids}


async def login_variables(world: World, caller: str) -> dict[str, Any]:
    return {"email": "support@acme.example.com", "password": PASSWORD}


async def refresh_variables(world: World, caller: str) -> dict[str, Any]:
    session = await world.api.as_(None).graphql(
        "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) "
        "{ refreshToken } }",
        {"e": "marketing@acme.example.com", "p": PASSWORD},
    )
    return {"token": session["login"]["refreshToken"]}


async def fresh_notification(world: World, caller: str) -> dict[str, Any]:
    return {"ids": [await world.notification_of_sales_north()]}


async def quota_of_sales_north(world: World, caller: str) -> dict[str, Any]:
    """A quota of sales_north in 2030 (set again for each caller: an upsert)."""
    quota = await quotas.set_quota(
        world.system,
        {
            "owner_id": world.sales_north_id(),
            "start": "2030-01-01",
            "end": "2030-12-31",
            "amount": "4242",
        },
    )
    return {"id": gid("Quota", quota.id)}


async def sales_north_to_set_quota(world: World, caller: str) -> dict[str, Any]:
    return {"owner": world.ids["sales_north"]}


async def after_quota_of_sales_north(world: World, caller: str) -> dict[str, Any]:
    await quota_of_sales_north(world, caller)
    return {}


async def fresh_tag(world: World, caller: str) -> dict[str, Any]:
    return {"id": await world.tag_of_agency_a()}


async def unique_name(world: World, caller: str) -> dict[str, Any]:
    return {"name": f"{caller}-{uuid.uuid4().hex[:6]}"}


async def new_user(world: World, caller: str) -> dict[str, Any]:
    return {
        "input": {
            "email": f"{uuid.uuid4().hex[:8]}@example.com",
            "name": "New Hire",
            "password": PASSWORD,
            "roles": ["SALES_PERSON"],
            "orgUnitId": world.ids["org_unit_north"],
        }
    }


async def spare_key(world: World, caller: str) -> dict[str, Any]:
    return {"id": await world.api_key_of_agency_a()}


async def user_sales_north(world: World, caller: str) -> dict[str, Any]:
    return {"id": world.ids["sales_north"]}


async def org_unit_north(world: World, caller: str) -> dict[str, Any]:
    return {"parent": world.ids["org_unit_north"], "name": f"Unit {caller}"}


async def own_passwords(world: World, caller: str) -> dict[str, Any]:
    """The caller's own current password, kept as the new one (API keys have none)."""
    current = ADMIN_PASSWORD if caller == "admin" else PASSWORD
    return {"current": current, "new": current}


async def unknown_email(world: World, caller: str) -> dict[str, Any]:
    return {"email": f"{caller}@nowhere.example.com"}


async def fresh_org_unit(world: World, caller: str) -> dict[str, Any]:
    unit = await agencies.create_org_unit(world.system, f"Unit {uuid.uuid4().hex[:6]}", None)
    return {"id": gid("OrgUnit", unit.id), "name": f"Renamed {uuid.uuid4().hex[:6]}"}


async def fresh_department(world: World, caller: str) -> dict[str, Any]:
    row = await agencies.create_department(world.system, f"Dept {uuid.uuid4().hex[:6]}")
    return {"id": gid("Department", row.id), "name": f"Renamed {uuid.uuid4().hex[:6]}"}


async def fresh_designation(world: World, caller: str) -> dict[str, Any]:
    row = await agencies.create_designation(world.system, f"Title {uuid.uuid4().hex[:6]}")
    return {"id": gid("Designation", row.id), "name": f"Renamed {uuid.uuid4().hex[:6]}"}


async def contact_for_sales_north(world: World, caller: str) -> dict[str, Any]:
    return {"owner": world.ids["sales_north"]}


# Webhooks: endpoints on a public address literal (nothing resolves; no worker delivers here).
ACME_HOOK = "https://93.184.216.34/acme-hook"


async def webhook_endpoint_of_agency_a(world: World, url: str = ACME_HOOK) -> str:
    created = await create_endpoint(
        world.system, WebhookConfig(), {"url": url, "event_types": ["contact.*"]}
    )
    return gid("WebhookEndpoint", created.endpoint.id)


async def fresh_webhook_endpoint(world: World, caller: str) -> dict[str, Any]:
    url = f"https://93.184.216.34/{caller}-{uuid.uuid4().hex[:6]}"
    return {"id": await webhook_endpoint_of_agency_a(world, url)}


async def acme_webhook_endpoint(world: World, caller: str) -> dict[str, Any]:
    if "webhook_endpoint" not in world.ids:
        world.ids["webhook_endpoint"] = await webhook_endpoint_of_agency_a(world)
    return {}


async def acme_webhook_delivery(world: World, caller: str) -> dict[str, Any]:
    """A delivery of a contact event to agency A's endpoint (written with the event)."""
    if "webhook_delivery" not in world.ids:
        await acme_webhook_endpoint(world, caller)
        await world.contact_of_sales_north()
        world.ids["webhook_delivery"] = "written"
    return {}


async def failed_webhook_delivery(world: World, caller: str) -> dict[str, Any]:
    await acme_webhook_delivery(world, caller)
    await world.contact_of_sales_north()
    newest = await WebhookDelivery.filter(agency_id=world.system.agency_id).order_by("-id").first()
    assert newest is not None
    await WebhookDelivery.filter(id=newest.id).update(status=DeliveryStatus.FAILED)
    return {"id": gid("WebhookDelivery", newest.id)}


# Notes and documents: on customer_north, written by the system (so only agency-wide editors,
# not the owner, may change a note: its author or an agency-wide editor may).
async def fresh_note(world: World, caller: str) -> dict[str, Any]:
    note = await notes.add_note(world.system, "customer", _uuid(world.ids["customer_north"]), "n")
    return {"id": gid("Note", note.id)}


async def fresh_document(world: World, caller: str) -> dict[str, Any]:
    response = await world.callers["admin"].client.post(
        f"/documents?recordId={world.ids['customer_north']}&fileName=a.txt",
        content=b"a",
        headers=world.callers["admin"].headers(),
    )
    assert response.status_code == 201, response.text
    return {"id": response.json()["document"]["id"]}


CALLER_EMAILS = {"admin": ADMIN_EMAIL, "other_agency_admin": "admin@bolt.example.com"}


async def events_from_contact_north(world: World, caller: str) -> dict[str, Any]:
    """Replay from just before contact_north was created: a caller who may see it gets its
    creation first; one who may not gets a notice left for them after it (every person may
    see their own notifications), so `hidden` needs no timeout."""
    record_id = relay.GlobalID.from_id(world.ids["contact_north"]).node_id
    created = await Event.get(aggregate_id=record_id, type="contact.created")
    email = CALLER_EMAILS.get(caller, f"{caller}@acme.example.com")
    person = await User.get_or_none(email=email)
    if person is not None:
        system = Actor.system(person.agency_id, "test")
        async with in_transaction() as connection:
            await notify_user(system, person.id, "marker", "", "", "test", connection)
    return {"after": event_cursor(created.id - 1)}


# Flows: agency A's defaults (seeded on first use); a run is written with each new contact.
NURTURE = "contact-nurture"
DEFAULT_FLOWS = Path(__file__).resolve().parents[2] / "temporal.yaml"
FLOWS_IN_A = everyone("forbidden", admin="ok", sysadmin="ok", other_agency_admin="hidden")


async def flows_of_agency_a(world: World, caller: str) -> dict[str, Any]:
    if "flows" not in world.ids:
        await seed_default_flows(world.system.agency_id, load_default_flows(DEFAULT_FLOWS))
        world.ids["flows"] = "seeded"
    return {"key": NURTURE}


async def fresh_flow_draft(world: World, caller: str) -> dict[str, Any]:
    """A new draft of the nurture flow, taken from the version published now."""
    variables = await no_flow_draft(world, caller)
    await flows_service.create_draft(world.system, NURTURE)
    return variables


async def no_flow_draft(world: World, caller: str) -> dict[str, Any]:
    variables = await flows_of_agency_a(world, caller)
    with contextlib.suppress(DomainError):
        await flows_service.discard_draft(world.system, NURTURE)
    return variables


async def flow_draft_and_document(world: World, caller: str) -> dict[str, Any]:
    variables = await no_flow_draft(world, caller)
    draft = await flows_service.create_draft(world.system, NURTURE)
    return {**variables, "document": draft.document}


async def nurture_document(world: World, caller: str) -> dict[str, Any]:
    return {"document": load_default_flows(DEFAULT_FLOWS)[0].document()}


async def new_flow_document(world: World, caller: str) -> dict[str, Any]:
    """A flow under a key nobody used yet (each caller creates its own)."""
    document = load_default_flows(DEFAULT_FLOWS)[0].document()
    return {"document": {**document, "key": f"new-{caller.replace('_', '-')}"}}


async def flow_version_one(world: World, caller: str) -> dict[str, Any]:
    return {**await flows_of_agency_a(world, caller), "version": 1}


async def run_of_fresh_contact(world: World) -> FlowRunRow:
    await flows_of_agency_a(world, "")
    contact = _uuid(await world.contact_of_sales_north())
    return await FlowRunRow.get(agency_id=world.system.agency_id, record_id=str(contact))


async def contact_with_a_run(world: World, caller: str) -> dict[str, Any]:
    if "contact_with_run" not in world.ids:
        run = await run_of_fresh_contact(world)
        world.ids["contact_with_run"] = gid("Contact", run.record_id)
    return {"id": world.ids["contact_with_run"]}


async def fresh_flow_run(world: World, caller: str) -> dict[str, Any]:
    return {"id": gid("FlowRun", (await run_of_fresh_contact(world)).id)}


async def fresh_stalled_flow_run(world: World, caller: str) -> dict[str, Any]:
    run = await run_of_fresh_contact(world)
    await FlowRunRow.filter(id=run.id).update(status=FlowRunStatus.STALLED)
    return {"id": gid("FlowRun", run.id)}


# Custom fields: defined by admins and sysadmins, read by every actor of the agency.
ACME_FIELD = "acme_budget"
CUSTOM_FIELDS_IN_A = everyone("forbidden", admin="ok", sysadmin="ok", other_agency_admin="hidden")


async def custom_field_of_agency_a(world: World) -> str:
    key = f"field_{uuid.uuid4().hex[:6]}"
    created = await custom_fields.define_custom_field(
        world.system, {"record_type": "contact", "key": key, "label": key, "type": "number"}
    )
    return gid("CustomField", created.id)


async def acme_custom_field(world: World, caller: str) -> dict[str, Any]:
    if "acme_field" not in world.ids:
        await custom_fields.define_custom_field(
            world.system,
            {"record_type": "contact", "key": ACME_FIELD, "label": "Budget", "type": "number"},
        )
        world.ids["acme_field"] = ACME_FIELD
    return {}


async def fresh_custom_field(world: World, caller: str) -> dict[str, Any]:
    return {"id": await custom_field_of_agency_a(world)}


async def template_of_agency_a(world: World) -> str:
    key = f"acme-{uuid.uuid4().hex[:6]}"
    text = {"subject": "Hi {{ recipient.first_name }}", "text_body": "Hello"}
    await message_templates.create_template(
        world.system, {"key": key, "name": "Welcome", "kind": "sales", **text}
    )
    return key


NEWSLETTER = {
    "key": "newsletter",
    "name": "Newsletter",
    "kind": "marketing",
    "subject": "News",
    "text_body": "Hello {{ recipient.first_name }}",
}


async def broadcast_of_agency_a(world: World) -> str:
    send_at = datetime.now(UTC) + timedelta(days=30)
    created = await broadcasts.create_broadcast(
        world.system, {"name": "News", "template": "newsletter", "send_at": send_at}
    )
    return gid("Broadcast", created.id)


async def fresh_broadcast(world: World, caller: str) -> dict[str, Any]:
    return {"id": await broadcast_of_agency_a(world)}


async def import_of_sales_north(world: World) -> str:
    """An uploaded import of sales_north (its row as an upload leaves it; the file's reading
    is tests/e2e/test_imports_api.py's)."""
    owner = world.sales_north_id()
    created = await RecordImport.create(
        agency_id=world.system.agency_id,
        created_by=f"user:{owner}",
        owner_id=owner,
        actor={"id": f"user:{owner}", "user_id": str(owner), "roles": ["sales_person"]},
        record_type="contact",
        file_name="people.csv",
        file_format="csv",
        storage_key=f"{world.system.agency_id}/imports/{uuid.uuid4()}",
        size=10,
        columns=["Name"],
        total_rows=1,
    )
    return gid("RecordImport", created.id)


async def import_north(world: World, caller: str) -> dict[str, Any]:
    return {"id": world.ids["import_north"]}


async def fresh_import(world: World, caller: str) -> dict[str, Any]:
    return {"id": await import_of_sales_north(world)}


async def campaign_of_sales_north(world: World) -> str:
    """An INTERNAL draft campaign of sales_north: the whole agency sees it."""
    created = await campaigns.create_campaign(
        world.system,
        {
            "title": "Referrals",
            "code": f"north-{uuid.uuid4().hex[:8]}",
            "campaign_type": "referral",
            "visibility": "internal",
            "owner_id": world.sales_north_id(),
        },
    )
    return gid("Campaign", created.id)


async def campaign_north(world: World, caller: str) -> dict[str, Any]:
    return {"id": world.ids["campaign_north"]}


async def fresh_campaign(world: World, caller: str) -> dict[str, Any]:
    return {"id": await campaign_of_sales_north(world)}


async def fresh_submitted_campaign(world: World, caller: str) -> dict[str, Any]:
    created = await campaigns.create_campaign(
        world.system,
        {
            "title": "Offer",
            "code": f"offer-{uuid.uuid4().hex[:8]}",
            "campaign_type": "promotion",
            "visibility": "internal",
            "template_keys": ["newsletter"],
            "owner_id": world.sales_north_id(),
        },
    )
    await campaigns.transition_campaign(world.system, created.id, "submit")
    return {"id": gid("Campaign", created.id), "contact": world.ids["contact_north"]}


async def unique_campaign_code(world: World, caller: str) -> dict[str, Any]:
    return {"code": f"{caller.replace('_', '-')}-{uuid.uuid4().hex[:6]}"}


# Campaigns: everyone in the agency reads the ones their visibility shows; admins and marketing
# change any, sales heads their team's, sales people their own; API keys have no access.
CAMPAIGN_READ = everyone(
    "ok", other_agency_admin="hidden", api_read="forbidden", api_read_write="forbidden"
)
CAMPAIGN_WRITE_OF_NORTH = everyone(
    "forbidden",
    admin="ok",
    head_north="ok",
    sales_north="ok",
    marketing="ok",
    other_agency_admin="hidden",
)
CAMPAIGN_CREATE = {**CAMPAIGN_WRITE_OF_NORTH, "sales_south": "ok", "other_agency_admin": "ok"}


async def card_scan_of_sales_north(world: World, caller: str) -> dict[str, Any]:
    """A draft as scanning a card writes it (the OCR itself is tested in test_card_scans_api)."""
    scan = await CardScan.create(
        agency_id=world.system.agency_id,
        owner_id=world.sales_north_id(),
        extracted={"name": {"value": "Kim Lee", "confidence": 0.9}},
    )
    return {"id": gid("CardScan", scan.id)}


async def card_scans_of_sales_north(world: World, caller: str) -> dict[str, Any]:
    await card_scan_of_sales_north(world, caller)
    return {}


async def email_account_of_sales_north(world: World) -> str:
    """A connected mailbox, written as `addEmailAccount` would after signing in to it."""
    account = await EmailAccount.create(
        agency_id=world.system.agency_id,
        user_id=world.sales_north_id(),
        purpose="sales",
        host="imap.example.com",
        port=993,
        security="ssl",
        username=f"north-{uuid.uuid4().hex[:6]}@example.com",
        password_encrypted="sealed",
    )
    return gid("EmailAccount", account.id)


async def fresh_email_account(world: World, caller: str) -> dict[str, Any]:
    return {"id": await email_account_of_sales_north(world)}


async def the_template(world: World, caller: str) -> dict[str, Any]:
    return {"key": world.ids["template"]}


async def fresh_template(world: World, caller: str) -> dict[str, Any]:
    return {"key": await template_of_agency_a(world)}


async def template_for_contact_north(world: World, caller: str) -> dict[str, Any]:
    return {"key": world.ids["template"], "id": world.ids["contact_north"]}


async def unique_template_key(world: World, caller: str) -> dict[str, Any]:
    return {"key": f"{caller.replace('_', '-')}-{uuid.uuid4().hex[:6]}"}


async def unique_field_key(world: World, caller: str) -> dict[str, Any]:
    return {"key": f"{caller}_{uuid.uuid4().hex[:6]}"}


PAYLOAD = "errors { code }"

CASES: dict[str, Case] = {
    # Queries
    "me": Case(
        "{ me { email } }",
        everyone("ok", api_read="hidden", api_read_write="hidden"),
    ),
    "contact": Case("query($id: ID!) { contact(id: $id) { id } }", SALES_READ, contact_north),
    "contacts": Case(
        "{ contacts(first: 100) { edges { node { id } } } }",
        SALES_READ,
        target=lambda w: w.ids["contact_north"],
    ),
    "customer": Case("query($id: ID!) { customer(id: $id) { id } }", SALES_READ, customer_north),
    "customers": Case(
        "{ customers(first: 100) { edges { node { id } } } }",
        SALES_READ,
        target=lambda w: w.ids["customer_north"],
    ),
    "callingTask": Case("query($id: ID!) { callingTask(id: $id) { id } }", SALES_READ, task_north),
    "callingTasks": Case(
        "{ callingTasks(first: 100) { edges { node { id } } } }",
        SALES_READ,
        target=lambda w: w.ids["task_north"],
    ),
    "meeting": Case("query($id: ID!) { meeting(id: $id) { id } }", SALES_READ, meeting_north),
    "meetings": Case(
        "{ meetings(first: 100) { edges { node { id } } } }",
        SALES_READ,
        target=lambda w: w.ids["meeting_north"],
    ),
    "proposeMeeting": Case(
        "mutation($contact: ID!, $at: DateTime!) { proposeMeeting(input: {contactId: $contact, "
        f'title: "Meet", slots: [$at], durationMinutes: 30}}) {{ {PAYLOAD} }} }}',
        SALES_WRITE,
        slot_for_contact_north,
    ),
    "holdMeeting": Case(
        f"mutation($id: ID!) {{ holdMeeting(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        SALES_WRITE,
        fresh_booked_meeting,
    ),
    "markMeetingNoShow": Case(
        f"mutation($id: ID!) {{ markMeetingNoShow(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        SALES_WRITE,
        fresh_booked_meeting,
    ),
    "cancelMeeting": Case(
        f"mutation($id: ID!) {{ cancelMeeting(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        SALES_WRITE,
        fresh_booked_meeting,
    ),
    "rescheduleMeeting": Case(
        "mutation($id: ID!, $at: DateTime!) "
        f"{{ rescheduleMeeting(input: {{id: $id, startsAt: $at}}) {{ {PAYLOAD} }} }}",
        SALES_WRITE,
        fresh_booked_meeting_and_time,
    ),
    "lead": Case("query($id: ID!) { lead(id: $id) { id } }", SALES_READ, lead_north),
    "ticket": Case("query($id: ID!) { ticket(id: $id) { id } }", TICKET_READ, ticket_north),
    "article": Case("query($id: ID!) { article(id: $id) { id } }", KB_READ, article_of_agency_a),
    "articles": Case(
        "{ articles(first: 100) { edges { node { id } } } }",
        KB_READ,
        article_of_agency_a,
        target=lambda w: w.ids["article"],
    ),
    "businessCalendar": Case("{ businessCalendar { timeZone } }", SERVICE_LEVELS_READ),
    "ticketAssignmentRules": Case(
        "{ ticketAssignmentRules { category } }",
        SERVICE_LEVELS_READ,
    ),
    "scoringRules": Case(
        "{ scoringRules { version } }",
        everyone("ok", sysadmin="forbidden", other_agency_admin="hidden"),
        acme_scoring_rules,
    ),
    "contactScore": Case(
        "query($id: ID!) { contactScore(contactId: $id) { total } }",
        SALES_READ,
        scored_contact_north,
    ),
    "leadAssignmentRules": Case(
        "{ leadAssignmentRules { fallbackOwnerId } }", everyone("ok", sysadmin="forbidden")
    ),
    # Who oversees others sees the spread: not sales people (their own records only).
    "leadDistribution": Case(
        "{ leadDistribution { name } }",
        everyone("ok", sysadmin="forbidden", sales_north="forbidden", sales_south="forbidden"),
    ),
    "slaPolicy": Case(
        "{ slaPolicy { version } }",
        {**SERVICE_LEVELS_READ, "other_agency_admin": "hidden"},
        acme_sla_policy,
    ),
    "tickets": Case(
        "{ tickets(first: 100) { edges { node { id } } } }",
        TICKET_READ,
        target=lambda w: w.ids["ticket_north"],
    ),
    "leads": Case(
        "{ leads(first: 100) { edges { node { id } } } }",
        SALES_READ,
        target=lambda w: w.ids["lead_north"],
    ),
    "deal": Case("query($id: ID!) { deal(id: $id) { id } }", SALES_READ, deal_north),
    # deal_north is due to close in January 2030: it counts for those who may read it.
    "salesDashboard": Case(
        '{ salesDashboard(filter: {from: "2030-01-01", to: "2030-01-31"}) '
        "{ openDealsByStage { deals } } }",
        SALES_READ,
        target=lambda w: '"deals": 1',
    ),
    # ticket_north (new, handed to sales_north) is sales_north's one open ticket.
    "supportDashboard": Case(
        'query($owner: ID!) { supportDashboard(filter: {from: "2030-01-01", to: "2030-01-31", '
        "ownerId: $owner}) { openTickets { tickets } } }",
        TICKET_READ,
        sales_north_as_owner,
        target=lambda w: '"tickets": 1',
    ),
    # The machinery: each agency's admins and sysadmins see their own (filtered by agency).
    "sysadminDashboard": Case(
        '{ sysadminDashboard(filter: {from: "2030-01-01", to: "2030-01-31"}) { outboxPending } }',
        everyone("forbidden", admin="ok", sysadmin="ok", other_agency_admin="ok"),
    ),
    "quotas": Case(
        '{ quotas(from: "2030-06-01", to: "2030-06-30") { quota { amount } } }',
        SALES_READ,
        after_quota_of_sales_north,
        target=lambda w: "4242",
    ),
    "salesHeadDashboard": Case(
        '{ salesHeadDashboard(filter: {from: "2030-01-01", to: "2030-01-31"}) '
        "{ pipelineByStageAndOwner { ownerId } } }",
        SALES_READ,
        target=lambda w: w.ids["sales_north"],
    ),
    "deals": Case(
        "{ deals(first: 100) { edges { node { id } } } }",
        SALES_READ,
        target=lambda w: w.ids["deal_north"],
    ),
    "notifications": Case(
        "{ notifications { edges { node { id } } } }",
        OWN_NOTIFICATIONS,
        target=lambda w: w.ids["notification_north"],
    ),
    "unreadNotificationCount": Case(
        "{ unreadNotificationCount }",
        everyone("ok", api_read="forbidden", api_read_write="forbidden"),
    ),
    "node": Case("query($id: ID!) { node(id: $id) { id } }", SALES_READ, contact_north),
    "pipeline": Case("query($id: ID!) { pipeline(id: $id) { id } }", PIPELINE_READ, pipeline_id),
    "pipelines": Case("{ pipelines { id } }", PIPELINE_READ, target=lambda w: w.ids["pipeline"]),
    "tags": Case("{ tags { tag { id } } }", PIPELINE_READ, target=lambda w: w.ids["tag"]),
    "user": Case("query($id: ID!) { user(id: $id) { id } }", USER_READ, user_sales_north),
    "users": Case(
        "{ users(first: 100) { edges { node { id } } } }",
        USER_READ,
        target=lambda w: w.ids["sales_north"],
    ),
    # Everyone reads their own agency's profile; agency B's admin sees Bolt's, never Acme's.
    "agency": Case(
        "{ agency { slug } }",
        everyone("ok", other_agency_admin="hidden"),
        target=lambda w: '"acme"',
    ),
    "messageTemplates": Case(
        "{ messageTemplates { key } }", TEMPLATE_READ, target=lambda w: w.ids["template"]
    ),
    "messageTemplate": Case(
        "query($key: String!) { messageTemplate(key: $key) { key } }", TEMPLATE_READ, the_template
    ),
    # Reading the template and the contact: the sysadmin reads no sales records.
    "previewMessageTemplate": Case(
        "query($key: String!, $id: ID!) "
        "{ previewMessageTemplate(key: $key, recordId: $id) { subject } }",
        {**TEMPLATE_READ, "sysadmin": "forbidden", "sales_south": "hidden"},
        template_for_contact_north,
    ),
    "messagePreferences": Case(
        "query($id: ID!) { messagePreferences(recordId: $id) { receives } }",
        SALES_READ,
        contact_north,
    ),
    "orgUnits": Case(
        "{ orgUnits { id } }", ORGANISATION_READ, target=lambda w: w.ids["org_unit_north"]
    ),
    "departments": Case(
        "{ departments { name } }", ORGANISATION_READ, target=lambda w: w.ids["department"]
    ),
    "designations": Case(
        "{ designations { name } }",
        everyone("forbidden", admin="ok", sysadmin="ok", head_north="ok", other_agency_admin="ok"),
    ),
    "apiKeys": Case("{ apiKeys { name } }", ADMIN_ONLY_IN_A, target=lambda w: '"api_read"'),
    "auditEntries": Case(
        "{ auditEntries(first: 100) { edges { node { entityId } } } }",
        ADMIN_ONLY_IN_A,
        target=lambda w: relay.GlobalID.from_id(w.ids["contact_north"]).node_id,
    ),
    "lifecycles": Case("{ lifecycles { recordType } }", everyone("ok")),
    "lifecycle": Case('{ lifecycle(recordType: "Contact") { recordType } }', everyone("ok")),
    # Mutations
    "login": Case(
        "mutation($email: String!, $password: String!) "
        f"{{ login(input: {{email: $email, password: $password}}) {{ {PAYLOAD} }} }}",
        dict.fromkeys(CALLERS, "ok"),
        login_variables,
    ),
    "refreshSession": Case(
        "mutation($token: String!) "
        f"{{ refreshSession(input: {{refreshToken: $token}}) {{ {PAYLOAD} }} }}",
        dict.fromkeys(CALLERS, "ok"),
        refresh_variables,
    ),
    "logout": Case(
        f"mutation {{ logout {{ {PAYLOAD} }} }}",
        everyone("ok", api_read="unauthenticated", api_read_write="unauthenticated"),
    ),
    "changePassword": Case(
        "mutation($current: String!, $new: String!) { changePassword(input: "
        f"{{currentPassword: $current, newPassword: $new}}) {{ {PAYLOAD} }} }}",
        everyone("ok", api_read="unauthenticated", api_read_write="unauthenticated"),
        own_passwords,
    ),
    "requestPasswordReset": Case(
        "mutation($email: String!) "
        f"{{ requestPasswordReset(input: {{email: $email}}) {{ {PAYLOAD} }} }}",
        dict.fromkeys(CALLERS, "ok"),
        unknown_email,
    ),
    # Anyone may try a token; one that was never emailed is refused alike for everyone
    # (tests/e2e/test_passwords_api.py resets with real ones).
    "resetPassword": Case(
        'mutation { resetPassword(input: {token: "not.a.link", newPassword: "long enough!"}) '
        f"{{ {PAYLOAD} }} }}",
        dict.fromkeys(CALLERS, "payload error INVALID_LINK"),
    ),
    "updateMyProfile": Case(
        f'mutation {{ updateMyProfile(input: {{timeZone: "UTC"}}) {{ {PAYLOAD} }} }}',
        everyone("ok", api_read="forbidden", api_read_write="forbidden"),
    ),
    "createContact": Case(
        "mutation($owner: ID!) "
        f'{{ createContact(input: {{firstName: "New", ownerId: $owner}}) {{ {PAYLOAD} }} }}',
        everyone(
            "forbidden",
            admin="ok",
            head_north="ok",
            sales_north="ok",
            other_agency_admin="hidden",
            api_read_write="ok",
        ),
        contact_for_sales_north,
    ),
    "updateContact": Case(
        "mutation($id: ID!) "
        f'{{ updateContact(input: {{id: $id, jobTitle: "CTO"}}) {{ {PAYLOAD} }} }}',
        SALES_WRITE,
        fresh_contact,
    ),
    "deleteContact": Case(
        f"mutation($id: ID!) {{ deleteContact(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        SALES_WRITE,
        fresh_contact,
    ),
    "duplicatesOf": Case(
        "query($id: ID!) { duplicatesOf(id: $id) { score } }", SALES_READ, contact_north
    ),
    "mergeContacts": Case(
        "mutation($survivor: ID!, $merged: ID!) { mergeContacts(input: "
        f"{{survivorId: $survivor, mergedIds: [$merged]}}) {{ {PAYLOAD} }} }}",
        SALES_WRITE,
        fresh_contact_pair,
    ),
    "mergeCustomers": Case(
        "mutation($survivor: ID!, $merged: ID!) { mergeCustomers(input: "
        f"{{survivorId: $survivor, mergedIds: [$merged]}}) {{ {PAYLOAD} }} }}",
        SALES_WRITE,
        fresh_customer_pair,
    ),
    "undoMerge": Case(
        f"mutation($id: ID!) {{ undoMerge(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        SALES_WRITE,
        fresh_contact_merge,
    ),
    "eraseContact": Case(
        f"mutation($id: ID!) {{ eraseContact(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_IN_A,
        fresh_contact,
    ),
    "transitionContact": Case(
        "mutation($id: ID!) "
        f"{{ transitionContact(input: {{id: $id, event: MARK_HOT}}) {{ {PAYLOAD} }} }}",
        SALES_WRITE,
        fresh_contact,
    ),
    "createCustomer": Case(
        "mutation($owner: ID!) "
        f'{{ createCustomer(input: {{name: "New", ownerId: $owner}}) {{ {PAYLOAD} }} }}',
        everyone(
            "forbidden",
            admin="ok",
            head_north="ok",
            sales_north="ok",
            other_agency_admin="hidden",
            api_read_write="ok",
        ),
        contact_for_sales_north,
    ),
    "updateCustomer": Case(
        f'mutation($id: ID!) {{ updateCustomer(input: {{id: $id, rating: "A"}}) {{ {PAYLOAD} }} }}',
        SALES_WRITE,
        fresh_customer,
    ),
    "deleteCustomer": Case(
        f"mutation($id: ID!) {{ deleteCustomer(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        SALES_WRITE,
        fresh_customer,
    ),
    "transitionCustomer": Case(
        "mutation($id: ID!) "
        f"{{ transitionCustomer(input: {{id: $id, event: SUBMIT}}) {{ {PAYLOAD} }} }}",
        SALES_WRITE,
        fresh_customer,
    ),
    "linkCustomerContact": Case(
        "mutation($id: ID!, $contact: ID!) "
        f"{{ linkCustomerContact(input: {{id: $id, contactId: $contact}}) {{ {PAYLOAD} }} }}",
        SALES_WRITE,
        fresh_customer_to_link,
    ),
    "unlinkCustomerContact": Case(
        "mutation($id: ID!, $contact: ID!) "
        f"{{ unlinkCustomerContact(input: {{id: $id, contactId: $contact}}) {{ {PAYLOAD} }} }}",
        SALES_WRITE,
        fresh_customer_linked,
    ),
    "convertContact": Case(
        f"mutation($id: ID!) {{ convertContact(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        SALES_WRITE,
        fresh_hot_contact,
    ),
    "createCallingTask": Case(
        "mutation($contact: ID!, $assignee: ID!) { createCallingTask(input: "
        f'{{subject: "Call", contactId: $contact, assigneeId: $assignee}}) {{ {PAYLOAD} }} }}',
        everyone(
            "forbidden",
            admin="ok",
            head_north="ok",
            sales_north="ok",
            sales_south="hidden",
            other_agency_admin="hidden",
            api_read_write="ok",
        ),
        task_for_sales_north,
    ),
    "updateCallingTask": Case(
        "mutation($id: ID!) "
        f'{{ updateCallingTask(input: {{id: $id, subject: "Re-call"}}) {{ {PAYLOAD} }} }}',
        SALES_WRITE,
        fresh_task,
    ),
    "deleteCallingTask": Case(
        f"mutation($id: ID!) {{ deleteCallingTask(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        SALES_WRITE,
        fresh_task,
    ),
    "addNote": Case(
        f'mutation($id: ID!) {{ addNote(input: {{recordId: $id, body: "hi"}}) {{ {PAYLOAD} }} }}',
        SALES_WRITE,
        customer_north,
    ),
    "updateNote": Case(
        f'mutation($id: ID!) {{ updateNote(input: {{id: $id, body: "x"}}) {{ {PAYLOAD} }} }}',
        NOTE_EDIT,
        fresh_note,
    ),
    "deleteNote": Case(
        f"mutation($id: ID!) {{ deleteNote(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        NOTE_EDIT,
        fresh_note,
    ),
    "cardScan": Case(
        "query($id: ID!) { cardScan(id: $id) { id } }", SALES_READ, card_scan_of_sales_north
    ),
    "cardScans": Case(
        "{ cardScans(first: 100) { edges { node { name { value } } } } }",
        SALES_READ,
        card_scans_of_sales_north,
        target=lambda w: "Kim Lee",
    ),
    "confirmCardScan": Case(
        f"mutation($id: ID!) {{ confirmCardScan(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        SALES_WRITE,
        card_scan_of_sales_north,
    ),
    "discardCardScan": Case(
        f"mutation($id: ID!) {{ discardCardScan(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        SALES_WRITE,
        card_scan_of_sales_north,
    ),
    "deleteDocument": Case(
        f"mutation($id: ID!) {{ deleteDocument(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        SALES_WRITE,
        fresh_document,
    ),
    "timeline": Case(
        "query($id: ID!) { timeline(recordId: $id) { edges { cursor } } }",
        SALES_READ,
        customer_north,
    ),
    "transitionCallingTask": Case(
        "mutation($id: ID!) "
        f"{{ transitionCallingTask(input: {{id: $id, event: ABORT}}) {{ {PAYLOAD} }} }}",
        SALES_WRITE,
        fresh_task,
    ),
    "createLead": Case(
        "mutation($owner: ID!) "
        f'{{ createLead(input: {{title: "New", ownerId: $owner}}) {{ {PAYLOAD} }} }}',
        everyone(
            "forbidden",
            admin="ok",
            head_north="ok",
            sales_north="ok",
            other_agency_admin="hidden",
            api_read_write="ok",
        ),
        contact_for_sales_north,
    ),
    "setBusinessCalendar": Case(
        "mutation { setBusinessCalendar(input: {weeklyHours: [[[540, 1020]], [], [], [], [], "
        f'[], []], holidayCountry: "GB"}}) {{ {PAYLOAD} }} }}',
        ADMIN_ONLY_OWN_AGENCY,
    ),
    "createArticle": Case(
        f'mutation {{ createArticle(input: {{title: "How to"}}) {{ {PAYLOAD} }} }}',
        everyone("forbidden", admin="ok", support="ok", other_agency_admin="ok"),
    ),
    "updateArticle": Case(
        "mutation($id: ID!) "
        f'{{ updateArticle(input: {{id: $id, category: "access"}}) {{ {PAYLOAD} }} }}',
        KB_WRITE_IN_A,
        article_of_agency_a,
    ),
    "setTicketAssignmentRules": Case(
        f"mutation {{ setTicketAssignmentRules(input: {{rules: []}}) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_OWN_AGENCY,
    ),
    "publishScoringRules": Case(
        f"mutation {{ publishScoringRules(input: {{rules: []}}) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_OWN_AGENCY,
    ),
    "setLeadAssignmentRules": Case(
        f"mutation {{ setLeadAssignmentRules(input: {{rules: []}}) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_OWN_AGENCY,
    ),
    "recordContactBehaviour": Case(
        "mutation($id: ID!) "
        "{ recordContactBehaviour(input: {contactId: $id, behaviour: PAGE_VISIT}) "
        f"{{ {PAYLOAD} }} }}",
        SALES_WRITE,
        contact_north,
    ),
    "publishSlaPolicy": Case(
        "mutation { publishSlaPolicy(input: {targets: [{priority: HIGH, "
        f"firstResponseMinutes: 60}}]}}) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_OWN_AGENCY,
    ),
    # The contact is contact_north: sales_south cannot see it.
    "createTicket": Case(
        "mutation($id: ID!) "
        f'{{ createTicket(input: {{subject: "Help", contactId: $id}}) {{ {PAYLOAD} }} }}',
        TICKET_WRITE,
        contact_north,
    ),
    "updateTicket": Case(
        "mutation($id: ID!) "
        f"{{ updateTicket(input: {{id: $id, priority: HIGH}}) {{ {PAYLOAD} }} }}",
        TICKET_WRITE,
        fresh_ticket,
    ),
    "transitionTicket": Case(
        "mutation($id: ID!) "
        f"{{ transitionTicket(input: {{id: $id, event: START}}) {{ {PAYLOAD} }} }}",
        TICKET_WRITE,
        fresh_ticket,
    ),
    "replyToTicket": Case(
        "mutation($id: ID!) "
        f'{{ replyToTicket(input: {{id: $id, body: "On it"}}) {{ {PAYLOAD} }} }}',
        TICKET_WRITE,
        fresh_ticket,
    ),
    "updateLead": Case(
        f'mutation($id: ID!) {{ updateLead(input: {{id: $id, source: "fair"}}) {{ {PAYLOAD} }} }}',
        SALES_WRITE,
        fresh_lead,
    ),
    "deleteLead": Case(
        f"mutation($id: ID!) {{ deleteLead(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        SALES_WRITE,
        fresh_lead,
    ),
    "transitionLead": Case(
        "mutation($id: ID!) "
        f"{{ transitionLead(input: {{id: $id, event: QUALIFY}}) {{ {PAYLOAD} }} }}",
        SALES_WRITE,
        fresh_lead,
    ),
    "convertLead": Case(
        f"mutation($id: ID!) {{ convertLead(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        SALES_WRITE,
        fresh_qualified_lead,
    ),
    "createDeal": Case(
        "mutation($owner: ID!) { createDeal(input: "
        f'{{name: "New", expectedCloseDate: "2030-01-01", ownerId: $owner}}) {{ {PAYLOAD} }} }}',
        everyone(
            "forbidden",
            admin="ok",
            head_north="ok",
            sales_north="ok",
            other_agency_admin="hidden",
            api_read_write="ok",
        ),
        contact_for_sales_north,
    ),
    "updateDeal": Case(
        f'mutation($id: ID!) {{ updateDeal(input: {{id: $id, name: "Big"}}) {{ {PAYLOAD} }} }}',
        SALES_WRITE,
        fresh_deal,
    ),
    "deleteDeal": Case(
        f"mutation($id: ID!) {{ deleteDeal(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        SALES_WRITE,
        fresh_deal,
    ),
    "moveDeal": Case(
        "mutation($id: ID!, $stage: ID!) "
        f"{{ moveDeal(input: {{id: $id, stageId: $stage}}) {{ {PAYLOAD} }} }}",
        SALES_WRITE,
        fresh_deal_and_next_stage,
    ),
    "markNotificationsRead": Case(
        f"mutation($ids: [ID!]) {{ markNotificationsRead(input: {{ids: $ids}}) {{ {PAYLOAD} }} }}",
        OWN_NOTIFICATIONS,
        fresh_notification,
    ),
    # Sales heads set their team's quotas, admins anyone's; never an API key.
    "setQuota": Case(
        'mutation($owner: ID!) { setQuota(input: {ownerId: $owner, from: "2030-01-01", '
        f'to: "2030-03-31", amount: "10"}}) {{ {PAYLOAD} }} }}',
        everyone("forbidden", admin="ok", head_north="ok", other_agency_admin="hidden"),
        sales_north_to_set_quota,
    ),
    "deleteQuota": Case(
        f"mutation($id: ID!) {{ deleteQuota(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        {
            **everyone("forbidden", admin="ok", head_north="ok", other_agency_admin="hidden"),
            "sales_south": "hidden",
        },
        quota_of_sales_north,
    ),
    "createTag": Case(
        f"mutation($name: String!) {{ createTag(input: {{name: $name}}) {{ {PAYLOAD} }} }}",
        TAG_CURATORS,
        unique_name,
    ),
    "updateTag": Case(
        f'mutation($id: ID!) {{ updateTag(input: {{id: $id, color: "#ff0000"}}) {{ {PAYLOAD} }} }}',
        TAG_CURATORS_IN_A,
        fresh_tag,
    ),
    "deleteTag": Case(
        f"mutation($id: ID!) {{ deleteTag(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        TAG_CURATORS_IN_A,
        fresh_tag,
    ),
    "createPipeline": Case(
        f"mutation($name: String!) {{ createPipeline(input: {{name: $name}}) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_OWN_AGENCY,
        unique_name,
    ),
    "updatePipeline": Case(
        "mutation($id: ID!, $name: String!) "
        f"{{ updatePipeline(input: {{id: $id, name: $name}}) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_IN_A,
        pipeline_and_name,
    ),
    "addStage": Case(
        "mutation($id: ID!, $name: String!) { addStage(input: "
        f"{{pipelineId: $id, name: $name, probability: 20}}) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_IN_A,
        pipeline_and_name,
    ),
    "updateStage": Case(
        "mutation($id: ID!) "
        f"{{ updateStage(input: {{id: $id, probability: 35}}) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_IN_A,
        fresh_stage,
    ),
    "reorderStages": Case(
        "mutation($id: ID!, $stages: [ID!]!) "
        f"{{ reorderStages(input: {{pipelineId: $id, stageIds: $stages}}) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_IN_A,
        fresh_pipeline_reversed,
    ),
    "setStageActivities": Case(
        "mutation($id: ID!) "
        f'{{ setStageActivities(input: {{stageId: $id, activities: [{{name: "Call"}}]}}) '
        f"{{ {PAYLOAD} }} }}",
        ADMIN_ONLY_IN_A,
        fresh_stage,
    ),
    "deleteStage": Case(
        f"mutation($id: ID!) {{ deleteStage(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_IN_A,
        fresh_stage,
    ),
    "createUser": Case(
        f"mutation($input: CreateUserInput!) {{ createUser(input: $input) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_IN_A,
        new_user,
    ),
    "updateUser": Case(
        f'mutation($id: ID!) {{ updateUser(input: {{id: $id, name: "Renamed"}}) {{ {PAYLOAD} }} }}',
        ADMIN_ONLY_IN_A,
        user_sales_north,
    ),
    "updateAgency": Case(
        'mutation { updateAgency(input: {website: "https://acme.example.com"}) '
        f"{{ {PAYLOAD} }} }}",
        ADMIN_ONLY_OWN_AGENCY,
    ),
    "sendMessage": Case(
        'mutation($id: ID!) { sendMessage(input: {recordId: $id, subject: "Hi", body: "Hello"}) '
        f"{{ {PAYLOAD} }} }}",
        {**TEMPLATE_READ, "sysadmin": "forbidden", "sales_south": "hidden"},
        contact_north,
    ),
    "updateMessagePreferences": Case(
        "mutation($id: ID!) "
        f"{{ updateMessagePreferences(input: {{recordId: $id, channel: EMAIL}}) {{ {PAYLOAD} }} }}",
        SALES_WRITE,
        contact_north,
    ),
    "notificationChannels": Case(
        "{ notificationChannels { kind channel } }",
        everyone("ok", api_read="forbidden", api_read_write="forbidden"),
    ),
    "setNotificationChannels": Case(
        "mutation { setNotificationChannels(channels: [{kind: REMINDER, channel: BOTH}]) "
        f"{{ {PAYLOAD} }} }}",
        everyone("ok", api_read="forbidden", api_read_write="forbidden"),
    ),
    "broadcasts": Case(
        "{ broadcasts { id } }", BROADCAST_READ, target=lambda w: w.ids["broadcast"]
    ),
    "createBroadcast": Case(
        'mutation { createBroadcast(input: {name: "N", template: "newsletter", '
        f'sendAt: "2099-01-01T09:00:00Z"}}) {{ {PAYLOAD} }} }}',
        BROADCAST_WRITE_OWN_AGENCY,
    ),
    "cancelBroadcast": Case(
        f"mutation($id: ID!) {{ cancelBroadcast(id: $id) {{ {PAYLOAD} }} }}",
        BROADCAST_WRITE_IN_A,
        fresh_broadcast,
    ),
    "recordImport": Case(
        "query($id: ID!) { recordImport(id: $id) { id } }",
        IMPORT_READ,
        import_north,
    ),
    "startRecordImport": Case(
        "mutation($id: ID!) { startRecordImport(input: {id: $id, mapping: "
        f'[{{column: "Name", field: "first_name"}}]}}) {{ {PAYLOAD} }} }}',
        IMPORT_WRITE,
        fresh_import,
    ),
    "cancelRecordImport": Case(
        f"mutation($id: ID!) {{ cancelRecordImport(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        IMPORT_WRITE,
        fresh_import,
    ),
    "campaigns": Case(
        "{ campaigns { edges { node { id } } } }",
        CAMPAIGN_READ,
        target=lambda w: w.ids["campaign_north"],
    ),
    "campaign": Case("query($id: ID!) { campaign(id: $id) { id } }", CAMPAIGN_READ, campaign_north),
    "createCampaign": Case(
        'mutation($code: String!) { createCampaign(input: {title: "T", code: $code, '
        f"type: PROMOTION}}) {{ {PAYLOAD} }} }}",
        CAMPAIGN_CREATE,
        unique_campaign_code,
    ),
    "updateCampaign": Case(
        "mutation($id: ID!) "
        f'{{ updateCampaign(input: {{id: $id, title: "New"}}) {{ {PAYLOAD} }} }}',
        CAMPAIGN_WRITE_OF_NORTH,
        fresh_campaign,
    ),
    "transitionCampaign": Case(
        "mutation($id: ID!) "
        f"{{ transitionCampaign(input: {{id: $id, event: SUBMIT}}) {{ {PAYLOAD} }} }}",
        CAMPAIGN_WRITE_OF_NORTH,
        fresh_campaign,
    ),
    "shareCampaign": Case(
        "mutation($id: ID!, $contact: ID!) { shareCampaign(input: {id: $id, "
        f'template: "newsletter", recipients: [$contact]}}) {{ {PAYLOAD} }} }}',
        BROADCAST_WRITE_IN_A,
        fresh_submitted_campaign,
    ),
    "emailAccounts": Case(
        "{ emailAccounts { id } }",
        EMAIL_ACCOUNTS_OF_NORTH,
        target=lambda w: w.ids["email_account"],
    ),
    "addEmailAccount": Case(
        'mutation { addEmailAccount(input: {host: "imap.invalid", username: "u", '
        f'password: "p"}}) {{ {PAYLOAD} }} }}',
        EMAIL_ACCOUNT_ADD,
    ),
    "removeEmailAccount": Case(
        f"mutation($id: ID!) {{ removeEmailAccount(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        EMAIL_ACCOUNTS_OF_NORTH,
        fresh_email_account,
    ),
    "createMessageTemplate": Case(
        'mutation($key: String!) { createMessageTemplate(input: {key: $key, name: "N", '
        f'kind: SALES, subject: "Hi", textBody: "Hello"}}) {{ {PAYLOAD} }} }}',
        TEMPLATE_WRITE_OWN_AGENCY,
        unique_template_key,
    ),
    "editMessageTemplate": Case(
        "mutation($key: String!) "
        f'{{ editMessageTemplate(input: {{key: $key, subject: "Hey"}}) {{ {PAYLOAD} }} }}',
        TEMPLATE_WRITE_IN_A,
        the_template,
    ),
    "publishMessageTemplate": Case(
        "mutation($key: String!) "
        f"{{ publishMessageTemplate(input: {{key: $key}}) {{ {PAYLOAD} }} }}",
        TEMPLATE_WRITE_IN_A,
        fresh_template,
    ),
    "createOrgUnit": Case(
        "mutation($name: String!, $parent: ID!) "
        f"{{ createOrgUnit(input: {{name: $name, parentId: $parent}}) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_IN_A,
        org_unit_north,
    ),
    "updateOrgUnit": Case(
        "mutation($id: ID!, $name: String!) "
        f"{{ updateOrgUnit(input: {{id: $id, name: $name}}) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_IN_A,
        fresh_org_unit,
    ),
    "removeOrgUnit": Case(
        f"mutation($id: ID!) {{ removeOrgUnit(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_IN_A,
        fresh_org_unit,
    ),
    "updateDepartment": Case(
        "mutation($id: ID!, $name: String!) "
        f"{{ updateDepartment(input: {{id: $id, name: $name}}) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_IN_A,
        fresh_department,
    ),
    "removeDepartment": Case(
        f"mutation($id: ID!) {{ removeDepartment(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_IN_A,
        fresh_department,
    ),
    "updateDesignation": Case(
        "mutation($id: ID!, $name: String!) "
        f"{{ updateDesignation(input: {{id: $id, name: $name}}) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_IN_A,
        fresh_designation,
    ),
    "removeDesignation": Case(
        f"mutation($id: ID!) {{ removeDesignation(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_IN_A,
        fresh_designation,
    ),
    "createDepartment": Case(
        f"mutation($name: String!) {{ createDepartment(input: {{name: $name}}) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_OWN_AGENCY,
        unique_name,
    ),
    "createDesignation": Case(
        f"mutation($name: String!) {{ createDesignation(input: {{name: $name}}) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_OWN_AGENCY,
        unique_name,
    ),
    "createApiKey": Case(
        "mutation($name: String!) "
        f"{{ createApiKey(input: {{name: $name, scopes: [READ]}}) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_OWN_AGENCY,
        unique_name,
    ),
    "revokeApiKey": Case(
        f"mutation($id: ID!) {{ revokeApiKey(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_IN_A,
        spare_key,
    ),
    "webhookEndpoints": Case(
        "{ webhookEndpoints { url } }",
        ADMIN_ONLY_IN_A,
        acme_webhook_endpoint,
        target=lambda w: ACME_HOOK,
    ),
    "webhookDeliveries": Case(
        "{ webhookDeliveries(first: 100) { edges { node { eventType } } } }",
        ADMIN_ONLY_IN_A,
        acme_webhook_delivery,
        target=lambda w: '"contact.created"',
    ),
    "createWebhookEndpoint": Case(
        "mutation($name: String!) { createWebhookEndpoint(input: "
        '{url: "https://93.184.216.34/new", eventTypes: ["*"], description: $name}) '
        f"{{ {PAYLOAD} }} }}",
        ADMIN_ONLY_OWN_AGENCY,
        unique_name,
    ),
    "updateWebhookEndpoint": Case(
        "mutation($id: ID!) "
        f"{{ updateWebhookEndpoint(input: {{id: $id, active: false}}) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_IN_A,
        fresh_webhook_endpoint,
    ),
    "deleteWebhookEndpoint": Case(
        f"mutation($id: ID!) {{ deleteWebhookEndpoint(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_IN_A,
        fresh_webhook_endpoint,
    ),
    "rotateWebhookSecret": Case(
        f"mutation($id: ID!) {{ rotateWebhookSecret(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_IN_A,
        fresh_webhook_endpoint,
    ),
    "redeliverWebhookDelivery": Case(
        f"mutation($id: ID!) {{ redeliverWebhookDelivery(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        ADMIN_ONLY_IN_A,
        failed_webhook_delivery,
    ),
    # Flows: definitions are the sysadmins' and admins'; runs show to whoever sees the record.
    "flows": Case(
        "{ flows { key publishedVersion } }",
        FLOWS_IN_A,
        flows_of_agency_a,
        target=lambda w: NURTURE,
    ),
    "flow": Case(
        "query($key: String!) { flow(key: $key) { key versions { number } } }",
        FLOWS_IN_A,
        flows_of_agency_a,
    ),
    "flowRuns": Case(
        "query($id: ID!) { flowRuns(recordId: $id) { flowKey status } }",
        everyone("ok", sales_south="hidden", other_agency_admin="hidden"),
        contact_with_a_run,
        target=lambda w: NURTURE,
    ),
    "createFlow": Case(
        f"mutation($document: JSON!) {{ createFlow(document: $document) {{ {PAYLOAD} }} }}",
        everyone("forbidden", admin="ok", sysadmin="ok", other_agency_admin="ok"),
        new_flow_document,
    ),
    "createFlowDraft": Case(
        f"mutation($key: String!) {{ createFlowDraft(key: $key) {{ {PAYLOAD} }} }}",
        FLOWS_IN_A,
        no_flow_draft,
    ),
    "updateFlowDraft": Case(
        "mutation($key: String!, $document: JSON!) "
        f"{{ updateFlowDraft(key: $key, document: $document) {{ {PAYLOAD} }} }}",
        FLOWS_IN_A,
        flow_draft_and_document,
    ),
    "validateFlowDefinition": Case(
        f"mutation($document: JSON!) {{ validateFlowDefinition(document: $document) "
        f"{{ {PAYLOAD} }} }}",
        everyone("forbidden", admin="ok", sysadmin="ok", other_agency_admin="ok"),
        nurture_document,
    ),
    "publishFlowDraft": Case(
        f"mutation($key: String!) {{ publishFlowDraft(key: $key) {{ {PAYLOAD} }} }}",
        FLOWS_IN_A,
        fresh_flow_draft,
    ),
    "rollbackFlow": Case(
        "mutation($key: String!, $version: Int!) "
        f"{{ rollbackFlow(key: $key, version: $version) {{ {PAYLOAD} }} }}",
        FLOWS_IN_A,
        flow_version_one,
    ),
    "cancelFlowRun": Case(
        f"mutation($id: ID!) {{ cancelFlowRun(id: $id) {{ {PAYLOAD} }} }}",
        FLOWS_IN_A,
        fresh_flow_run,
    ),
    "retryFlowRunStep": Case(
        f"mutation($id: ID!) {{ retryFlowRunStep(id: $id) {{ {PAYLOAD} }} }}",
        FLOWS_IN_A,
        fresh_stalled_flow_run,
    ),
    # Custom fields
    "customFields": Case(
        "{ customFields(recordType: CONTACT) { key } }",
        everyone("ok", other_agency_admin="hidden"),
        acme_custom_field,
        target=lambda w: ACME_FIELD,
    ),
    "defineCustomField": Case(
        "mutation($key: String!) { defineCustomField(input: "
        f"{{recordType: LEAD, key: $key, label: $key, type: TEXT}}) {{ {PAYLOAD} }} }}",
        everyone("forbidden", admin="ok", sysadmin="ok", other_agency_admin="ok"),
        unique_field_key,
    ),
    "updateCustomField": Case(
        "mutation($id: ID!) "
        f'{{ updateCustomField(input: {{id: $id, label: "Renamed"}}) {{ {PAYLOAD} }} }}',
        CUSTOM_FIELDS_IN_A,
        fresh_custom_field,
    ),
    "archiveCustomField": Case(
        f"mutation($id: ID!) {{ archiveCustomField(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
        CUSTOM_FIELDS_IN_A,
        fresh_custom_field,
    ),
    # Subscriptions (over graphql-transport-ws): `ok` when the first event replayed is
    # contact_north's creation, `hidden` when it is the caller's own later notice.
    "events": Case(
        "subscription($after: String) { events(after: $after) { nodeId } }",
        everyone(
            "ok",
            sysadmin="hidden",
            sales_south="hidden",
            other_agency_admin="hidden",
            api_read="forbidden",
            api_read_write="forbidden",
        ),
        events_from_contact_north,
        target=lambda w: w.ids["contact_north"],
    ),
}

# The customer portal: its own fields answer a portal session only (staff: FORBIDDEN);
# requesting a link and signing in are public (an unknown address and a made-up token are
# answered alike for everyone).
PORTAL_ONLY = everyone("forbidden", portal="ok")
CASES.update(
    {
        "portalMe": Case("{ portalMe { contactName } }", PORTAL_ONLY),
        "portalTickets": Case(
            "{ portalTickets(first: 100) { edges { node { id } } } }",
            PORTAL_ONLY,
            target=lambda w: w.ids["ticket_portal"],
        ),
        "portalTicket": Case(
            "query($id: ID!) { portalTicket(id: $id) { id } }", PORTAL_ONLY, portal_ticket
        ),
        "portalArticles": Case(
            "{ portalArticles(first: 100) { edges { node { id } } } }",
            PORTAL_ONLY,
            target=lambda w: w.ids["article_public"],
        ),
        "portalArticle": Case(
            "query($id: ID!) { portalArticle(id: $id) { id } }", PORTAL_ONLY, public_article
        ),
        "openPortalTicket": Case(
            f'mutation {{ openPortalTicket(input: {{subject: "Help"}}) {{ {PAYLOAD} }} }}',
            PORTAL_ONLY,
        ),
        "replyToPortalTicket": Case(
            "mutation($id: ID!) "
            f'{{ replyToPortalTicket(input: {{id: $id, body: "Hi"}}) {{ {PAYLOAD} }} }}',
            PORTAL_ONLY,
            portal_ticket,
        ),
        # The portal caller comes last: ending its session ends nobody else's case.
        "signOutOfPortal": Case(f"mutation {{ signOutOfPortal {{ {PAYLOAD} }} }}", PORTAL_ONLY),
        "requestPortalLink": Case(
            "mutation($email: String!) { requestPortalLink(input: "
            f'{{agency: "acme", email: $email}}) {{ {PAYLOAD} }} }}',
            dict.fromkeys(CALLERS, "ok"),
            unknown_email,
        ),
        "signInToPortal": Case(
            f'mutation {{ signInToPortal(input: {{token: "not.a.link"}}) {{ {PAYLOAD} }} }}',
            dict.fromkeys(CALLERS, "payload error INVALID_LINK"),
        ),
    }
)


# Report schedules: admins keep any of the agency's, sales heads and sysadmins their own.
async def schedule_of_head_north(world: World, caller: str) -> dict[str, Any]:
    """A daily sales report head_north schedules for themself (a fresh one per caller)."""
    head = uuid.UUID(relay.GlobalID.from_id(world.ids["head_north"]).node_id)
    sales_north = world.sales_north_id()
    actor = Actor(
        agency_id=world.system.agency_id,
        id=f"user:{head}",
        user_id=head,
        roles=frozenset({Role.SALES_HEAD}),
        team=frozenset({head, sales_north}),
    )
    schedule = await report_schedules.create_schedule(
        actor,
        {
            "name": "North daily",
            "report": "sales",
            "period": "yesterday",
            "frequency": "daily",
            "hour": 7,
            "recipient_ids": [head],
        },
    )
    return {"id": gid("ReportSchedule", schedule.id)}


async def own_report_schedule(world: World, caller: str) -> dict[str, Any]:
    """A report the caller may read, sent to themself (people's own user ids)."""
    emails = {"admin": ADMIN_EMAIL, "other_agency_admin": "admin@bolt.example.com"}
    email = emails.get(caller, f"{caller}@acme.example.com")
    user = await User.get_or_none(email=email)
    me = gid("User", user.id) if user else world.ids["head_north"]
    return {"report": "sysadmin" if caller == "sysadmin" else "sales", "me": me}


REPORT_SCHEDULE_OWN = everyone(
    "forbidden", admin="ok", head_north="ok", sysadmin="hidden", other_agency_admin="hidden"
)
CASES.update(
    {
        "reportSchedules": Case(
            "{ reportSchedules { id } }",
            REPORT_SCHEDULE_OWN,
            schedule_of_head_north,
            target=lambda w: "UmVwb3J0U2NoZWR1bGU",  # a ReportSchedule's global id
        ),
        "createReportSchedule": Case(
            'mutation($report: String!, $me: ID!) { createReportSchedule(input: {name: "Mine", '
            "report: $report, filter: {period: YESTERDAY}, cadence: {frequency: DAILY, hour: 7}, "
            f"recipientIds: [$me]}}) {{ {PAYLOAD} }} }}",
            everyone(
                "forbidden", admin="ok", sysadmin="ok", head_north="ok", other_agency_admin="ok"
            ),
            own_report_schedule,
        ),
        "updateReportSchedule": Case(
            'mutation($id: ID!) { updateReportSchedule(input: {id: $id, name: "Renamed"}) '
            f"{{ {PAYLOAD} }} }}",
            REPORT_SCHEDULE_OWN,
            schedule_of_head_north,
        ),
        **{
            name: Case(
                f"mutation($id: ID!) {{ {name}(input: {{id: $id}}) {{ {PAYLOAD} }} }}",
                REPORT_SCHEDULE_OWN,
                schedule_of_head_north,
            )
            for name in ("pauseReportSchedule", "resumeReportSchedule", "deleteReportSchedule")
        },
    }
)

ERROR_OUTCOMES = {
    "UNAUTHENTICATED": "unauthenticated",
    "FORBIDDEN": "forbidden",
    "NOT_FOUND": "hidden",
}


def root_fields() -> list[str]:
    graphql_schema = schema._schema
    operations = [
        graphql_schema.query_type,
        graphql_schema.mutation_type,
        graphql_schema.subscription_type,
    ]
    return [name for operation in operations if operation for name in operation.fields]


def subscription_fields() -> frozenset[str]:
    subscriptions = schema._schema.subscription_type
    return frozenset(subscriptions.fields if subscriptions else ())


async def subscription_outcome(
    caller: Api, document: str, variables: dict[str, Any], field_name: str, target: str | None
) -> str:
    """The first answer of a subscription over graphql-transport-ws, classified like `outcome`."""
    async with caller.websocket() as ws:
        credentials = {"Authorization": f"Bearer {caller.token}"} if caller.token else {}
        await ws.send_json({"type": "connection_init", "payload": credentials})
        assert (await ws.receive_json(timeout=10))["type"] == "connection_ack"
        query = {"query": document, "variables": variables}
        await ws.send_json({"id": "1", "type": "subscribe", "payload": query})
        message = await ws.receive_json(timeout=10)
    if message["type"] == "error":
        return outcome({"errors": message["payload"]}, field_name, target)
    assert message["type"] == "next", message
    return outcome(message["payload"], field_name, target)


def outcome(body: dict[str, Any], field_name: str, target: str | None) -> str:
    """Classify one answer as ok / hidden / forbidden / unauthenticated (or the odd code)."""
    if body.get("errors"):
        code = body["errors"][0].get("extensions", {}).get("code", "no code")
        return ERROR_OUTCOMES.get(code, f"error {code}: {body['errors'][0]['message']}")
    value = body["data"][field_name]
    if isinstance(value, dict) and "errors" in value:
        if value["errors"]:
            code = value["errors"][0]["code"]
            return ERROR_OUTCOMES.get(code, f"payload error {code}")
        return "ok"
    if value is None:
        return "hidden"
    if target is None:
        return "ok"
    return "ok" if target in json.dumps(value) else "hidden"


# The same fields again on another kind of row: a ticket of customer_north (owned by
# sales_north) that nobody is assigned. Its customer's owner reads it and may not work it;
# the other sales person never sees it, nor does agency B. (field name, case) by case name.
CUSTOMER_TICKET_CASES: dict[str, tuple[str, Case]] = {
    "ticket of sales_north's customer": (
        "ticket",
        Case("query($id: ID!) { ticket(id: $id) { id } }", TICKET_READ, ticket_of_north_customer),
    ),
    "tickets, one of sales_north's customer": (
        "tickets",
        Case(
            "{ tickets(first: 100) { edges { node { id } } } }",
            TICKET_READ,
            made_ticket_of_north_customer,
            target=lambda w: w.ids["ticket_customer_north"],
        ),
    ),
    "transitionTicket of sales_north's customer": (
        "transitionTicket",
        Case(
            CASES["transitionTicket"].document,
            {
                **TICKET_WRITE,
                "head_north": "forbidden",  # reads the agency's, works their team's
                "sales_north": "forbidden",
            },
            fresh_ticket_of_north_customer,
        ),
    ),
    "replyToTicket of sales_north's customer": (
        "replyToTicket",
        Case(
            CASES["replyToTicket"].document,
            {
                **TICKET_WRITE,
                "head_north": "forbidden",
                "sales_north": "forbidden",
                # Those who may work it get as far as the missing contact address.
                **dict.fromkeys(("admin", "support", "api_read_write"), "payload error NO_ADDRESS"),
            },
            fresh_ticket_of_north_customer,
        ),
    ),
}


def test_every_root_field_has_an_access_case() -> None:
    missing = sorted(set(root_fields()) - set(CASES))
    assert not missing, f"root fields without an access case (add them to CASES): {missing}"
    stale = sorted(set(CASES) - set(root_fields()))
    assert not stale, f"cases for fields the schema no longer has: {stale}"


def test_every_case_names_every_caller() -> None:
    incomplete = {name: set(CALLERS) ^ set(case.expected) for name, case in CASES.items()}
    assert not {name: diff for name, diff in incomplete.items() if diff}


@pytest.mark.parametrize("field_name", sorted(CASES))
async def test_each_caller_gets_exactly_the_access_of_its_role(
    api: Api, settings: Settings, field_name: str
) -> None:
    """Agency B never reaches agency A's rows; each role of A gets what its role allows."""
    # The `api` fixture already bootstrapped agency A; this world re-uses it.
    world = await build_world(api, settings.unsubscribe_links())
    await check_case(world, field_name, CASES[field_name])


@pytest.mark.parametrize("name", sorted(CUSTOMER_TICKET_CASES))
async def test_a_sales_person_reads_but_does_not_work_their_customers_tickets(
    api: Api, settings: Settings, name: str
) -> None:
    world = await build_world(api, settings.unsubscribe_links())
    field_name, case = CUSTOMER_TICKET_CASES[name]
    await check_case(world, field_name, case)


async def check_case(world: World, field_name: str, case: Case) -> None:
    """Every caller calls the field; each outcome must be the one the case expects."""
    actual: dict[str, str] = {}
    for caller in CALLERS:
        variables = await case.variables(world, caller)
        target = case.target(world) if case.target else None
        if field_name in subscription_fields():
            actual[caller] = await subscription_outcome(
                world.callers[caller], case.document, variables, field_name, target
            )
            continue
        response = await world.callers[caller].post(
            {"query": case.document, "variables": variables}
        )
        actual[caller] = outcome(response.json(), field_name, target)
    differences = {
        caller: f"expected {case.expected[caller]}, got {actual[caller]}"
        for caller in CALLERS
        if actual[caller] != case.expected[caller]
    }
    assert not differences, json.dumps(differences, indent=2)
