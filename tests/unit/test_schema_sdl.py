"""The committed `schema.graphql` is what frontend code generators read: it must be current."""

from __future__ import annotations

from pathlib import Path

from schema import schema

SDL = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_committed_sdl_matches_the_schema() -> None:
    current = schema.as_str() + "\n"
    assert SDL.read_text() == current, "schema.graphql is out of date: run `make schema`"
