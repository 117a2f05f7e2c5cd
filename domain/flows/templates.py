"""Record variables in flow text (`Hello {first_name}`): parsed, checked and rendered safely.

Pure: the FlowRun workflow renders with it. A variable is a field path into the record's
snapshot, followed key by key (dict keys, list indexes): no attribute access, no format specs,
no conversions, so unlike `str.format` a template can never reach into Python objects.
`{{` and `}}` stand for literal braces.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

FIELD_PATH = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z0-9_]+)*$")
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_LINE_BREAKS = re.compile(r"[\r\n]+")


class TemplateError(ValueError):
    """A template that cannot be rendered: a stray brace or a variable that is not a field path."""


def template_fields(template: str) -> list[str]:
    """The field paths a template uses, in order of appearance."""
    found: list[str] = []
    for match in _TOKEN.finditer(template):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        path = match.group(1)
        if path is None:
            raise TemplateError(
                f"stray {token!r} at position {match.start()} (write {token * 2} for a brace)"
            )
        if not FIELD_PATH.match(path):
            raise TemplateError(f"{{{path}}} is not a record field like {{first_name}}")
        found.append(path)
    return found


def field_value(record: Mapping[str, Any], path: str) -> Any:
    """The value at a path such as `address.city` or `emails.0`; None when any part is missing."""
    value: Any = record
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit():
            index = int(part)
            value = value[index] if index < len(value) else None
        else:
            return None
        if value is None:
            return None
    return value


def display(value: Any) -> str:
    """A field value as text: nothing for a missing value, lists joined with commas."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(display(item) for item in value)
    if isinstance(value, Mapping):
        return ", ".join(display(item) for item in value.values() if item not in (None, ""))
    return str(value)


def render(template: str, record: Mapping[str, Any], *, one_line: bool = False) -> str:
    """The template with each variable replaced by the record's value.

    `one_line` keeps values from adding line breaks (an email subject is a header, and a line
    break in a header would let a record's field inject headers).
    """
    template_fields(template)  # refuse malformed templates before producing anything

    def substitute(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        text = display(field_value(record, match.group(1)))
        return _LINE_BREAKS.sub(" ", text) if one_line else text

    return _TOKEN.sub(substitute, template)
