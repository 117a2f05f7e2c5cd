"""The query cost: how many objects an operation can ask for, computed from its document
and page sizes before any resolver runs, and the budget that refuses the costly ones.

Depth, alias and token limits bound a document's *shape*, not what it asks the database for:
fifteen aliases of `contacts(first: 100)`, each contact with its timeline and documents of
100, pass all three and kept the API busy for seconds. The cost counts what a document can
return at most, in the way of GitHub's node limit: every object field counts one object per
parent, a connection multiplies what it holds by its page size (`first`, else the field's
default; capped at the maximum page size, which is all the resolver will serve), and a plain
list by its bound (`LIST_BOUNDS`, from the domain's own limits, else `DEFAULT_LIST_BOUND`).
Scalars cost nothing: they come with their object. Aliases add up (the same field asked
twice is counted twice, even where execution would merge it: an over-estimate, never an
under-estimate). On an interface or union, the costliest concrete type counts.

Introspection (`__schema`, `__type`) is not counted: it is answered from the schema in
memory, bounded by the schema's own size and the depth limit, and production can turn it off
(`CRM_INTROSPECTION=false`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLError,
    GraphQLInt,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_object_type,
    value_from_ast,
    value_from_ast_untyped,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from domain.api_keys import MAX_KEYS_PER_AGENCY
from domain.broadcasts import MAX_BROADCASTS
from domain.campaign_counters import MAX_SERIES_DAYS
from domain.campaigns import MAX_EMBED_ORIGINS
from domain.campaigns import MAX_TEMPLATES as MAX_CAMPAIGN_TEMPLATES
from domain.custom_fields import MAX_FIELDS_PER_RECORD_TYPE, CustomFieldRecordType
from domain.customers import MAX_BILLING_UNITS
from domain.email_accounts import MAX_ACCOUNTS
from domain.flows.service import MAX_FLOWS
from domain.lead_assignment import MAX_RULES as MAX_ASSIGNMENT_RULES
from domain.lead_scoring_rules import MAX_RULES as MAX_SCORING_RULES
from domain.lifecycles.registry import lifecycles
from domain.meetings import MAX_SLOTS
from domain.message_templates import MAX_TEMPLATES
from domain.money import ISO_4217
from domain.pagination import MAX_PAGE_SIZE
from domain.pipelines import MAX_ACTIVITIES, MAX_STAGES
from domain.tags import MAX_TAGS_PER_AGENCY
from domain.webhooks import MAX_ENDPOINTS_PER_AGENCY

QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
DEFAULT_MAX_QUERY_COST = 50_000

# A list the domain does not bound (a customer's contacts, a flow's versions, payload errors)
# counts as a full page: lists that may grow past it should become connections.
DEFAULT_LIST_BOUND = MAX_PAGE_SIZE
# Each list field's most items ("Type.field", "*.field" on every type), from the limit the
# domain enforces on it.
LIST_BOUNDS: Mapping[str, int] = {
    # A payload's errors: one per bad input field, made in memory from the input.
    "*.errors": 10,
    **{
        f"{record_type.name.title().replace('_', '')}.customFields": MAX_FIELDS_PER_RECORD_TYPE
        for record_type in CustomFieldRecordType
    },
    "Query.customFields": MAX_FIELDS_PER_RECORD_TYPE * len(CustomFieldRecordType),
    "Customer.billingUnits": MAX_BILLING_UNITS,
    "Meeting.slots": MAX_SLOTS,
    "Pipeline.stages": MAX_STAGES,
    "Stage.activities": MAX_ACTIVITIES,
    "ScoringRules.rules": MAX_SCORING_RULES,
    "ContactScore.parts": MAX_SCORING_RULES,
    "LeadAssignmentRules.rules": MAX_ASSIGNMENT_RULES,
    "Query.tags": MAX_TAGS_PER_AGENCY,
    "TagWithUsage.usage": len(CustomFieldRecordType),
    "Query.apiKeys": MAX_KEYS_PER_AGENCY,
    "Query.emailAccounts": MAX_ACCOUNTS,
    "Query.webhookEndpoints": MAX_ENDPOINTS_PER_AGENCY,
    "Query.flows": MAX_FLOWS,
    "Query.messageTemplates": MAX_TEMPLATES,
    "Query.broadcasts": MAX_BROADCASTS,
    "Campaign.dailyCounts": MAX_SERIES_DAYS,
    "Campaign.templates": MAX_CAMPAIGN_TEMPLATES,
    "CampaignReturn.wonAmounts": len(ISO_4217) + 1,
    "Campaign.embedOrigins": MAX_EMBED_ORIGINS,
    "Query.lifecycles": len(lifecycles()),
    "Lifecycle.states": max(len(lifecycle.states) for lifecycle in lifecycles()),
    "Lifecycle.events": max(len(lifecycle.events) for lifecycle in lifecycles()),
    "Lifecycle.transitions": max(len(lifecycle.transitions) for lifecycle in lifecycles()),
}
# The list fields of a connection type that hold its page.
PAGE_FIELDS = frozenset({"edges", "nodes"})
PAGE_ARGUMENTS = ("first", "last")


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
    list_bounds: Mapping[str, int] = LIST_BOUNDS,
) -> int:
    """The most objects the named operation (with no name: the costliest one) can return."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    costs = [
        _Walk(schema, fragments, _with_defaults(operation, variables), list_bounds).operation(
            operation
        )
        for operation in _operations(document, operation_name)
    ]
    return max(costs, default=0)


def _operations(
    document: DocumentNode, operation_name: str | None
) -> Iterator[OperationDefinitionNode]:
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            operation_name is None
            or (definition.name is not None and definition.name.value == operation_name)
        ):
            yield definition


def _with_defaults(
    operation: OperationDefinitionNode, variables: Mapping[str, Any] | None
) -> dict[str, Any]:
    given = dict(variables or {})
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in given and definition.default_value is not None:
            given[name] = value_from_ast_untyped(definition.default_value)
    return given


class _Walk:
    """One walk of an operation's selections; a fragment is costed once per concrete type and
    page size, so fragments spreading fragments cannot make the walk itself expensive."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        list_bounds: Mapping[str, int],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.list_bounds = list_bounds
        self.fragment_costs: dict[tuple[str, str, int | None], int] = {}
        self.entered: set[str] = set()  # fragment cycles are invalid: validation reports them

    def operation(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        return 0 if root is None else self.selections(operation.selection_set, root, None)

    def selections(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType, page: int | None
    ) -> int:
        """The cost of one object of `parent`: of its costliest concrete type if abstract."""
        if is_abstract_type(parent):
            concrete: Sequence[GraphQLObjectType] = self.schema.get_possible_types(parent)
        elif is_object_type(parent):
            concrete = (parent,)
        else:
            return 0
        return max((self.selections_on(selection_set, t, page) for t in concrete), default=0)

    def selections_on(
        self, selection_set: SelectionSetNode, concrete: GraphQLObjectType, page: int | None
    ) -> int:
        total = 0
        for selection in selection_set.selections:
            if not self.included(selection):
                continue
            if isinstance(selection, FieldNode):
                total += self.field(selection, concrete, page)
            elif isinstance(selection, InlineFragmentNode):
                if self.applies(selection.type_condition, concrete):
                    total += self.selections_on(selection.selection_set, concrete, page)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value, concrete, page)
        return total

    def fragment(self, name: str, concrete: GraphQLObjectType, page: int | None) -> int:
        fragment = self.fragments.get(name)
        if fragment is None or name in self.entered:
            return 0
        if not self.applies(fragment.type_condition, concrete):
            return 0
        key = (name, concrete.name, page)
        if key not in self.fragment_costs:
            self.entered.add(name)
            self.fragment_costs[key] = self.selections_on(fragment.selection_set, concrete, page)
            self.entered.discard(name)
        return self.fragment_costs[key]

    def field(self, node: FieldNode, parent: GraphQLObjectType, page: int | None) -> int:
        name = node.name.value
        field = parent.fields.get(name)
        if field is None or name.startswith("__"):
            return 0
        item_type = get_named_type(field.type)
        if is_leaf_type(item_type):
            return 0
        if not is_list_type(get_nullable_type(field.type)):
            count = 1
        elif page is not None and name in PAGE_FIELDS:
            count = page
        else:
            count = self.list_bound(parent.name, name)
        inner_page = self.page_size(node, field) if _is_paginated(field) else None
        each = (
            self.selections(node.selection_set, item_type, inner_page) if node.selection_set else 0
        )
        return count * (1 + each)

    def list_bound(self, type_name: str, field_name: str) -> int:
        bounds = self.list_bounds
        return bounds.get(
            f"{type_name}.{field_name}", bounds.get(f"*.{field_name}", DEFAULT_LIST_BOUND)
        )

    def page_size(self, node: FieldNode, field: Any) -> int:
        """The page a connection field serves: asked for, else its default, at most the max."""
        for argument in node.arguments or ():
            if argument.name.value in PAGE_ARGUMENTS:
                asked = value_from_ast(argument.value, GraphQLInt, self.variables)
                if isinstance(asked, int):
                    return max(0, min(asked, MAX_PAGE_SIZE))
        default = field.args["first"].default_value if "first" in field.args else None
        return min(default, MAX_PAGE_SIZE) if isinstance(default, int) else MAX_PAGE_SIZE

    def applies(self, condition: Any, concrete: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        target = self.schema.get_type(condition.name.value)
        if target is None:
            return False
        if target is concrete:
            return True
        return is_abstract_type(target) and self.schema.is_sub_type(target, concrete)

    def included(self, node: Any) -> bool:
        """False when `@skip(if: true)` or `@include(if: false)` leaves the selection out."""
        for directive in node.directives or ():
            name = directive.name.value
            if name not in ("skip", "include"):
                continue
            condition = next(
                (a.value for a in directive.arguments or () if a.name.value == "if"), None
            )
            value = (
                None
                if condition is None
                else value_from_ast(condition, GraphQLBoolean, self.variables)
            )
            if value is (name == "skip"):
                return False
        return True


def _is_paginated(field: Any) -> bool:
    return any(argument in field.args for argument in PAGE_ARGUMENTS)


def too_costly(cost: int, budget: int) -> GraphQLError:
    return GraphQLError(
        f"This query can return {cost} objects; the budget is {budget}. Ask for smaller pages "
        "(`first`), fewer nested lists or fewer aliases, and page through the rest.",
        extensions={"code": QUERY_TOO_COSTLY, "cost": cost, "budget": budget},
    )


# Validation depends only on the schema, the document and the (fixed) rules, so its answer is
# cached per parsed document: with `ParserCache` in front, a repeated query text is the same
# document object. Bounded, so unique query texts cannot grow memory.
VALIDATION_CACHE_SIZE = 256
_validated = lru_cache(maxsize=VALIDATION_CACHE_SIZE)(validate_document)


class QueryCost(SchemaExtension):
    """Validate the document (cached for repeated ones) and refuse an operation costing more
    than the budget before any resolver runs (as a validation error: HTTP 400 with
    `application/graphql-response+json`), and report the cost of every operation in the
    response's `extensions.cost`.

    The cost depends on the request's variables, so it is computed for every request; the
    rest of validation (the spec's rules, depth and alias limits) depends on the document
    alone and is answered from a cache when the document was seen before.
    """

    def __init__(self, budget: int = DEFAULT_MAX_QUERY_COST) -> None:
        self.budget = budget
        self.cost: int | None = None

    def on_parse(self) -> Iterator[None]:
        # Right after parsing, so that Strawberry's own (uncached) validation is skipped; not
        # in `on_validate`, which extensions built on this one (rate limits) override.
        yield
        self.validate()

    def validate(self) -> None:
        """Set the operation's validation errors (the cost's first) before Strawberry would
        validate it: it then skips its own validation and answers these. Does nothing when
        the document did not parse or another extension has answered the request already."""
        context = self.execution_context
        schema, document = context.schema._schema, context.graphql_document
        if document is None or context.pre_execution_errors is not None:
            return
        errors = list(_validated(schema, document, tuple(context.validation_rules)))
        self.cost = operation_cost(schema, document, context.variables, context.operation_name)
        if self.cost > self.budget:
            errors.insert(0, too_costly(self.cost, self.budget))
        context.pre_execution_errors = errors

    def get_results(self) -> dict[str, Any]:
        if self.cost is None:
            return {}
        return {"cost": {"requested": self.cost, "budget": self.budget}}
