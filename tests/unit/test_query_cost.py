"""The query cost of documents against the real schema (no database, no resolver)."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLObjectType, get_nullable_type, is_list_type, parse

from domain.custom_fields import MAX_FIELDS_PER_RECORD_TYPE
from domain.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from domain.pipelines import MAX_STAGES
from schema import schema
from schema.cost import DEFAULT_LIST_BOUND, LIST_BOUNDS, operation_cost


def cost(document: str, variables: dict[str, Any] | None = None, name: str | None = None) -> int:
    return operation_cost(schema._schema, parse(document), variables, name)


# A contact page: the connection, then per contact an edge and its node.
def contacts_page(first: int, per_contact: int = 0) -> int:
    return 1 + first * (1 + 1 + per_contact)


def test_scalars_cost_nothing_and_objects_one() -> None:
    assert cost("{ __typename }") == 0
    assert cost('{ lifecycle(recordType: "Contact") { recordType diagram } }') == 1


def test_a_connection_multiplies_its_page_by_first() -> None:
    assert cost("{ contacts(first: 7) { edges { node { id firstName tags } } } }") == (
        contacts_page(7)
    )


def test_a_connection_without_first_counts_its_default_page() -> None:
    assert cost("{ contacts { edges { node { id } } } }") == contacts_page(DEFAULT_PAGE_SIZE)


def test_a_page_over_the_maximum_counts_as_the_maximum_the_resolver_serves() -> None:
    assert cost("{ contacts(first: 5000) { edges { node { id } } } }") == (
        contacts_page(MAX_PAGE_SIZE)
    )


def test_page_sizes_come_from_variables_and_their_defaults() -> None:
    document = "query($n: Int = 3) { contacts(first: $n) { edges { node { id } } } }"
    assert cost(document, {"n": 40}) == contacts_page(40)
    assert cost(document) == contacts_page(3)
    # An unset variable without a default: the field's default page.
    assert cost("query($n: Int) { contacts(first: $n) { edges { node { id } } } }") == (
        contacts_page(DEFAULT_PAGE_SIZE)
    )


def test_nested_connections_multiply() -> None:
    document = """{ contacts(first: 10) { edges { node {
        timeline(first: 30) { edges { node { kind } } }
    } } } }"""
    timeline = 1 + 30 * 2
    assert cost(document) == contacts_page(10, timeline)


def test_a_plain_list_counts_its_declared_bound() -> None:
    assert cost("{ pipelines { stages { id } } }") == DEFAULT_LIST_BOUND * (1 + MAX_STAGES)
    document = "{ contacts(first: 2) { edges { node { customFields { key } } } } }"
    assert cost(document) == contacts_page(2, MAX_FIELDS_PER_RECORD_TYPE)


def test_a_payload_counts_its_errors_as_a_short_list() -> None:
    document = 'mutation { createTag(input: {name: "x"}) { errors { code } } }'
    assert cost(document) == 1 + LIST_BOUNDS["*.errors"]


@pytest.mark.parametrize("key", sorted(LIST_BOUNDS))
def test_every_declared_bound_names_a_list_field_of_the_schema(key: str) -> None:
    type_name, field_name = key.split(".")
    types = [
        t
        for t in schema._schema.type_map.values()
        if isinstance(t, GraphQLObjectType) and type_name in ("*", t.name)
    ]
    fields = [t.fields[field_name] for t in types if field_name in t.fields]
    assert fields, f"{key} names no field"
    assert all(is_list_type(get_nullable_type(f.type)) for f in fields), f"{key} is no list"


def test_aliases_add_up() -> None:
    one = "contacts(first: 10) { edges { node { id } } }"
    assert cost(f"{{ a: {one} b: {one} c: {one} }}") == 3 * contacts_page(10)


def test_named_and_inline_fragments_count_as_if_written_out() -> None:
    written_out = """{ contacts(first: 5) { edges { node {
        owner { name } timeline(first: 4) { edges { node { kind } } }
    } } } }"""
    with_fragments = """
    query { contacts(first: 5) { ...Page } }
    fragment Page on ContactConnection { edges { node { ...Person } } }
    fragment Person on Contact { ... on Contact { owner { name } } ...Timeline }
    fragment Timeline on Contact { timeline(first: 4) { edges { node { kind } } } }
    """
    assert cost(with_fragments) == cost(written_out) == contacts_page(5, 1 + 1 + 4 * 2)


def test_a_fragment_spread_twice_counts_twice() -> None:
    document = """
    query { a: contacts(first: 5) { ...Page } b: contacts(first: 50) { ...Page } }
    fragment Page on ContactConnection { edges { node { owner { name } } } }
    """
    assert cost(document) == contacts_page(5, 1) + contacts_page(50, 1)


def test_on_an_interface_the_costliest_type_counts() -> None:
    document = """{ timeline(recordId: "x", first: 10) { edges { node {
        kind
        ... on NoteEntry { note { body } }
        ... on EmailEntry { message { status } }
        ... on DocumentEntry { document { fileName } }
    } } } }"""
    assert cost(document) == 1 + 10 * (1 + 1 + 1)


def test_skipped_selections_cost_nothing() -> None:
    document = """query($full: Boolean!) { contacts(first: 10) { edges { node {
        owner @include(if: $full) { name }
    } } } }"""
    assert cost(document, {"full": False}) == contacts_page(10)
    assert cost(document, {"full": True}) == contacts_page(10, 1)


def test_the_named_operation_is_the_one_counted() -> None:
    document = """
    query Small { contacts(first: 1) { edges { node { id } } } }
    query Large { contacts(first: 100) { edges { node { id } } } }
    """
    assert cost(document, name="Small") == contacts_page(1)
    assert cost(document) == contacts_page(100)


def test_fragments_spreading_fragments_are_costed_once_each() -> None:
    # 2^60 objects on paper; the walk must still be instant.
    fragments = "\n".join(
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(60)
    )
    document = f"query {{ ...F0 }}\n{fragments}\nfragment F60 on Query {{ me {{ id }} }}"
    assert cost(document) == 2**60


@pytest.mark.parametrize("document", ["{ __schema { types { fields { name } } } }"])
def test_introspection_is_not_counted(document: str) -> None:
    assert cost(document) == 0
