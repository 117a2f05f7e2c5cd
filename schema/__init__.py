"""The GraphQL schema: root Query, Mutation and Subscription, merged from one module per
aggregate."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
)
from strawberry.extensions.disable_introspection import DisableIntrospection
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from domain.rate_limits import CallerLimits
from schema.agencies import AgencyMutation, AgencyQuery
from schema.api_keys import ApiKeyMutation, ApiKeyQuery
from schema.audit import AuditQuery
from schema.auth import PUBLIC_FIELDS, AuthMutation, AuthQuery
from schema.broadcasts import BroadcastMutation, BroadcastQuery
from schema.calling_tasks import CallingTaskMutation, CallingTaskQuery
from schema.campaigns import CampaignMutation, CampaignQuery
from schema.card_scans import CardScanMutation, CardScanQuery
from schema.contacts import ContactMutation, ContactQuery
from schema.cost import DEFAULT_MAX_QUERY_COST, VALIDATION_CACHE_SIZE, QueryCost
from schema.custom_fields import CustomFieldMutation, CustomFieldQuery
from schema.customers import CustomerMutation, CustomerQuery
from schema.dashboards import DashboardQuery
from schema.deals import DealMutation, DealQuery
from schema.documents import DocumentMutation
from schema.duplicates import DuplicateMutation, DuplicateQuery
from schema.email_accounts import EmailAccountMutation, EmailAccountQuery
from schema.events import EventSubscription, SharedEventExecution
from schema.extensions import (
    MaskUnexpectedErrors,
    OperationLog,
    OperationTracing,
    guard_root_fields,
)
from schema.flows import FlowMutation, FlowQuery
from schema.global_ids import resolve_global_ids
from schema.imports import ImportMutation, ImportQuery
from schema.knowledge_base import KnowledgeBaseMutation, KnowledgeBaseQuery
from schema.lead_assignment import LeadAssignmentMutation, LeadAssignmentQuery
from schema.lead_scoring import LeadScoringMutation, LeadScoringQuery
from schema.leads import LeadMutation, LeadQuery
from schema.lifecycles import LifecycleQuery
from schema.meetings import MeetingMutation, MeetingQuery
from schema.message_preferences import MessagePreferenceMutation, MessagePreferenceQuery
from schema.message_templates import MessageTemplateMutation, MessageTemplateQuery
from schema.messages import MessageMutation
from schema.nodes import NodeQuery
from schema.notes import NoteMutation
from schema.notifications import NotificationMutation, NotificationQuery
from schema.pipelines import PipelineMutation, PipelineQuery
from schema.portal import PORTAL_FIELDS, PORTAL_PUBLIC_FIELDS, PortalMutation, PortalQuery
from schema.privacy import PrivacyMutation
from schema.quotas import QuotaMutation, QuotaQuery
from schema.rate_limits import SpendingLimits
from schema.report_schedules import ReportScheduleMutation, ReportScheduleQuery
from schema.service_levels import ServiceLevelMutation, ServiceLevelQuery
from schema.tags import TagMutation, TagQuery
from schema.ticket_assignment import TicketAssignmentMutation, TicketAssignmentQuery
from schema.tickets import TicketMutation, TicketQuery
from schema.timeline import ENTRY_TYPES, TimelineQuery
from schema.users import UserMutation, UserQuery
from schema.webhooks import WebhookMutation, WebhookQuery

Query = merge_types(
    "Query",
    (
        AuthQuery,
        NodeQuery,
        NotificationQuery,
        ContactQuery,
        CardScanQuery,
        CustomerQuery,
        DuplicateQuery,
        CallingTaskQuery,
        LeadQuery,
        DealQuery,
        MeetingQuery,
        TicketQuery,
        PortalQuery,
        ServiceLevelQuery,
        TicketAssignmentQuery,
        LeadScoringQuery,
        LeadAssignmentQuery,
        KnowledgeBaseQuery,
        PipelineQuery,
        TagQuery,
        UserQuery,
        AgencyQuery,
        ApiKeyQuery,
        EmailAccountQuery,
        AuditQuery,
        LifecycleQuery,
        WebhookQuery,
        FlowQuery,
        MessageTemplateQuery,
        MessagePreferenceQuery,
        BroadcastQuery,
        ImportQuery,
        CampaignQuery,
        CustomFieldQuery,
        TimelineQuery,
        DashboardQuery,
        QuotaQuery,
        ReportScheduleQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        AuthMutation,
        ContactMutation,
        CardScanMutation,
        CustomerMutation,
        DuplicateMutation,
        CallingTaskMutation,
        LeadMutation,
        DealMutation,
        MeetingMutation,
        TicketMutation,
        PortalMutation,
        ServiceLevelMutation,
        TicketAssignmentMutation,
        LeadScoringMutation,
        LeadAssignmentMutation,
        KnowledgeBaseMutation,
        PipelineMutation,
        TagMutation,
        NotificationMutation,
        UserMutation,
        AgencyMutation,
        ApiKeyMutation,
        EmailAccountMutation,
        WebhookMutation,
        FlowMutation,
        MessageTemplateMutation,
        MessageMutation,
        MessagePreferenceMutation,
        BroadcastMutation,
        ImportMutation,
        CampaignMutation,
        CustomFieldMutation,
        NoteMutation,
        DocumentMutation,
        PrivacyMutation,
        QuotaMutation,
        ReportScheduleMutation,
    ),
)
Subscription = merge_types("Subscription", (EventSubscription,))
# merge_types takes no description: the root types get theirs here.
for root, description in (
    (
        Query,
        "Everything a client can read. Every field needs `Authorization: Bearer <access "
        "token or API key>`: anonymous callers may only introspect (and sign in).",
    ),
    (
        Mutation,
        "Everything a client can change. Each mutation takes one `input` and answers "
        "a payload with `errors { field code message }`: expected failures come back there, "
        "with nothing changed.",
    ),
    (Subscription, "Live events over graphql-transport-ws, resumable with `after`."),
):
    root.__strawberry_definition__.description = description  # type: ignore[attr-defined]


# Parsed documents kept for repeated query texts (a bounded LRU, shared by every request).
PARSER_CACHE_SIZE = VALIDATION_CACHE_SIZE


@dataclass(frozen=True, slots=True)
class SchemaLimits:
    """Per-request limits; the defaults are what `crm.settings.Settings` defaults to."""

    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2_000
    max_cost: int = DEFAULT_MAX_QUERY_COST
    introspection: bool = True


class CrmSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Client errors are answers, not incidents; bugs are logged by MaskUnexpectedErrors."""


def build_schema(
    limits: SchemaLimits = SchemaLimits(),
    callers: CallerLimits | None = None,
    traced: bool = False,
) -> strawberry.Schema:
    """The schema with its per-request limits; `callers`: each caller's limits a minute;
    `traced`: a span per operation (only when tracing is on: it costs nothing otherwise)."""
    # The depth and alias rules are made once (strawberry's limiter extensions make new rule
    # classes per request), so a repeated document's validation is found in the cache that
    # `QueryCost` keeps: the cache's key is the document and the rule classes.
    shape_rules: list[type[ASTValidationRule]] = [
        max_depth_rule(limits.max_depth, None, None),
        max_aliases_rule(limits.max_aliases),
    ]
    # Factories, not instances: each request gets fresh extension state.
    extensions: list[Callable[[], SchemaExtension]] = [
        partial(AddValidationRules, shape_rules),
        partial(MaxTokensLimiter, max_token_count=limits.max_tokens),
        partial(ParserCache, maxsize=PARSER_CACHE_SIZE),
        partial(QueryCost, budget=limits.max_cost)
        if callers is None
        else partial(SpendingLimits, callers, budget=limits.max_cost),
        OperationLog,
        MaskUnexpectedErrors,
    ]
    if traced:
        # First: its span encloses the other extensions' work. Before OperationLog in the
        # list, so its end (after theirs) sees the operation's name.
        extensions.insert(0, OperationTracing)
    if not limits.introspection:
        extensions.append(DisableIntrospection)
    built = copy.copy(_converted())
    built.extensions = tuple(extensions)
    return built


@functools.cache
def _converted() -> CrmSchema:
    """The schema's types converted to graphql-core's, once a process.

    The conversion takes about 0.2 s of CPU, and every app (a test makes one each) would pay
    it again; schemas built here differ only in their extensions, which Strawberry reads from
    the schema object on each request, so each gets a shallow copy with its own.
    """
    converted = CrmSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=ENTRY_TYPES,
        # Live events: a document executed once per event, for every subscription that has it.
        execution_context_class=SharedEventExecution,
    )
    guard_root_fields(converted._schema, PUBLIC_FIELDS | PORTAL_PUBLIC_FIELDS, PORTAL_FIELDS)
    resolve_global_ids(converted)
    return converted


schema = build_schema()
