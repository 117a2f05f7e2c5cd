"""Tags shared by the whole agency: one catalogue, used by every sales record alike (contacts,
customers, leads, deals and calling tasks).

Tagging a record with a name the agency already knows, in any letter case, uses the catalogue's
spelling; a new name joins the catalogue. Each record keeps its tag names (shown and
snapshotted with it) and the `record_tag` index says which records carry which tag, so tag
filters and usage counts are plain joins on both databases. Both are written in the record's
own transaction. Admins and sales heads curate the catalogue: rename, recolour, delete.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Subquery
from tortoise.functions import Count
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from db.calling_tasks import CallingTask
from db.contacts import Contact
from db.customers import Customer
from db.deals import Deal
from db.leads import Lead
from db.tags import RecordTag
from db.tags import Tag as Tag
from domain.actors import Actor
from domain.audit import changed_fields, record_audit
from domain.errors import DomainError, input_errors
from domain.events import append_event
from domain.field_types import Tag as TagName
from domain.field_types import input_codes
from domain.policies import require
from domain.record_changes import record_created, record_updated
from domain.roles import Access, Resource
from domain.row_locks import locked_in_agency
from domain.sales_records import scoped

AGGREGATE = "tag"
MAX_TAGS_PER_AGENCY = 1_000


class TaggedRecordType(StrEnum):
    """Record types that carry tags; the values are their aggregate names."""

    CONTACT = "contact"
    CUSTOMER = "customer"
    LEAD = "lead"
    DEAL = "deal"
    CALLING_TASK = "calling_task"


TaggedModel = type[Contact] | type[Customer] | type[Lead] | type[Deal] | type[CallingTask]


@dataclass(frozen=True, slots=True)
class Tagged:
    """A tagged record's table (whose `tags` column holds the names) and the column its row
    scope follows."""

    model: TaggedModel
    owner_field: str = "owner_id"


TAGGED: dict[TaggedRecordType, Tagged] = {
    TaggedRecordType.CONTACT: Tagged(Contact),
    TaggedRecordType.CUSTOMER: Tagged(Customer),
    TaggedRecordType.LEAD: Tagged(Lead),
    TaggedRecordType.DEAL: Tagged(Deal),
    TaggedRecordType.CALLING_TASK: Tagged(CallingTask, owner_field="assignee_id"),
}


class TagErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    TOO_MANY = "TOO_MANY"
    DUPLICATE_NAME = "DUPLICATE_NAME"
    FORBIDDEN = "FORBIDDEN"


_PYDANTIC_CODES = input_codes(TagErrorCode)

Color = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^(#[0-9a-fA-F]{6})?$")]


class TagChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: TagName
    color: Color = ""


@dataclass(frozen=True, slots=True)
class TagUsage:
    """A catalogue tag and how many live records of each tagged type carry it (every type is
    counted, zeros included, in `TaggedRecordType` order)."""

    tag: Tag
    counts: dict[TaggedRecordType, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def key_of(name: str) -> str:
    return name.strip().lower()


def _snapshot(tag: Tag) -> dict[str, Any]:
    return {"id": str(tag.id), "name": tag.name, "color": tag.color}


def _parse(data: dict[str, Any], partial: bool) -> dict[str, Any]:
    try:
        if partial:
            merged = TagChanges.model_validate({"name": "-", **data})
            return merged.model_dump(include=set(data))
        return TagChanges.model_validate(data).model_dump()
    except ValidationError as exc:
        raise input_errors(exc, _PYDANTIC_CODES, TagErrorCode.INVALID) from exc


# --- on records -----------------------------------------------------------------------------


async def tag_record(
    actor: Actor, record_type: str, record_id: UUID, names: Sequence[str], conn: BaseDBAsyncClient
) -> list[str]:
    """Make `names` the record's tags; returns them in the catalogue's spelling.

    Called by the record's service inside its transaction, after its row locks.
    """
    canonical = await _catalogue_names(actor, names, conn)
    await (
        RecordTag.filter(agency_id=actor.agency_id, record_type=record_type, record_id=record_id)
        .using_db(conn)
        .delete()
    )
    await RecordTag.bulk_create(
        [
            RecordTag(
                agency_id=actor.agency_id,
                tag_id=tag_id,
                record_type=record_type,
                record_id=record_id,
            )
            for tag_id in canonical.values()
        ],
        using_db=conn,
    )
    return list(canonical)


async def untag_record(
    actor: Actor, record_type: str, record_id: UUID, conn: BaseDBAsyncClient
) -> None:
    """A deleted record leaves the index (its own tag names stay on the row, with the row)."""
    await (
        RecordTag.filter(agency_id=actor.agency_id, record_type=record_type, record_id=record_id)
        .using_db(conn)
        .delete()
    )


async def _catalogue_names(
    actor: Actor, names: Sequence[str], conn: BaseDBAsyncClient
) -> dict[str, UUID]:
    """Catalogue name -> tag id for each name, adding the names the agency does not know."""
    wanted = {key_of(name): name.strip() for name in names}
    if not wanted:
        return {}
    known = {
        tag.key: tag
        for tag in await Tag.filter(agency_id=actor.agency_id, key__in=list(wanted)).using_db(conn)
    }
    missing = [key for key in wanted if key not in known]
    if missing:
        count = await Tag.filter(agency_id=actor.agency_id).using_db(conn).count()
        if count + len(missing) > MAX_TAGS_PER_AGENCY:
            raise DomainError(
                TagErrorCode.TOO_MANY,
                f"An agency has at most {MAX_TAGS_PER_AGENCY} tags; delete unused ones first.",
                "tags",
            )
        # Another writer may add the same name meanwhile: ignore the conflict, then re-read.
        await Tag.bulk_create(
            [Tag(agency_id=actor.agency_id, name=wanted[key], key=key) for key in missing],
            ignore_conflicts=True,
            using_db=conn,
        )
        known.update(
            (tag.key, tag)
            for tag in await Tag.filter(agency_id=actor.agency_id, key__in=missing).using_db(conn)
        )
    return {known[key].name: known[key].id for key in wanted}


def with_tags(
    query: QuerySet[Any],
    actor: Actor,
    record_type: str,
    all_of: Sequence[str] = (),
    any_of: Sequence[str] = (),
) -> QuerySet[Any]:
    """Narrow a record query to records carrying every tag of `all_of` and one of `any_of`."""

    def carrying(names: Sequence[str]) -> Subquery:
        tag_ids = Tag.filter(agency_id=actor.agency_id, key__in=[key_of(n) for n in names])
        return Subquery(
            RecordTag.filter(
                agency_id=actor.agency_id,
                record_type=record_type,
                tag_id__in=Subquery(tag_ids.values("id")),
            ).values("record_id")
        )

    for name in dict.fromkeys(key_of(n) for n in all_of):
        query = query.filter(id__in=carrying([name]))
    if any_of:
        query = query.filter(id__in=carrying(any_of))
    return query


# --- the catalogue --------------------------------------------------------------------------


async def list_tags(actor: Actor) -> list[TagUsage]:
    """Every tag of the agency, by name, with its use on the records the actor may read."""
    require(actor, Resource.SALES_RECORDS, Access.READ)
    tags = await Tag.filter(agency_id=actor.agency_id).order_by("key")
    uses: dict[TaggedRecordType, Counter[UUID]] = {}
    for record_type, tagged in TAGGED.items():
        visible: QuerySet[Any] = scoped(tagged.model, actor, owner_field=tagged.owner_field)
        counts = (
            await RecordTag.filter(
                agency_id=actor.agency_id,
                record_type=record_type,
                record_id__in=Subquery(visible.values("id")),
            )
            .annotate(uses=Count("id"))
            .group_by("tag_id")
            .values("tag_id", "uses")
        )
        uses[record_type] = Counter({UUID(str(row["tag_id"])): row["uses"] for row in counts})
    return [
        TagUsage(tag, {record_type: counts[tag.id] for record_type, counts in uses.items()})
        for tag in tags
    ]


async def create_tag(actor: Actor, data: dict[str, Any]) -> Tag:
    require(actor, Resource.TAGS, Access.WRITE)
    fields = _parse(data, partial=False)
    async with in_transaction() as conn:
        if (
            await Tag.filter(agency_id=actor.agency_id).using_db(conn).count()
            >= MAX_TAGS_PER_AGENCY
        ):
            raise DomainError(
                TagErrorCode.TOO_MANY, f"An agency has at most {MAX_TAGS_PER_AGENCY} tags.", "name"
            )
        await _check_name_free(actor, fields["name"], None, conn)
        tag = Tag(agency_id=actor.agency_id, key=key_of(fields["name"]), **fields)
        await tag.save(using_db=conn)
        after = _snapshot(tag)
        await record_created(actor, AGGREGATE, str(tag.id), after, conn)
    return tag


async def update_tag(actor: Actor, tag_id: UUID, data: dict[str, Any]) -> Tag:
    """Rename or recolour; a rename is written into every record that carries the tag."""
    require(actor, Resource.TAGS, Access.WRITE)
    fields = _parse(data, partial=True)
    async with in_transaction() as conn:
        tag = await _locked(actor, tag_id, conn)
        before = _snapshot(tag)
        old_name = tag.name
        if "name" in fields:
            await _check_name_free(actor, fields["name"], tag.id, conn)
            fields["key"] = key_of(fields["name"])
        tag.update_from_dict(fields)
        await tag.save(using_db=conn)
        if tag.name != old_name:
            await _rewrite_records(actor, tag, old_name, tag.name, conn)
        old, new = changed_fields(before, _snapshot(tag))
        if new:
            await record_updated(actor, AGGREGATE, str(tag.id), old, new, conn)
    return tag


async def delete_tag(actor: Actor, tag_id: UUID) -> Tag:
    """Removes the tag from the catalogue and from every record that carries it."""
    require(actor, Resource.TAGS, Access.WRITE)
    async with in_transaction() as conn:
        tag = await _locked(actor, tag_id, conn)
        await _rewrite_records(actor, tag, tag.name, None, conn)
        await RecordTag.filter(agency_id=actor.agency_id, tag_id=tag.id).using_db(conn).delete()
        await tag.delete(using_db=conn)
        before = _snapshot(tag)
        await record_audit(actor, AGGREGATE, str(tag.id), "delete", before, {}, conn)
        await append_event(actor, "tag.deleted", AGGREGATE, str(tag.id), before, conn)
    return tag


async def _rewrite_records(
    actor: Actor, tag: Tag, old: str, new: str | None, conn: BaseDBAsyncClient
) -> None:
    """Replace (or drop) the tag's name in the tags column of every record carrying it."""
    for record_type, tagged in TAGGED.items():
        ids = RecordTag.filter(agency_id=actor.agency_id, tag_id=tag.id, record_type=record_type)
        carriers = await tagged.model.filter(
            agency_id=actor.agency_id, id__in=Subquery(ids.values("record_id"))
        ).using_db(conn)
        for record in carriers:
            names = [name for name in record.tags if key_of(name) != key_of(old)]
            if new is not None:
                position = next(
                    (i for i, name in enumerate(record.tags) if key_of(name) == key_of(old)),
                    len(names),
                )
                names.insert(position, new)
            record.tags = names
            await record.save(using_db=conn, update_fields=["tags", "updated_at"])


async def _check_name_free(
    actor: Actor, name: str, own_id: UUID | None, conn: BaseDBAsyncClient
) -> None:
    taken = Tag.filter(agency_id=actor.agency_id, key=key_of(name)).using_db(conn)
    if own_id is not None:
        taken = taken.exclude(id=own_id)
    if await taken.exists():
        raise DomainError(TagErrorCode.DUPLICATE_NAME, "The agency already has that tag.", "name")


async def _locked(actor: Actor, tag_id: UUID, conn: BaseDBAsyncClient) -> Tag:
    tag = await locked_in_agency(Tag, actor, conn, id=tag_id)
    if tag is None:
        raise DomainError(TagErrorCode.NOT_FOUND, f"No tag with id {tag_id}.", "id")
    return tag
