"""What a query selects under the field being resolved: work a result would only be thrown
away for is not done."""

from __future__ import annotations

from strawberry.types import Info
from strawberry.types.nodes import SelectedField, Selection


def selected_names(info: Info, path: tuple[str, ...] = ()) -> set[str]:
    """The names of the fields selected at `path` below the field being resolved (its own
    fields for `()`), through fragments and inline fragments."""
    names: set[str] = set()

    def walk(selections: list[Selection], path: tuple[str, ...]) -> None:
        for selection in selections:
            if not isinstance(selection, SelectedField):
                walk(selection.selections, path)  # a fragment: its fields are the parent's
            elif not path:
                names.add(selection.name)
            elif selection.name == path[0]:
                walk(selection.selections, path[1:])

    for field in info.selected_fields:
        walk(field.selections, path)
    return names
