"""Cursor and page-size checks of keyset pagination (no database needed)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from domain.errors import DomainError
from domain.pagination import (
    MAX_PAGE_SIZE,
    PageErrorCode,
    check_page_size,
    decode_cursor,
    encode_cursor,
)


@pytest.mark.parametrize("first", [0, 1, MAX_PAGE_SIZE])
def test_page_sizes_within_limits_are_accepted(first: int) -> None:
    check_page_size(first)


@pytest.mark.parametrize("first", [-1, MAX_PAGE_SIZE + 1, 10_000])
def test_page_sizes_outside_limits_are_refused(first: int) -> None:
    with pytest.raises(DomainError) as raised:
        check_page_size(first)
    assert (raised.value.code, raised.value.field) == (PageErrorCode.INVALID_PAGE_SIZE, "first")


@pytest.mark.parametrize("cursor", ["garbage", "W10=", "WzEsIm5vdC1hLXV1aWQiXQ=="])
def test_foreign_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(DomainError) as raised:
        decode_cursor(cursor)
    assert (raised.value.code, raised.value.field) == (PageErrorCode.INVALID_CURSOR, "after")


@pytest.mark.parametrize("value", ["Lovelace", 42, datetime(2026, 11, 23, 12, 30, tzinfo=UTC)])
def test_cursor_round_trips_its_sort_value_and_id(value: object) -> None:
    pk = uuid4()
    assert decode_cursor(encode_cursor(value, pk)) == (value, pk)


def test_a_compound_cursor_round_trips_each_sort_value() -> None:
    pk = uuid4()
    values = [3, datetime(2026, 11, 23, 12, 30, tzinfo=UTC)]
    assert decode_cursor(encode_cursor(values, pk)) == (values, pk)
