"""Message templates rendered in a sandbox, checked when they are saved rather than when sent.

A template is three parts: a subject, a text body and an optional HTML body, in Jinja2 syntax.
They are written by an agency's admins and rendered with data about the agency's customers,
so both directions are guarded:

* Templates cannot reach outside what they are handed. Jinja2's `ImmutableSandboxedEnvironment`
  refuses private and internal attributes (`''.__class__`), calls of unsafe methods and
  changes to the values passed in; the only variables are `VARIABLES` (the recipient, their
  owner, the agency). `StrictUndefined` makes a missing one an error, never an empty string.
* Data cannot change the message's shape: the HTML body autoescapes every value (a contact
  named `<script>` stays text), the subject is folded onto one line (no header injection), and
  the HTML source is sanitised with nh3 (ammonia) when saved: no scripts, no event handlers.

`check_template` finds every problem when a draft is saved, each with the part it is in and
its line: a syntax error, a variable or attribute that does not exist (read from the
template's syntax tree, so a branch not taken is checked too), an attempt to leave the
sandbox, or a part over its size limit. A template that passes renders with any real data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import nh3
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

# What a template may use, with a sample value each: the check renders every template once
# with these, so an error of any kind shows at save time.
VARIABLES: dict[str, dict[str, str]] = {
    "recipient": {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "full_name": "Ada Lovelace",
        "email": "ada@example.com",
        "company_name": "Analytical Engines",
        "job_title": "Countess",
    },
    "owner": {"name": "Olive Owner", "email": "olive@agency.example.com"},
    "agency": {
        "name": "Acme",
        "website": "https://acme.example.com",
        "street": "1 Fleet Street",
        "city": "London",
        "region": "",
        "postal_code": "EC4Y 1AA",
        "country": "GB",
    },
}

SUBJECT = "subject"
TEXT_BODY = "text_body"
HTML_BODY = "html_body"
MAX_LENGTHS = {SUBJECT: 255, TEXT_BODY: 100_000, HTML_BODY: 200_000}
_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")

_TEXT = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_HTML = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=True)


@dataclass(frozen=True)
class TemplateParts:
    """The source of one template version."""

    subject: str
    text_body: str
    html_body: str = ""

    def items(self) -> list[tuple[str, str]]:
        return [(SUBJECT, self.subject), (TEXT_BODY, self.text_body), (HTML_BODY, self.html_body)]


@dataclass(frozen=True)
class TemplateProblem:
    """Why a part cannot be saved: the part, the line in it (if known) and what is wrong."""

    part: str
    message: str
    line: int | None = None


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text_body: str
    html_body: str


def _text(value: Any) -> str:
    """A value as a template sees it: missing or None is empty, never an error at send time."""
    return "" if value is None else str(value)


def sanitized_html(html: str) -> str:
    """The HTML source without scripts, event handlers or other active content."""
    return nh3.clean(html) if html else ""


def _environment(part: str) -> ImmutableSandboxedEnvironment:
    return _HTML if part == HTML_BODY else _TEXT


def _unknown_names(part: str, tree: nodes.Template) -> list[TemplateProblem]:
    """Variables and attributes the template uses that `VARIABLES` does not have."""
    free = meta.find_undeclared_variables(tree)
    problems = [
        TemplateProblem(part, f"Unknown variable {name!r}; use one of {sorted(VARIABLES)}.")
        for name in sorted(free - VARIABLES.keys())
    ]
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        owner = node.node if isinstance(node, nodes.Getattr | nodes.Getitem) else None
        if not (isinstance(owner, nodes.Name) and owner.name in free & VARIABLES.keys()):
            continue  # a local (loop or set) variable, or a value built in the template
        if isinstance(node, nodes.Getattr):
            attribute: object = node.attr
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            attribute = node.arg.value
        else:
            problems.append(
                TemplateProblem(part, f"Use {owner.name}.<name>, not a computed key.", node.lineno)
            )
            continue
        if attribute not in VARIABLES[owner.name]:
            known = ", ".join(sorted(VARIABLES[owner.name]))
            problems.append(
                TemplateProblem(
                    part, f"{owner.name} has no {attribute!r}; it has {known}.", node.lineno
                )
            )
    return problems


def _check_part(part: str, source: str) -> list[TemplateProblem]:
    limit = MAX_LENGTHS[part]
    if len(source) > limit:
        return [TemplateProblem(part, f"At most {limit} characters.")]
    environment = _environment(part)
    try:
        tree = environment.parse(source)
        problems = _unknown_names(part, tree)  # compiles it too: an unknown filter shows here
    except TemplateSyntaxError as error:
        return [TemplateProblem(part, error.message or "Syntax error.", error.lineno)]
    if problems:
        return problems
    try:
        environment.from_string(source).render(VARIABLES)
    except TemplateError as error:  # SecurityError and UndefinedError are TemplateErrors
        return [TemplateProblem(part, str(error.message or error))]
    except Exception as error:  # a filter used on the wrong kind of value, and the like
        return [TemplateProblem(part, f"{type(error).__name__}: {error}")]
    return []


def check_template(parts: TemplateParts) -> list[TemplateProblem]:
    """Every problem of every part; none means the template renders with any real data."""
    if not parts.subject.strip():
        return [TemplateProblem(SUBJECT, "A subject is required.")]
    if not parts.text_body.strip():
        return [TemplateProblem(TEXT_BODY, "A text body is required.")]
    return [problem for part, source in parts.items() for problem in _check_part(part, source)]


def render(parts: TemplateParts, variables: Mapping[str, Mapping[str, Any]]) -> RenderedMessage:
    """The message for one recipient. `parts` passed `check_template`; `variables` has the
    shape of `VARIABLES`."""
    context = {
        name: {key: _text(variables.get(name, {}).get(key)) for key in keys}
        for name, keys in VARIABLES.items()
    }
    subject = _TEXT.from_string(parts.subject).render(context)
    return RenderedMessage(
        subject=_LINE_BREAKS.sub(" ", subject).strip()[: MAX_LENGTHS[SUBJECT]],
        text_body=_TEXT.from_string(parts.text_body).render(context),
        html_body=_HTML.from_string(parts.html_body).render(context) if parts.html_body else "",
    )
