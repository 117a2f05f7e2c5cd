"""Sortable custom fields: their sort keys follow every write (create, update, merge and its
undo, unmarking and re-marking), the backfill fills them in batches with progress, and paging
through every contact ordered by the field loses and repeats none, with ties and missing
values, whether the page reads the sort-key column or the value table."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from db.contacts import Contact
from db.custom_fields import CustomField
from domain import contacts, custom_field_sort_keys, merges
from domain.actors import Actor
from domain.agencies import bootstrap_agency
from domain.custom_field_queries import CustomFieldOrdering
from domain.custom_field_sort_keys import FillProgress, fill_every_field, indexed_column
from domain.custom_fields import define_custom_field, update_custom_field
from domain.errors import DomainError, DomainErrors
from domain.pagination import encode_cursor
from domain.roles import Role
from tests.fixtures.databases import OpenDatabase

PAGE = 4
# (score, renewal, vip, code) per contact: ties, missing values and both ends of each type.
ROWS: list[tuple[float | None, str | None, bool | None, str | None]] = [
    (3, "2030-01-01", True, "delta"),
    (1, None, False, "alpha"),
    (None, "2029-12-31", None, None),
    (3, "2030-01-01", True, "delta"),
    (-2.5, "2031-06-30", False, "charlie"),
    (None, None, None, "alpha"),
    (1, "2029-12-31", True, None),
    (1e15, "2030-01-01", None, "bravo"),
    (0, None, False, "delta"),
    (None, "2031-06-30", True, "bravo"),
    (3, None, None, None),
]
KEYS = ("score", "renewal", "vip", "code")


async def _admin() -> Actor:
    agency, admin, _ = await bootstrap_agency(
        "Acme", "acme", "admin@acme.example.com", "Ada", "pw" * 8
    )
    return Actor(agency.id, f"user:{admin.id}", user_id=admin.id, roles=frozenset({Role.ADMIN}))


async def _fields(actor: Actor, sortable: bool) -> dict[str, CustomField]:
    defined = {}
    for key, kind in zip(KEYS, ("number", "date", "boolean", "text"), strict=True):
        defined[key] = await define_custom_field(
            actor,
            {
                "record_type": "contact",
                "key": key,
                "label": key,
                "type": kind,
                "sortable": sortable,
            },
        )
    return defined


def _values(row: tuple[Any, ...]) -> list[dict[str, Any]]:
    members = ("number", "date", "boolean", "text")
    return [
        {"key": key, member: value}
        for key, member, value in zip(KEYS, members, row, strict=True)
        if value is not None
    ]


async def _contacts(actor: Actor) -> dict[UUID, tuple[Any, ...]]:
    made = {}
    for number, row in enumerate(ROWS):
        contact = await contacts.create_contact(
            actor, {"first_name": f"C{number}", "custom_fields": _values(row)}
        )
        made[contact.id] = row
    return made


def _expected(made: dict[UUID, tuple[Any, ...]], key: str, descending: bool) -> list[UUID]:
    """Values in order, ties by id in the same direction, records without a value last."""
    column = KEYS.index(key)
    valued = [
        (row[column], record_id) for record_id, row in made.items() if row[column] is not None
    ]
    valued.sort(reverse=descending)
    missing = sorted((i for i, row in made.items() if row[column] is None), reverse=descending)
    return [record_id for _, record_id in valued] + missing


async def _walk(actor: Actor, key: str, descending: bool, after: str | None = None) -> list[UUID]:
    seen: list[UUID] = []
    while True:
        page = await contacts.list_contacts(
            actor, PAGE, after, None, CustomFieldOrdering(key, descending)
        )
        seen += [contact.id for contact in page.items]
        if not page.has_next_page:
            return seen
        after = page.cursors[-1]


async def _field(field_id: UUID) -> CustomField:
    return await CustomField.get(id=field_id)


async def test_paging_by_a_sortable_field_loses_and_repeats_no_contact(db: OpenDatabase) -> None:
    actor = await _admin()
    fields = await _fields(actor, sortable=False)
    made = await _contacts(actor)
    by_values = {
        (key, descending): await _walk(actor, key, descending)
        for key in KEYS
        for descending in (False, True)
    }
    # A cursor taken from the value table's ordering, before the field became sortable.
    first = await contacts.list_contacts(actor, PAGE, None, None, CustomFieldOrdering("renewal"))

    for key in KEYS:
        await update_custom_field(actor, fields[key].id, {"sortable": True})
        assert indexed_column(await _field(fields[key].id)) is not None, key
    for (key, descending), seen in by_values.items():
        expected = _expected(made, key, descending)
        assert seen == expected, (key, descending)
        by_keys = await _walk(actor, key, descending)
        assert by_keys == expected, (key, descending)
    continued = await _walk(actor, "renewal", False, first.cursors[-1])
    assert [c.id for c in first.items] + continued == _expected(made, "renewal", False)
    # The sort-key columns hold the values: a date as its day number, yes/no as 1 and 0.
    columns = {key: str((await _field(fields[key].id)).sort_column) for key in KEYS}
    assert columns == {
        "score": "sort_number_1",
        "renewal": "sort_number_2",
        "vip": "sort_number_3",
        "code": "sort_text_1",
    }
    some = next(i for i, row in made.items() if row[1] is not None and row[2] is not None)
    stored = await Contact.get(id=some)
    assert stored.sort_number_2 == date.fromisoformat(str(made[some][1])).toordinal()
    assert stored.sort_number_3 == (1.0 if made[some][2] else 0.0)
    forged = encode_cursor("not a date", some)  # cursors come from clients
    with pytest.raises(DomainError) as refused:
        await contacts.list_contacts(actor, PAGE, forged, None, CustomFieldOrdering("renewal"))
    assert refused.value.code == "INVALID_CURSOR"


async def test_sort_keys_follow_updates_merges_and_undo(db: OpenDatabase) -> None:
    actor = await _admin()
    fields = await _fields(actor, sortable=True)
    made = await _contacts(actor)
    without = next(i for i, row in made.items() if row[0] is None)
    valued = next(i for i, row in made.items() if row[0] == -2.5)

    await contacts.update_contact(
        actor, without, {"custom_fields": [{"key": "score", "number": 7}]}
    )
    assert (await Contact.get(id=without)).sort_number_1 == 7
    await contacts.update_contact(actor, without, {"custom_fields": [{"key": "score"}]})
    assert (await Contact.get(id=without)).sort_number_1 is None
    await contacts.update_contact(actor, valued, {"last_name": "Kept"})  # no value written
    assert (await Contact.get(id=valued)).sort_number_1 == -2.5

    # The survivor has no score: the merged contact's moves to it, and back on undo.
    merge = await merges.merge_contacts(
        actor, without, [valued], {}, merges.DEFAULT_MERGE_UNDO_WINDOW
    )
    assert (await Contact.get(id=without)).sort_number_1 == -2.5
    assert (await Contact.get(id=valued)).sort_number_1 is None
    await merges.undo_merge(actor, merge.id)
    assert (await Contact.get(id=without)).sort_number_1 is None
    assert (await Contact.get(id=valued)).sort_number_1 == -2.5
    made[without] = (None, *made[without][1:])
    assert await _walk(actor, "score", True) == _expected(made, "score", True)

    # Unmarked, the field orders by its values again; its column goes to the next field,
    # whose backfill overwrites the keys the first one left there.
    await update_custom_field(actor, fields["score"].id, {"sortable": False})
    assert (await _field(fields["score"].id)).sort_column is None
    assert await _walk(actor, "score", False) == _expected(made, "score", False)
    rank = await define_custom_field(
        actor, {"record_type": "contact", "key": "rank", "label": "Rank", "type": "number"}
    )
    ranked = list(made)[:3]
    for number, record_id in enumerate(ranked):
        await contacts.update_contact(
            actor, record_id, {"custom_fields": [{"key": "rank", "number": number}]}
        )
    await update_custom_field(actor, rank.id, {"sortable": True})
    assert (await _field(rank.id)).sort_column == "sort_number_1"
    assert await Contact.filter(sort_number_1__isnull=False).count() == 3
    ordered = await _walk(actor, "rank", True)
    assert ordered[:3] == ranked[::-1]
    assert ordered[3:] == sorted(made.keys() - set(ranked), reverse=True)


async def test_backfill_fills_in_batches_and_orderings_wait_for_it(
    db: OpenDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    actor = await _admin()
    fields = await _fields(actor, sortable=False)
    made = await _contacts(actor)
    monkeypatch.setattr(custom_field_sort_keys, "FILL_BATCH", 4)
    marked = await update_custom_field(actor, fields["code"].id, {"sortable": True})
    assert (marked.sort_keys_filled, marked.sort_ready_at) == (4, None)
    assert indexed_column(marked) is None  # not filled yet: the value table orders it
    assert await _walk(actor, "code", False) == _expected(made, "code", False)
    # A write while the backfill runs sets its contact's key, wherever the backfill is.
    last = max(made)
    await contacts.update_contact(actor, last, {"custom_fields": [{"key": "code", "text": "zulu"}]})
    made[last] = (*made[last][:3], "zulu")

    reports: list[tuple[str, FillProgress]] = []

    def report(field: CustomField, progress: FillProgress) -> None:
        reports.append((field.key, progress))

    assert await fill_every_field(report) == 1
    assert [(key, p.filled, p.done) for key, p in reports] == [
        ("code", 8, False),
        ("code", 11, True),
    ]
    ready = await _field(fields["code"].id)
    assert indexed_column(ready) == "sort_text_1"
    assert (await Contact.get(id=last)).sort_text_1 == "zulu"
    for descending in (False, True):
        assert await _walk(actor, "code", descending) == _expected(made, "code", descending)


async def test_which_fields_can_be_sortable(db: OpenDatabase) -> None:
    actor = await _admin()

    async def define(**given: Any) -> CustomField:
        return await define_custom_field(
            actor, {"record_type": "contact", "label": "F", "sortable": True, **given}
        )

    def codes(error: DomainError | DomainErrors) -> list[tuple[str, str | None]]:
        found = error.errors if isinstance(error, DomainErrors) else [error]
        return [(str(e.code), e.field) for e in found]

    for number in range(3):
        await define(key=f"n{number}", type="date" if number else "number")
    with pytest.raises(DomainError) as full:
        await define(key="n3", type="boolean")
    assert codes(full.value) == [("TOO_MANY", "sortable")]
    text = await define(key="t0", type="choice", choices=["a"])  # text-like columns are apart
    assert text.sort_column == "sort_text_1"
    with pytest.raises(DomainError) as multi:
        await define(key="m", type="multi_choice", choices=["a"])
    assert codes(multi.value) == [("INVALID", "sortable")]
    with pytest.raises(DomainError) as customer:
        await define(key="c", type="number", record_type="customer")
    assert codes(customer.value) == [("INVALID", "sortable")]
    assert not await CustomField.filter(key__in=["n3", "m", "c"]).exists()


async def test_crm_sort_keys_fills_the_rest_and_prints_progress(
    db: OpenDatabase, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    actor = await _admin()
    fields = await _fields(actor, sortable=False)
    made = await _contacts(actor)
    monkeypatch.setattr(custom_field_sort_keys, "FILL_BATCH", 4)
    await update_custom_field(actor, fields["score"].id, {"sortable": True})
    environment = {**os.environ, "CRM_DATABASE_URL": db.url, "CRM_DATA_DIR": str(tmp_path)}
    command = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crm",
        "sort-keys",
        "--batch",
        "4",
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await command.communicate()
    assert command.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert [line.split(": ", 1)[1] for line in lines[:-1]] == [
        "8 record(s) filled, filling",
        "11 record(s) filled, ready",
    ]
    assert lines[-1] == "1 field(s) ready"
    assert indexed_column(await _field(fields["score"].id)) == "sort_number_1"
    assert await _walk(actor, "score", True) == _expected(made, "score", True)
