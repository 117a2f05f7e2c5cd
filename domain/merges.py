"""Merging two to nine contacts (or customers) into one survivor, and undoing a merge.

What moves, and how it is found
-------------------------------
Everything that names a merged record moves to the survivor: its timeline's sources (notes,
documents, calling tasks, meetings, tickets, messages, received mail, flow runs), its leads,
deals, tags, custom values, consent, campaign sign-ups, customer links and referral codes.
Rather than a hand-kept list, which a new table would silently miss, the links are read from
the models (`record_links`): every column ending in `contact_id` (or `customer_id`) and every
`record_type`/`record_id` pair (and `referrer_type`/`referrer_id`) of every table, except the
append-only logs (`event`, `audit_entry`), whose past entries keep naming the record they were
written about. A customer's sub-companies (`parent_id`) move too.

A row that would break a uniqueness rule on the survivor stays where it is: a tag both records
carry, a campaign both signed up to, a custom field the survivor has a value for (the
survivor's value wins unless another is chosen), consent settings the survivor has. So the
survivor's own data is never overwritten by a row; its fields are set from the choices
(`values`), the rest kept.

Custom fields are chosen like fields (`custom:<key>` in `values`): the chosen record's values
of that field move to the survivor and the survivor's own move to the record they replace
(both recorded, so an undo swaps them back); no other record's value of that field moves.

Flow runs: finished runs move (the survivor's history), running ones are stopped. A run is
keyed by its record (`flow:<key>:<record type>:<record id>:<trigger event>`) and acts on the
record id it was started with, so moving a running one would leave it acting on a deleted
record; retargeting it would take a new signal and break "one active run of a flow per
record" when both records run the same flow (duplicates usually do: each got the new-contact
nurture). So each running run of a merged record gets a cancel (through the outbox, in the
merge's transaction), its row stays with the merged record, and the reason is audited on the
run; the survivor's runs go on. An undo does not restart them.

Fields: each may be taken from any of the records (`values: {field: record_id}`). Left out,
the survivor's value is kept, or the first merged record's non-empty one when the survivor's
is empty; lists (emails, phones, a customer's services) are joined, the survivor's first, and
tags are always joined. Status is the survivor's: it changes only through its lifecycle.

Undo: the merge keeps, per moved row, the record it came from, and the survivor's fields
before and after. Within the undo window (`CRM_MERGE_UNDO_HOURS`) an undo moves those rows
back, restores the merged records, and gives the survivor back each field the merge changed
that nobody has changed since. Rows added to the survivor after the merge stay with it.

Who may merge: whoever may change every record in the merge (row scope, as an update). A
record the caller cannot see is NOT_FOUND, the same as one of another agency.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from tortoise import fields as orm_fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.transactions import in_transaction

from db.connection import MODEL_MODULES
from db.contacts import Contact
from db.custom_fields import CustomFieldValue
from db.customers import Customer
from db.duplicates import RecordMerge
from db.flow_runs import FlowRun
from domain import contacts, customers
from domain.actors import Actor
from domain.audit import record_audit
from domain.custom_field_sort_keys import refresh_sort_keys
from domain.custom_fields import list_custom_fields
from domain.errors import DomainError
from domain.events import append_event
from domain.flow_triggers import SIGNAL_CANCEL, signal_run
from domain.flows.definitions import ACTIVE_RUN_STATUSES
from domain.policies import rows
from domain.roles import Access, Resource
from domain.sales_records import check_owner, locked

DEFAULT_MERGE_UNDO_WINDOW = timedelta(hours=72)
MIN_RECORDS = 2
MAX_RECORDS = 9
# Append-only logs: what was written about a record stays written about it.
NOT_MOVED = frozenset({"event", "audit_entry", "record_merge", "duplicate_key"})
# Rows unique per record and these columns (beyond the model's own unique_together).
ONE_PER_RECORD: dict[str, tuple[str, ...]] = {"custom_field_value": ("field_id",)}
ADDRESS_COLUMNS = ("street", "city", "region", "postal_code", "country", "latitude", "longitude")
UUID_COLUMNS = frozenset({"owner_id", "operations_user_id", "parent_id"})
CUSTOM_PREFIX = "custom:"
STOPPED_BY_MERGE = "merged"  # the reason audited on a run a merge stopped


class MergeErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    INVALID = "INVALID"
    SAME_RECORD_TWICE = "SAME_RECORD_TWICE"
    TOO_FEW = "TOO_FEW"
    TOO_MANY = "TOO_MANY"
    ALREADY_UNDONE = "ALREADY_UNDONE"
    UNDO_EXPIRED = "UNDO_EXPIRED"


@dataclass(frozen=True, slots=True)
class MergeKind:
    """What differs between merging contacts and merging customers."""

    aggregate: str
    model: type[Contact] | type[Customer]
    # choosable field -> its columns (a contact's address is one choice of seven columns)
    fields: dict[str, tuple[str, ...]]
    joined: tuple[str, ...]  # list fields joined by default
    list_limit: dict[str, int]
    link_suffix: str


CONTACT = MergeKind(
    aggregate="contact",
    model=Contact,
    fields={
        **{
            name: (name,)
            for name in (
                "first_name",
                "last_name",
                "emails",
                "phones",
                "company_name",
                "job_title",
                "source",
                "owner_id",
                "notes",
            )
        },
        "address": ADDRESS_COLUMNS,
    },
    joined=("emails", "phones"),
    list_limit={"emails": 10, "phones": 10},
    link_suffix="contact_id",
)
CUSTOMER = MergeKind(
    aggregate="customer",
    model=Customer,
    fields={
        name: (name,)
        for name in (
            "name",
            "legal_name",
            "website",
            "industry",
            "category",
            "rating",
            "parent_id",
            "owner_id",
            "operations_user_id",
            "services",
            "billing_email",
            "billing_address",
            "tax_id",
            "currency",
            "payment_terms_days",
            "billing_units",
        )
    },
    joined=("services",),
    list_limit={"services": 50},
    link_suffix="customer_id",
)
KINDS = {kind.aggregate: kind for kind in (CONTACT, CUSTOMER)}


@dataclass(frozen=True, slots=True)
class RecordLink:
    """A column that names a contact or a customer, in one table."""

    model: type[Model]
    column: str
    type_column: str | None  # the table holds several record types: this column says which
    unique_with: tuple[str, ...]  # other columns that, with `column`, are unique

    @property
    def table(self) -> str:
        return str(self.model._meta.db_table)

    def value(self, record_id: UUID) -> Any:
        return (
            record_id
            if isinstance(self.model._meta.fields_map[self.column], orm_fields.UUIDField)
            else str(record_id)
        )


def _models() -> list[type[Model]]:
    found = []
    for module in map(importlib.import_module, MODEL_MODULES):
        for model in vars(module).values():
            if isinstance(model, type) and issubclass(model, Model):
                meta = model._meta
                if not meta.abstract and model.__module__ == module.__name__:
                    found.append(model)
    return sorted(found, key=lambda m: m._meta.db_table)


def record_links(aggregate: str) -> list[RecordLink]:
    """Every column of every table that names a record of this type (see the module doc)."""
    kind = KINDS[aggregate]
    links = []
    for model in _models():
        meta = model._meta
        if meta.db_table in NOT_MOVED:
            continue
        columns: list[tuple[str, str | None]] = [
            (name, None)
            for name, field in meta.fields_map.items()
            if name.endswith(kind.link_suffix) and isinstance(field, orm_fields.UUIDField)
        ]
        columns.extend(
            (f"{prefix}_id", f"{prefix}_type")
            for prefix in ("record", "referrer")
            if f"{prefix}_type" in meta.fields_map and f"{prefix}_id" in meta.fields_map
        )
        if model is Customer and aggregate == "customer":
            columns.append(("parent_id", None))
        for column, type_column in columns:
            unique: list[str] = list(ONE_PER_RECORD.get(str(meta.db_table), ()))
            for together in meta.unique_together or ():
                if column in together:
                    unique += [c for c in together if c not in (column, type_column)]
            links.append(RecordLink(model, column, type_column, tuple(dict.fromkeys(unique))))
    return links


def _json(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


def _column_value(column: str, value: Any) -> Any:
    if column in UUID_COLUMNS and isinstance(value, str):
        return UUID(value)
    return value


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _check_ids(survivor_id: UUID, merged_ids: Sequence[UUID]) -> list[UUID]:
    everyone = [survivor_id, *merged_ids]
    if len(set(everyone)) != len(everyone):
        raise DomainError(
            MergeErrorCode.SAME_RECORD_TWICE, "A record is named twice in the merge.", "merged_ids"
        )
    if len(everyone) < MIN_RECORDS:
        raise DomainError(
            MergeErrorCode.TOO_FEW,
            "Name at least one record to merge into the survivor.",
            "merged_ids",
        )
    if len(everyone) > MAX_RECORDS:
        raise DomainError(
            MergeErrorCode.TOO_MANY,
            f"At most {MAX_RECORDS} records can be merged at once.",
            "merged_ids",
        )
    return everyone


def _chosen_columns(
    kind: MergeKind, records: dict[UUID, Any], order: list[UUID], values: dict[str, UUID]
) -> dict[str, Any]:
    """The survivor's columns after the merge (only those that change)."""
    for field, source in values.items():
        if field not in kind.fields:
            raise DomainError(
                MergeErrorCode.INVALID, f"`{field}` cannot be chosen in a merge.", f"values.{field}"
            )
        if source not in records:
            raise DomainError(
                MergeErrorCode.INVALID,
                "Choose values only from the records being merged.",
                f"values.{field}",
            )
    survivor = records[order[0]]
    columns: dict[str, Any] = {}
    for field, names in kind.fields.items():
        if field in values:
            source = records[values[field]]
        elif field in kind.joined:
            joined = list(dict.fromkeys(v for r in order for v in getattr(records[r], field)))
            columns[field] = joined[: kind.list_limit[field]]
            continue
        else:
            source = next(
                (
                    records[r]
                    for r in order
                    if not all(_empty(getattr(records[r], n)) for n in names)
                ),
                survivor,
            )
        for name in names:
            columns[name] = getattr(source, name)
    columns["tags"] = list(dict.fromkeys(t for r in order for t in records[r].tags))
    return {name: value for name, value in columns.items() if getattr(survivor, name) != value}


async def _lock_all(
    kind: MergeKind, actor: Actor, ids: list[UUID], conn: BaseDBAsyncClient
) -> dict[UUID, Any]:
    """Every record, row-locked in id order (so two merges never wait on each other in a
    circle); each must be one the actor may change."""
    found = {}
    for record_id in sorted(ids):
        found[record_id] = await locked(
            kind.model, actor, record_id, conn, MergeErrorCode, kind.aggregate
        )
    return found


async def _move_rows(
    links: list[RecordLink],
    aggregate: str,
    agency_id: UUID,
    survivor_id: UUID,
    merged_ids: list[UUID],
    conn: BaseDBAsyncClient,
    held_fields: frozenset[UUID] = frozenset(),
) -> list[dict[str, Any]]:
    """Move every link's rows from the merged records to the survivor, but a chosen custom
    field's values (`held_fields`, moved by `_move_chosen_values`) and running flow runs."""
    moved = []
    for link in links:
        meta = link.model._meta
        pk = str(meta.pk_attr)
        base: dict[str, Any] = {}
        if "agency_id" in meta.fields_map:
            base["agency_id"] = agency_id
        if link.type_column:
            base[link.type_column] = aggregate
        for merged_id in merged_ids:
            ids = await _movable(link, base, pk, survivor_id, merged_id, conn, held_fields)
            if not ids:
                continue
            await (
                link.model.filter(**{f"{pk}__in": ids})
                .using_db(conn)
                .update(**{link.column: link.value(survivor_id)})
            )
            moved.append(
                {"table": link.table, "column": link.column, "from": str(merged_id), "ids": ids}
            )
    return moved


async def _movable(
    link: RecordLink,
    base: dict[str, Any],
    pk: str,
    survivor_id: UUID,
    merged_id: UUID,
    conn: BaseDBAsyncClient,
    held_fields: frozenset[UUID] = frozenset(),
) -> list[Any]:
    """The merged record's rows in this link that may move (no clash with the survivor's)."""
    query = link.model.filter(**base, **{link.column: link.value(merged_id)}).using_db(conn)
    if link.column == "parent_id":
        query = query.exclude(id=survivor_id)
    if link.model is CustomFieldValue and held_fields:
        query = query.exclude(field_id__in=sorted(held_fields))
    if link.model is FlowRun:
        query = query.exclude(status__in=sorted(ACTIVE_RUN_STATUSES))
    if not link.unique_with:
        found = await query.values_list(pk, flat=True)
        return [_json(v) for v in found]
    rows = await query.values_list(pk, *link.unique_with)
    taken = set(
        await link.model.filter(**base, **{link.column: link.value(survivor_id)})
        .using_db(conn)
        .values_list(*link.unique_with)
    )
    return [_json(row[0]) for row in rows if tuple(row[1:]) not in taken]


def _split_values(values: dict[str, UUID]) -> tuple[dict[str, UUID], dict[str, UUID]]:
    """The choices of fields, and of custom fields by key (`custom:<key>`)."""
    fields = {f: r for f, r in values.items() if not f.startswith(CUSTOM_PREFIX)}
    custom = {f.removeprefix(CUSTOM_PREFIX): r for f, r in values.items() if f not in fields}
    return fields, custom


async def _custom_choices(
    actor: Actor,
    aggregate: str,
    records: dict[UUID, Any],
    chosen: dict[str, UUID],
    conn: BaseDBAsyncClient,
) -> dict[UUID, UUID]:
    """The chosen custom fields (field id -> the record whose values win), each a live field
    of the record type, chosen from a record of the merge."""
    if not chosen:
        return {}
    defined = {c.key: c.id for c in await list_custom_fields(actor, [aggregate], conn=conn)}
    found = {}
    for key, source in chosen.items():
        where = f"values.{CUSTOM_PREFIX}{key}"
        if key not in defined:
            raise DomainError(
                MergeErrorCode.INVALID, f"No custom field `{key}` of {aggregate}s.", where
            )
        if source not in records:
            raise DomainError(
                MergeErrorCode.INVALID, "Choose values only from the records being merged.", where
            )
        found[defined[key]] = source
    return found


async def _move_chosen_values(
    aggregate: str, survivor_id: UUID, chosen: dict[UUID, UUID], conn: BaseDBAsyncClient
) -> list[dict[str, Any]]:
    """Each chosen custom field: the chosen record's values to the survivor and the survivor's
    to that record (a swap, recorded as two groups, so an undo swaps back)."""
    moved = []
    for field_id, source in chosen.items():
        if source == survivor_id:
            continue
        swap = [(survivor_id, source), (source, survivor_id)]
        # Both sides read before either moves, so no row is moved twice.
        found = [
            await CustomFieldValue.filter(record_type=aggregate, record_id=owner, field_id=field_id)
            .using_db(conn)
            .values_list("id", flat=True)
            for owner, _ in swap
        ]
        for (owner, to), ids in zip(swap, found, strict=True):
            if not ids:
                continue
            await CustomFieldValue.filter(id__in=list(ids)).using_db(conn).update(record_id=to)
            moved.append(
                {
                    "table": "custom_field_value",
                    "column": "record_id",
                    "from": str(owner),
                    "ids": [_json(i) for i in ids],
                    "field_id": str(field_id),
                }
            )
    return moved


async def _stop_runs(
    actor: Actor, aggregate: str, survivor_id: UUID, merged_ids: list[UUID], conn: BaseDBAsyncClient
) -> dict[str, list[str]]:
    """Cancel the merged records' running flow runs (see the module doc), each audited with
    the reason; their workflow ids by record."""
    runs = await FlowRun.filter(
        agency_id=actor.agency_id,
        record_type=aggregate,
        record_id__in=[str(m) for m in merged_ids],
        status__in=sorted(ACTIVE_RUN_STATUSES),
    ).using_db(conn)
    for run in runs:
        await signal_run(run, SIGNAL_CANCEL, conn)
        await record_audit(
            actor,
            "flow_run",
            str(run.id),
            "cancel",
            {"status": run.status, "workflow_id": run.workflow_id},
            {"reason": STOPPED_BY_MERGE, "merged_into": str(survivor_id)},
            conn,
        )
    stopped: dict[str, list[str]] = {}
    for run in runs:
        stopped.setdefault(run.record_id, []).append(run.workflow_id)
    return stopped


async def merge_records(
    actor: Actor,
    aggregate: str,
    survivor_id: UUID,
    merged_ids: Sequence[UUID],
    values: dict[str, UUID],
    undo_window: timedelta,
) -> RecordMerge:
    """Merge the records into the survivor (see the module doc): one transaction, with an
    audit entry for each record and one `<aggregate>.merged` event."""
    kind = KINDS[aggregate]
    order = _check_ids(survivor_id, merged_ids)
    field_values, custom_values = _split_values(values)
    async with in_transaction() as conn:
        records = await _lock_all(kind, actor, order, conn)
        survivor = records[survivor_id]
        columns = _chosen_columns(kind, records, order, field_values)
        chosen_custom = await _custom_choices(actor, aggregate, records, custom_values, conn)
        if columns.get("parent_id") in records:
            columns["parent_id"] = None
        if "owner_id" in columns:
            await check_owner(actor, columns["owner_id"], MergeErrorCode, f"{aggregate}s")
        before = {name: _json(getattr(survivor, name)) for name in columns}
        survivor.update_from_dict(columns)
        moved = await _move_chosen_values(aggregate, survivor_id, chosen_custom, conn)
        moved += await _move_rows(
            record_links(aggregate),
            aggregate,
            actor.agency_id,
            survivor_id,
            order[1:],
            conn,
            frozenset(chosen_custom),
        )
        stopped = await _stop_runs(actor, aggregate, survivor_id, order[1:], conn)
        now = datetime.now(UTC)
        for merged_id in order[1:]:
            records[merged_id].deleted_at = now
            await records[merged_id].save(using_db=conn, update_fields=["deleted_at", "updated_at"])
        await survivor.save(using_db=conn)
        await refresh_sort_keys(actor.agency_id, aggregate, order, conn)  # custom values moved
        merge = await RecordMerge.create(
            agency_id=actor.agency_id,
            record_type=aggregate,
            survivor_id=survivor_id,
            merged_ids=[str(m) for m in order[1:]],
            survivor_before=before,
            survivor_after={name: _json(value) for name, value in columns.items()},
            moved=moved,
            actor_id=str(actor.id),
            undo_until=now + undo_window,
            using_db=conn,
        )
        summary = _summary(merge)
        custom_chosen = {f"{CUSTOM_PREFIX}{k}": str(v) for k, v in custom_values.items()}
        await record_audit(
            actor,
            aggregate,
            str(survivor_id),
            "merge",
            before,
            {**merge.survivor_after, **summary, **custom_chosen},
            conn,
        )
        for merged_id in order[1:]:
            own = stopped.get(str(merged_id), [])
            await record_audit(
                actor,
                aggregate,
                str(merged_id),
                "merge",
                {},
                {"merged_into": str(survivor_id), "stopped_flow_runs": own},
                conn,
            )
        await append_event(actor, f"{aggregate}.merged", aggregate, str(survivor_id), summary, conn)
    return merge


def _summary(merge: RecordMerge) -> dict[str, Any]:
    return {
        "merge_id": str(merge.id),
        "merged_ids": list(merge.merged_ids),
        "moved_rows": sum(len(group["ids"]) for group in merge.moved),
    }


async def merge_contacts(
    actor: Actor,
    survivor_id: UUID,
    merged_ids: Sequence[UUID],
    values: dict[str, UUID],
    undo_window: timedelta,
) -> RecordMerge:
    return await merge_records(actor, "contact", survivor_id, merged_ids, values, undo_window)


async def merge_customers(
    actor: Actor,
    survivor_id: UUID,
    merged_ids: Sequence[UUID],
    values: dict[str, UUID],
    undo_window: timedelta,
) -> RecordMerge:
    return await merge_records(actor, "customer", survivor_id, merged_ids, values, undo_window)


def _not_found(merge_id: UUID) -> DomainError:
    return DomainError(MergeErrorCode.NOT_FOUND, f"No merge with id {merge_id}.", "id")


async def get_merge(actor: Actor, merge_id: UUID) -> RecordMerge:
    """A merge of the actor's agency whose survivor the actor may read."""
    merge = await RecordMerge.get_or_none(id=merge_id, agency_id=actor.agency_id)
    if merge is None:
        raise _not_found(merge_id)
    kind = KINDS[merge.record_type]
    visible = kind.model.filter(
        rows(actor, Resource.SALES_RECORDS, Access.READ), id=merge.survivor_id
    )
    if not await visible.exists():
        raise _not_found(merge_id)
    return merge


async def undo_merge(actor: Actor, merge_id: UUID) -> RecordMerge:
    """Undo a merge within its window: rows back, merged records restored, the survivor's
    changed fields back unless changed since. The caller must be able to change them all."""
    async with in_transaction() as conn:
        merge = (
            await RecordMerge.filter(id=merge_id, agency_id=actor.agency_id)
            .using_db(conn)
            .select_for_update()
            .first()
        )
        if merge is None:
            raise _not_found(merge_id)
        kind = KINDS[merge.record_type]
        survivor = await locked(
            kind.model, actor, merge.survivor_id, conn, MergeErrorCode, kind.aggregate
        )
        if merge.undone_at is not None:
            raise DomainError(MergeErrorCode.ALREADY_UNDONE, "This merge was undone already.", "id")
        now = datetime.now(UTC)
        if now > merge.undo_until:
            raise DomainError(
                MergeErrorCode.UNDO_EXPIRED, "This merge is past its undo window.", "id"
            )
        merged_ids = [UUID(m) for m in merge.merged_ids]
        writable = kind.model.filter(
            rows(actor, Resource.SALES_RECORDS, Access.WRITE), id__in=merged_ids
        ).using_db(conn)
        merged = await writable.select_for_update()
        if len(merged) != len(merged_ids):
            raise DomainError(
                MergeErrorCode.FORBIDDEN, f"You may not change every merged {kind.aggregate}.", "id"
            )
        if any(getattr(record, "erased_at", None) is not None for record in merged):
            raise DomainError(
                MergeErrorCode.INVALID,
                "A merged contact was erased since: the merge cannot be undone.",
                "id",
            )
        models = {str(m._meta.db_table): m for m in _models()}
        for group in _undoable(merge, await _survivor_values(merge, conn)):
            model = models[group["table"]]
            link = RecordLink(model, group["column"], None, ())
            pk = str(model._meta.pk_attr)
            await (
                model.filter(**{f"{pk}__in": group["ids"]})
                .using_db(conn)
                .update(**{group["column"]: link.value(UUID(group["from"]))})
            )
        restored = {
            name: _column_value(name, value)
            for name, value in merge.survivor_before.items()
            if _json(getattr(survivor, name)) == merge.survivor_after.get(name)
        }
        survivor.update_from_dict(restored)
        await survivor.save(using_db=conn)
        await refresh_sort_keys(actor.agency_id, kind.aggregate, [survivor.id, *merged_ids], conn)
        for record in merged:
            record.deleted_at = None
            await record.save(using_db=conn, update_fields=["deleted_at", "updated_at"])
        merge.undone_at = now
        await merge.save(using_db=conn, update_fields=["undone_at"])
        summary = _summary(merge)
        after = {name: _json(value) for name, value in restored.items()}
        await record_audit(
            actor, kind.aggregate, str(survivor.id), "unmerge", {}, {**after, **summary}, conn
        )
        await append_event(
            actor, f"{kind.aggregate}.merge_undone", kind.aggregate, str(survivor.id), summary, conn
        )
    return merge


async def _survivor_values(merge: RecordMerge, conn: BaseDBAsyncClient) -> dict[str, set[str]]:
    """The survivor's values now of the custom fields chosen in the merge (row ids by field)."""
    chosen = {g["field_id"] for g in merge.moved if "field_id" in g}
    if not chosen:
        return {}
    rows = (
        await CustomFieldValue.filter(
            record_type=merge.record_type, record_id=merge.survivor_id, field_id__in=sorted(chosen)
        )
        .using_db(conn)
        .values_list("field_id", "id")
    )
    found: dict[str, set[str]] = {}
    for field_id, row_id in rows:
        found.setdefault(str(field_id), set()).add(str(row_id))
    return found


def _undoable(merge: RecordMerge, survivor_values: dict[str, set[str]]) -> list[dict[str, Any]]:
    """The moved groups to put back. A chosen custom field set on the survivor since (its rows
    now are not the ones the merge gave it) keeps the later edit: the survivor's old values
    stay with the record they were swapped to."""
    given = {
        g["field_id"]: {str(i) for i in g["ids"]}
        for g in merge.moved
        if "field_id" in g and g["from"] != str(merge.survivor_id)
    }
    groups = []
    for group in merge.moved:
        field_id = group.get("field_id")
        if field_id is not None and group["from"] == str(merge.survivor_id):
            now = survivor_values.get(field_id, set())
            if now - given.get(field_id, set()):
                continue
        groups.append(group)
    return groups


async def survivor_of(actor: Actor, merge: RecordMerge) -> Contact | Customer:
    """The merge's survivor as the actor sees it now."""
    if merge.record_type == CONTACT.aggregate:
        return await contacts.get_contact(actor, merge.survivor_id)
    return await customers.get_customer(actor, merge.survivor_id)
