"""The hand SQL's named parameters become each driver's placeholders, in the right order."""

from __future__ import annotations

from bench.queries import bind

SQL = "SELECT 1 FROM contact WHERE agency_id = :agency AND owner_id = :owner OR x = :agency"


def test_postgres_numbers_each_name_once() -> None:
    text, values = bind(SQL, "postgres", {"agency": "a", "owner": "o"})
    assert text == "SELECT 1 FROM contact WHERE agency_id = $1 AND owner_id = $2 OR x = $1"
    assert values == ["a", "o"]


def test_sqlite_repeats_values_in_order_of_appearance() -> None:
    text, values = bind(SQL, "sqlite", {"agency": "a", "owner": "o"})
    assert text == "SELECT 1 FROM contact WHERE agency_id = ? AND owner_id = ? OR x = ?"
    assert values == ["a", "o", "a"]
