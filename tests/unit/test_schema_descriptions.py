"""The schema documents itself: every type, field, argument, input field and enum value a
frontend developer sees in GraphiQL or generated code has a description."""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
)

from schema import build_schema

# graphql-core's own scalars come with descriptions of their own; introspection types too.
BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}


def undescribed() -> list[str]:
    """Every element of the built schema without a description, as `Type.field(argument)`."""
    missing: list[str] = []
    for name, kind in sorted(build_schema()._schema.type_map.items()):
        if name.startswith("__") or name in BUILT_IN:
            continue
        if not kind.description:
            missing.append(name)
        if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in kind.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                missing += [
                    f"{name}.{field_name}({argument})"
                    for argument, value in field.args.items()
                    if not value.description
                ]
        elif isinstance(kind, GraphQLInputObjectType):
            missing += [f"{name}.{f}" for f, value in kind.fields.items() if not value.description]
        elif isinstance(kind, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, value in kind.values.items() if not value.description]
    return missing


def test_every_schema_element_has_a_description() -> None:
    missing = undescribed()
    assert missing == [], (
        f"{len(missing)} schema element(s) without a description (say what it does, its "
        "limits and its errors): " + ", ".join(missing)
    )
