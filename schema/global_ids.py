"""Global ids resolved by one plain function per type, made once when the schema is built."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLResolveInfo
from strawberry import relay
from strawberry.relay.utils import to_base64
from strawberry.types.base import StrawberryObjectDefinition

# Types that are not Nodes but whose `id` is another type's global id, read from `root.id`
# (a summary's `id` is the full record's, so `node(id:)` finds it).
SUMMARY_IDS: Mapping[str, str] = {"UserSummary": "User"}


def resolve_global_ids(converted: strawberry.Schema) -> None:
    """Every Node type's `id` (and each summary type's in `SUMMARY_IDS`) answered by a
    function that encodes `root.id` with the type's name.

    Relay's generic `Node.id` resolver runs, per row, Strawberry's resolver wrapper (info
    object, argument conversion, the extension chain), then looks the type up by name, finds
    its `NodeID` attribute and builds a `GlobalID` that the `ID` scalar turns into the same
    base64 string this function makes directly: about 280 such fields on a page of 100
    contacts. Every Node type here keeps relay's default `resolve_id` and `resolve_typename`
    (the id is the `id` attribute, the name the GraphQL type's); one that overrides either is
    left alone.
    """
    graphql_schema = converted._schema
    for name, graphql_type in graphql_schema.type_map.items():
        if not isinstance(graphql_type, GraphQLObjectType) or "id" not in graphql_type.fields:
            continue
        if name in SUMMARY_IDS:
            graphql_type.fields["id"].resolve = _global_id_of(SUMMARY_IDS[name])
            continue
        definition = converted.get_type_by_name(name)
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        origin = definition.origin
        if (
            issubclass(origin, relay.Node)
            and _default(origin, "resolve_id")
            and _default(origin, "resolve_typename")
            and origin.resolve_id_attr() == "id"
        ):
            graphql_type.fields["id"].resolve = _global_id_of(name)


def _default(node_type: type[relay.Node], method: str) -> bool:
    """Whether the Node type keeps relay's own classmethod `method`."""
    return getattr(node_type, method).__func__ is getattr(relay.Node, method).__func__


def _global_id_of(type_name: str) -> Callable[[Any, GraphQLResolveInfo[Any]], str]:
    def global_id(root: Any, _info: GraphQLResolveInfo[Any]) -> str:
        return to_base64(type_name, root.id)

    return global_id
