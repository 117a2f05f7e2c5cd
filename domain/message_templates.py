"""Message templates of an agency: create, edit a draft, publish, preview against a record.

Admins and sysadmins write them; everyone who sends messages reads them (`Resource.TEMPLATES`).
Like flow definitions, a published version never changes: edits go to a draft, and publishing
numbers it and archives the version before, so a sent message can name the version it used.
Every draft is checked when it is saved (`domain.message_rendering.check_template`): a
template that is stored renders. Every write runs in one transaction with its audit row and
domain event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, ValidationError
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from db.contacts import Contact
from db.customers import Customer
from db.message_templates import MessageTemplate as MessageTemplate
from db.message_templates import MessageTemplateVersion as MessageTemplateVersion
from db.users import User
from domain.actors import Actor
from domain.agencies import get_agency
from domain.errors import DomainError, DomainErrors, input_errors
from domain.field_types import RequiredName, input_codes
from domain.message_kinds import RECIPIENT_TYPES as RECIPIENT_TYPES
from domain.message_kinds import TemplateKey
from domain.message_kinds import TemplateKind as TemplateKind
from domain.message_rendering import (
    RenderedMessage,
    TemplateParts,
    check_template,
    render,
    sanitized_html,
)
from domain.policies import require
from domain.record_changes import record_created, record_updated
from domain.roles import Access, Resource
from domain.row_locks import locked_in_agency
from domain.sales_records import scoped

AGGREGATE = "message_template"
# Templates an agency may have.
MAX_TEMPLATES = 200


class TemplateStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class TemplateErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    VERSION_NOT_FOUND = "VERSION_NOT_FOUND"
    KEY_TAKEN = "KEY_TAKEN"
    NO_DRAFT = "NO_DRAFT"
    INVALID_TEMPLATE = "INVALID_TEMPLATE"
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    TOO_MANY = "TOO_MANY"
    UNKNOWN_RECORD_TYPE = "UNKNOWN_RECORD_TYPE"
    FORBIDDEN = "FORBIDDEN"


_CODES = input_codes(TemplateErrorCode)


class TemplateHeader(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: TemplateKey
    name: RequiredName
    kind: TemplateKind


class TemplateText(BaseModel):
    """The three parts as given; their limits and syntax are `check_template`'s."""

    model_config = ConfigDict(extra="forbid")

    subject: str
    text_body: str
    html_body: str = ""


@dataclass(frozen=True)
class TemplateView:
    """A template with the versions people work with: the published one and the draft."""

    template: MessageTemplate
    published: MessageTemplateVersion | None
    draft: MessageTemplateVersion | None


def _not_found(key: str) -> DomainError:
    return DomainError(TemplateErrorCode.NOT_FOUND, f"No template with key {key!r}.", "key")


def _validated(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    try:
        return model.model_validate(data).model_dump()
    except ValidationError as exc:
        raise input_errors(exc, _CODES, TemplateErrorCode.INVALID) from exc


def checked_parts(text: dict[str, Any]) -> TemplateParts:
    """The parts as stored: HTML sanitised, then every part checked; INVALID_TEMPLATE errors
    name the part and, where known, the line."""
    fields = _validated(TemplateText, text)
    parts = TemplateParts(
        subject=fields["subject"],
        text_body=fields["text_body"],
        html_body=sanitized_html(fields["html_body"]),
    )
    problems = check_template(parts)
    if problems:
        raise DomainErrors(
            [
                DomainError(
                    TemplateErrorCode.INVALID_TEMPLATE,
                    f"Line {p.line}: {p.message}" if p.line else p.message,
                    p.part,
                )
                for p in problems
            ]
        )
    return parts


def parts_of(version: MessageTemplateVersion) -> TemplateParts:
    return TemplateParts(version.subject, version.text_body, version.html_body)


async def _views(actor: Actor, templates: list[MessageTemplate]) -> list[TemplateView]:
    versions = await MessageTemplateVersion.filter(
        agency_id=actor.agency_id,
        template_id__in=[t.id for t in templates],
        status__in=[TemplateStatus.DRAFT, TemplateStatus.PUBLISHED],
    )
    found = {(v.template_id, v.status): v for v in versions}
    return [
        TemplateView(
            t, found.get((t.id, TemplateStatus.PUBLISHED)), found.get((t.id, TemplateStatus.DRAFT))
        )
        for t in templates
    ]


async def list_templates(actor: Actor) -> list[TemplateView]:
    require(actor, Resource.TEMPLATES, Access.READ)
    templates = await MessageTemplate.filter(agency_id=actor.agency_id).order_by("key")
    return await _views(actor, templates)


async def get_template(actor: Actor, key: str) -> TemplateView:
    require(actor, Resource.TEMPLATES, Access.READ)
    template = await MessageTemplate.get_or_none(agency_id=actor.agency_id, key=key)
    if template is None:
        raise _not_found(key)
    [view] = await _views(actor, [template])
    return view


def _version_snapshot(version: MessageTemplateVersion) -> dict[str, Any]:
    return {
        "version": version.version,
        "status": version.status,
        "subject": version.subject,
        "text_body": version.text_body,
        "html_body": version.html_body,
    }


async def create_template(actor: Actor, data: dict[str, Any]) -> TemplateView:
    """A new template of the agency, as a draft to publish."""
    require(actor, Resource.TEMPLATES, Access.WRITE)
    header = _validated(TemplateHeader, {k: data.get(k) for k in ("key", "name", "kind")})
    parts = checked_parts({k: v for k, v in data.items() if k not in header})
    try:
        async with in_transaction() as conn:
            count = await MessageTemplate.filter(agency_id=actor.agency_id).using_db(conn).count()
            if count >= MAX_TEMPLATES:
                raise DomainError(
                    TemplateErrorCode.TOO_MANY, f"At most {MAX_TEMPLATES} templates.", "key"
                )
            template = await MessageTemplate.create(
                agency_id=actor.agency_id, using_db=conn, **header
            )
            draft = await MessageTemplateVersion.create(
                template=template,
                agency_id=actor.agency_id,
                status=TemplateStatus.DRAFT,
                subject=parts.subject,
                text_body=parts.text_body,
                html_body=parts.html_body,
                created_by=actor.id,
                using_db=conn,
            )
            after = {**header, "kind": str(header["kind"]), **_version_snapshot(draft)}
            await record_created(actor, AGGREGATE, str(template.id), after, conn)
    except IntegrityError as exc:
        raise DomainError(
            TemplateErrorCode.KEY_TAKEN, f"A template with key {header['key']!r} exists.", "key"
        ) from exc
    return TemplateView(template, None, draft)


async def _locked(actor: Actor, key: str, conn: BaseDBAsyncClient) -> MessageTemplate:
    template = await locked_in_agency(MessageTemplate, actor, conn, key=key)
    if template is None:
        raise _not_found(key)
    return template


async def _in(
    template: MessageTemplate, status: TemplateStatus, conn: BaseDBAsyncClient
) -> MessageTemplateVersion | None:
    return (
        await MessageTemplateVersion.filter(template_id=template.id, status=status)
        .using_db(conn)
        .first()
    )


async def edit_draft(actor: Actor, key: str, data: dict[str, Any]) -> TemplateView:
    """Change the name, kind or text; the text goes to the draft (made from the published
    version if there is none). Fields left out are unchanged."""
    require(actor, Resource.TEMPLATES, Access.WRITE)
    async with in_transaction() as conn:
        template = await _locked(actor, key, conn)
        published = await _in(template, TemplateStatus.PUBLISHED, conn)
        draft = await _in(template, TemplateStatus.DRAFT, conn)
        base = draft or published
        header_changes: dict[str, Any] = {k: data[k] for k in ("name", "kind") if k in data}
        stored = {"key": template.key, "name": template.name, "kind": template.kind}
        header = _validated(TemplateHeader, {**stored, **header_changes})
        text_changes = {k: v for k, v in data.items() if k not in ("name", "kind")}
        before = {
            "name": template.name,
            "kind": template.kind,
            **(_version_snapshot(draft) if draft else {}),
        }
        if header_changes:
            template.name, template.kind = header["name"], str(header["kind"])
            await template.save(using_db=conn, update_fields=["name", "kind", "updated_at"])
        if text_changes:
            current = parts_of(base) if base else TemplateParts("", "")
            parts = checked_parts(
                {
                    "subject": current.subject,
                    "text_body": current.text_body,
                    "html_body": current.html_body,
                    **text_changes,
                }
            )
            if draft is None:
                draft = MessageTemplateVersion(
                    template=template,
                    agency_id=actor.agency_id,
                    status=TemplateStatus.DRAFT,
                    created_by=actor.id,
                )
            draft.subject, draft.text_body, draft.html_body = (
                parts.subject,
                parts.text_body,
                parts.html_body,
            )
            await draft.save(using_db=conn)
        after = {
            "name": template.name,
            "kind": template.kind,
            **(_version_snapshot(draft) if draft else {}),
        }
        changed = {k: v for k, v in after.items() if before.get(k) != v}
        if changed:
            old = {k: before.get(k) for k in changed}
            await record_updated(actor, AGGREGATE, str(template.id), old, changed, conn)
    return TemplateView(template, published, draft)


async def publish_draft(actor: Actor, key: str) -> TemplateView:
    """Number the draft as the next version; the one published before is archived."""
    require(actor, Resource.TEMPLATES, Access.WRITE)
    async with in_transaction() as conn:
        template = await _locked(actor, key, conn)
        draft = await _in(template, TemplateStatus.DRAFT, conn)
        if draft is None:
            raise DomainError(TemplateErrorCode.NO_DRAFT, f"{key!r} has no draft.", "key")
        # Checked again: what templates may use can have changed since the draft was saved.
        checked_parts(
            {"subject": draft.subject, "text_body": draft.text_body, "html_body": draft.html_body}
        )
        latest = (
            await MessageTemplateVersion.filter(template_id=template.id, version__isnull=False)
            .using_db(conn)
            .order_by("-version")
            .first()
        )
        previous = await _in(template, TemplateStatus.PUBLISHED, conn)
        if previous is not None:
            previous.status = TemplateStatus.ARCHIVED
            await previous.save(using_db=conn, update_fields=["status", "updated_at"])
        draft.version = (latest.version or 0) + 1 if latest else 1
        draft.status = TemplateStatus.PUBLISHED
        draft.published_by = actor.id
        draft.published_at = datetime.now(UTC)
        await draft.save(using_db=conn)
        old = {"version": previous.version if previous else None}
        new = {"version": draft.version}
        await record_updated(actor, AGGREGATE, str(template.id), old, new, conn)
    return TemplateView(template, draft, None)


async def _version_to_render(actor: Actor, key: str, version: int | None) -> TemplateParts:
    view = await get_template(actor, key)
    if version is None:
        chosen = view.draft or view.published
    else:
        chosen = await MessageTemplateVersion.get_or_none(
            template_id=view.template.id, version=version
        )
    if chosen is None:
        raise DomainError(
            TemplateErrorCode.VERSION_NOT_FOUND, f"{key!r} has no such version.", "version"
        )
    return parts_of(chosen)


async def recipient_variables(
    actor: Actor, record_type: str, record_id: UUID
) -> dict[str, dict[str, Any]]:
    """What a template may say about one recipient the actor can see (NOT_FOUND otherwise)."""
    if record_type not in RECIPIENT_TYPES:
        raise DomainError(
            TemplateErrorCode.UNKNOWN_RECORD_TYPE,
            f"Templates are rendered for a {' or a '.join(RECIPIENT_TYPES)}.",
            "record_id",
        )
    model = Contact if record_type == "contact" else Customer
    record: Any = await scoped(model, actor).get_or_none(id=record_id)
    if record is None:
        raise DomainError(
            TemplateErrorCode.NOT_FOUND, f"No {record_type} with id {record_id}.", "record_id"
        )
    if record_type == "contact":
        first, last = record.first_name, record.last_name
        recipient = {
            "first_name": first,
            "last_name": last,
            "full_name": f"{first} {last}".strip(),
            "email": next(iter(record.emails), ""),
            "company_name": record.company_name,
            "job_title": record.job_title,
        }
    else:
        name = record.name
        recipient = {"first_name": name, "full_name": name, "company_name": name}
        recipient["email"] = record.billing_email
    owner = await User.get_or_none(agency_id=actor.agency_id, id=record.owner_id)
    agency = await get_agency(actor)
    return {
        "recipient": recipient,
        "owner": {"name": owner.name, "email": owner.email} if owner else {},
        "agency": {
            "name": agency.name,
            "website": agency.website,
            "street": agency.street,
            "city": agency.city,
            "region": agency.region,
            "postal_code": agency.postal_code,
            "country": agency.country,
        },
    }


async def preview(
    actor: Actor, key: str, record_type: str, record_id: UUID, version: int | None = None
) -> RenderedMessage:
    """The template (its draft, else its published version, or the version asked for)
    rendered for a contact or customer the actor can see."""
    parts = await _version_to_render(actor, key, version)
    return render(parts, await recipient_variables(actor, record_type, record_id))


async def seed_default_templates(agency_id: UUID, templates: list[dict[str, Any]]) -> list[str]:
    """Publish each default template as version 1 for an agency without one of its key;
    the keys published. Invalid defaults raise, naming the template, before anything is
    written."""
    actor = Actor.system(agency_id, "defaults")
    checked = []
    for data in templates:
        header = _validated(TemplateHeader, {k: data.get(k) for k in ("key", "name", "kind")})
        parts = checked_parts({k: v for k, v in data.items() if k not in header})
        checked.append((header, parts))
    existing = set(await MessageTemplate.filter(agency_id=agency_id).values_list("key", flat=True))
    seeded = []
    for header, _parts in checked:
        if header["key"] in existing:
            continue
        await create_template(actor, {**header, **_parts_data(_parts)})
        await publish_draft(actor, header["key"])
        seeded.append(header["key"])
    return seeded


def _parts_data(parts: TemplateParts) -> dict[str, str]:
    return {"subject": parts.subject, "text_body": parts.text_body, "html_body": parts.html_body}
