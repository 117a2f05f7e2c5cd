"""Custom field definitions: typed fields admins add to contacts, customers, leads, deals and
calling tasks.

Admins and sysadmins define, change and archive fields; every actor of the agency reads the
definitions (client apps build their forms from them). A field's key, record type and type
never change once defined, so stored values always match their field. Archived fields keep
their key and their values, but are no longer shown, written or filtered on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from db.custom_fields import CustomField as CustomField
from db.custom_fields import CustomFieldValue
from domain.actors import Actor
from domain.audit import changed_fields, record_audit
from domain.custom_field_sort_keys import (
    SORT_FIELDS,
    claim_column,
    fill_batch,
    release_column,
)
from domain.errors import DomainError, DomainErrors, input_errors
from domain.events import append_event
from domain.field_types import distinct, input_codes
from domain.policies import forbidden, require
from domain.record_changes import record_updated
from domain.roles import Access, Resource, RowScope
from domain.row_locks import locked_in_agency

AGGREGATE = "custom_field"
MAX_FIELDS_PER_RECORD_TYPE = 100
MAX_TEXT_LENGTH = 500  # the width of the value column: text values stay indexable


class CustomFieldRecordType(StrEnum):
    """Record types that carry custom fields; the values are their aggregate names."""

    CONTACT = "contact"
    CUSTOMER = "customer"
    LEAD = "lead"
    DEAL = "deal"
    CALLING_TASK = "calling_task"


class CustomFieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    BOOLEAN = "boolean"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"


CHOICE_TYPES = frozenset({CustomFieldType.CHOICE, CustomFieldType.MULTI_CHOICE})


class CustomFieldErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    TOO_MANY = "TOO_MANY"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    DUPLICATE_KEY = "DUPLICATE_KEY"
    CHOICE_IN_USE = "CHOICE_IN_USE"
    ARCHIVED = "ARCHIVED"
    FORBIDDEN = "FORBIDDEN"


_PYDANTIC_CODES = input_codes(CustomFieldErrorCode)

Command = TypeVar("Command", bound=BaseModel)
Key = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=50, pattern=r"^[a-z][a-z0-9_]*$"
    ),
]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Choice = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Choices = Annotated[list[Choice], Field(max_length=100), AfterValidator(distinct)]
MaxLength = Annotated[int, Field(ge=1, le=MAX_TEXT_LENGTH)]
Position = Annotated[int, Field(ge=0, le=10_000)]


class CustomFieldChanges(BaseModel):
    """What may change after a field is defined; on update only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    label: Label
    choices: Choices = []
    required: bool = False
    max_length: MaxLength | None = None
    min_value: float | None = None
    max_value: float | None = None
    position: Position | None = None
    # Lists may be ordered by it through an index (domain.custom_field_sort_keys).
    sortable: bool = False


class NewCustomField(CustomFieldChanges):
    record_type: CustomFieldRecordType
    key: Key
    type: CustomFieldType


def _parse(model: type[Command], data: dict[str, Any]) -> Command:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise input_errors(exc, _PYDANTIC_CODES, CustomFieldErrorCode.INVALID) from exc


def _check_limits(field: CustomField) -> None:
    """Each limit belongs to one type; choice fields need choices; min is not above max."""
    problems = []
    kind = CustomFieldType(field.type)

    def problem(name: str, message: str, code: StrEnum = CustomFieldErrorCode.INVALID) -> None:
        problems.append(DomainError(code, message, name))

    if kind in CHOICE_TYPES and not field.choices:
        problem(
            "choices", "A choice field needs at least one choice.", CustomFieldErrorCode.REQUIRED
        )
    if kind not in CHOICE_TYPES and field.choices:
        problem("choices", "Only choice and multi-choice fields have choices.")
    if kind is not CustomFieldType.TEXT and field.max_length is not None:
        problem("max_length", "Only text fields have a maximum length.")
    if kind is not CustomFieldType.NUMBER:
        for name in ("min_value", "max_value"):
            if getattr(field, name) is not None:
                problem(name, "Only number fields have a minimum and a maximum.")
    elif (
        field.min_value is not None
        and field.max_value is not None
        and field.min_value > field.max_value
    ):
        problem("min_value", "The minimum is above the maximum.", CustomFieldErrorCode.OUT_OF_RANGE)
    if problems:
        raise DomainErrors(problems)


def _require_admin(actor: Actor) -> None:
    if require(actor, Resource.CUSTOM_FIELDS, Access.WRITE) is not RowScope.AGENCY:
        raise forbidden(Resource.CUSTOM_FIELDS, Access.WRITE)


def snapshot(field: CustomField) -> dict[str, Any]:
    """The definition as JSON values, for audit rows and event payloads."""
    return {
        "id": str(field.id),
        "record_type": field.record_type,
        "key": field.key,
        "label": field.label,
        "type": field.type,
        "choices": list(field.choices),
        "required": field.required,
        "max_length": field.max_length,
        "min_value": field.min_value,
        "max_value": field.max_value,
        "position": field.position,
        "archived": field.archived_at is not None,
        "sortable": field.sort_column is not None,
    }


def _not_found(field_id: UUID) -> DomainError:
    return DomainError(CustomFieldErrorCode.NOT_FOUND, f"No custom field with id {field_id}.", "id")


async def list_custom_fields(
    actor: Actor,
    record_types: Sequence[str] | None = None,
    include_archived: bool = False,
    conn: BaseDBAsyncClient | None = None,
) -> list[CustomField]:
    """The agency's fields (of the given record types), in form order.

    Every actor of the agency may read them: whoever writes a record needs its fields.
    """
    query = CustomField.filter(agency_id=actor.agency_id)
    if record_types is not None:
        query = query.filter(record_type__in=list(record_types))
    if not include_archived:
        query = query.filter(archived_at__isnull=True)
    found: list[CustomField] = await query.using_db(conn).order_by(
        "record_type", "position", "created_at", "id"
    )
    return found


async def get_custom_field(actor: Actor, field_id: UUID) -> CustomField:
    field: CustomField | None = await CustomField.get_or_none(
        agency_id=actor.agency_id, id=field_id
    )
    if field is None:
        raise _not_found(field_id)
    return field


async def define_custom_field(actor: Actor, data: dict[str, Any]) -> CustomField:
    """A new field, placed after the record type's last one unless a position is given."""
    _require_admin(actor)
    command = _parse(NewCustomField, data)
    field = CustomField(
        agency_id=actor.agency_id, **command.model_dump(exclude={"position", "sortable"})
    )
    _check_limits(field)
    try:
        async with in_transaction() as conn:
            existing = CustomField.filter(
                agency_id=actor.agency_id, record_type=command.record_type
            ).using_db(conn)
            if await existing.filter(key=command.key).exists():
                raise _duplicate(command.key)
            if await existing.filter(archived_at__isnull=True).count() >= (
                MAX_FIELDS_PER_RECORD_TYPE
            ):
                raise DomainError(
                    CustomFieldErrorCode.TOO_MANY,
                    f"A record type has at most {MAX_FIELDS_PER_RECORD_TYPE} custom fields.",
                    "record_type",
                )
            if command.position is not None:
                field.position = command.position
            else:
                last = await existing.order_by("-position").first()
                field.position = last.position + 1 if last is not None else 0
            if command.sortable:
                await claim_column(field, conn)
            await field.save(using_db=conn)
            if command.sortable:  # the column may hold a former field's keys: overwrite them
                await fill_batch(field, conn)
            after = snapshot(field)
            await record_audit(actor, AGGREGATE, str(field.id), "define", {}, after, conn)
            await append_event(actor, "custom_field.defined", AGGREGATE, str(field.id), after, conn)
    except IntegrityError as exc:  # the same key (or sort-key column) taken concurrently
        if command.sortable and not await _key_taken(actor, command):
            raise _column_taken() from exc
        raise _duplicate(command.key) from exc
    return field


async def _key_taken(actor: Actor, command: NewCustomField) -> bool:
    return await CustomField.filter(
        agency_id=actor.agency_id, record_type=command.record_type, key=command.key
    ).exists()


def _column_taken() -> DomainError:
    return DomainError(
        CustomFieldErrorCode.TOO_MANY,
        "Another field took the last sort-key column at the same time; try again.",
        "sortable",
    )


def _duplicate(key: str) -> DomainError:
    return DomainError(
        CustomFieldErrorCode.DUPLICATE_KEY,
        f"This record type already has a field {key!r} (archived fields keep their key).",
        "key",
    )


async def _locked(actor: Actor, field_id: UUID, conn: BaseDBAsyncClient) -> CustomField:
    field = await locked_in_agency(CustomField, actor, conn, id=field_id)
    if field is None:
        raise _not_found(field_id)
    return field


async def update_custom_field(actor: Actor, field_id: UUID, data: dict[str, Any]) -> CustomField:
    """Change the label, choices, limits, required flag, position or sortability of a live
    field.

    A choice some record holds cannot be removed (CHOICE_IN_USE); tighter limits apply to
    values written from now on, not to the ones already stored. Marking a field sortable
    fills the first batch of its records' sort keys here; `crm sort-keys` fills the rest.
    """
    _require_admin(actor)
    changes = _parse(CustomFieldChanges, {"label": "-", **data}).model_dump(include=set(data))
    sortable = changes.pop("sortable", None)
    try:
        async with in_transaction() as conn:
            field = await _locked(actor, field_id, conn)
            if field.archived_at is not None:
                raise DomainError(
                    CustomFieldErrorCode.ARCHIVED, "An archived field cannot be changed.", "id"
                )
            before = snapshot(field)
            removed = set(field.choices) - set(changes.get("choices", field.choices))
            field.update_from_dict(changes)
            _check_limits(field)
            if removed:
                await _check_choices_unused(field, removed, conn)
            marked = sortable is True and field.sort_column is None
            if marked:
                await claim_column(field, conn)
            elif sortable is False:
                release_column(field)
            await field.save(using_db=conn)
            if marked:
                await fill_batch(field, conn)
            old, new = changed_fields(before, snapshot(field))
            if new:
                await record_updated(actor, AGGREGATE, str(field.id), old, new, conn)
    except IntegrityError as exc:  # two fields took the same free column at once
        raise _column_taken() from exc
    return field


async def _check_choices_unused(
    field: CustomField, removed: set[str], conn: BaseDBAsyncClient
) -> None:
    used = (
        await CustomFieldValue.filter(
            agency_id=field.agency_id, field_id=field.id, text_value__in=sorted(removed)
        )
        .using_db(conn)
        .first()
    )
    if used is not None:
        raise DomainError(
            CustomFieldErrorCode.CHOICE_IN_USE,
            f"Records still hold the choice {used.text_value!r}; change them first.",
            "choices",
        )


async def archive_custom_field(actor: Actor, field_id: UUID) -> CustomField:
    """Hide a field from forms, writes and filters; its values are kept (and so is its key)."""
    _require_admin(actor)
    async with in_transaction() as conn:
        field = await _locked(actor, field_id, conn)
        if field.archived_at is None:
            field.archived_at = datetime.now(UTC)
            release_column(field)
            await field.save(
                using_db=conn, update_fields=["archived_at", *SORT_FIELDS, "updated_at"]
            )
            after = snapshot(field)
            await record_audit(
                actor, AGGREGATE, str(field.id), "archive", {"archived": False}, after, conn
            )
            await append_event(
                actor, "custom_field.archived", AGGREGATE, str(field.id), after, conn
            )
    return field
