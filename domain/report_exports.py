"""Any dashboard as a CSV (or XLSX) report: one row per figure and bucket, per group and measure.

The dashboards are already small by construction (one value per bucket, stage, owner or
status), so a report is the dashboard computed once and written row by row as it streams:
`figure, group, bucket, value`. A figure gives one row per bucket (its first day) and a
`total` row; a list (by stage, by owner, ...) one row per entry and number, its other
fields joined in `group` (`stage_name=Proposal; owner_id=...`).
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from openpyxl import Workbook

from domain import dashboards
from domain.actors import Actor
from domain.dashboards import DashboardErrorCode, DashboardFilter, Figure
from domain.errors import DomainError

REPORTS: dict[str, Callable[[Actor, DashboardFilter], Awaitable[Any]]] = {
    "sales": dashboards.sales_dashboard,
    "sales-head": dashboards.sales_head_dashboard,
    "support": dashboards.support_dashboard,
    "sysadmin": dashboards.sysadmin_dashboard,
}
HEADER = ("figure", "group", "bucket", "value")
XLSX_CHUNK = 64 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _rows(name: str, value: Any) -> Iterator[tuple[str, str, str, str]]:
    if isinstance(value, Figure):
        for point in value.series:
            yield name, "", point.start.isoformat(), str(point.value)
        yield name, "", "total", str(value.value)
    elif isinstance(value, bool | int | Decimal):
        yield name, "", "", str(value)
    elif isinstance(value, list):
        for item in value:
            fields = {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}
            numbers = {k: v for k, v in fields.items() if isinstance(v, int | Decimal)}
            # A stored record (a quota) shows as its id.
            labels = "; ".join(
                f"{k}={getattr(v, 'pk', v)}" for k, v in fields.items() if k not in numbers
            )
            for key, number in numbers.items():
                yield f"{name}.{key}", labels, "", str(number)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        # A group of figures read together (the event lag): a row each.
        for part in dataclasses.fields(value):
            yield from _rows(f"{name}.{part.name}", getattr(value, part.name))


def report_rows(dashboard: Any) -> Iterator[tuple[str, str, str, str]]:
    for field in dataclasses.fields(dashboard):
        yield from _rows(field.name, getattr(dashboard, field.name))


async def _dashboard(actor: Actor, name: str, period: DashboardFilter) -> Any:
    build = REPORTS.get(name)
    if build is None:
        raise DomainError(DashboardErrorCode.NOT_FOUND, f"No report named {name!r}.", "name")
    return await build(actor, period)


async def csv_report(actor: Actor, name: str, period: DashboardFilter) -> AsyncIterator[str]:
    """The report computed now (errors raised before anything is sent), then its lines."""
    dashboard = await _dashboard(actor, name, period)

    async def lines() -> AsyncIterator[str]:
        for row in (HEADER, *report_rows(dashboard)):
            buffer = io.StringIO()
            csv.writer(buffer).writerow(row)
            yield buffer.getvalue()

    return lines()


async def xlsx_report(actor: Actor, name: str, period: DashboardFilter) -> AsyncIterator[bytes]:
    """The same rows as one worksheet (values as numbers), sent in chunks. A workbook is a
    zip whose directory comes last, so it is written whole first (the rows are few: one per
    bucket and group)."""
    dashboard = await _dashboard(actor, name, period)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(name[:31])
    sheet.append(list(HEADER))
    for figure, group, bucket, value in report_rows(dashboard):
        sheet.append([figure, group, bucket, Decimal(value)])
    buffer = io.BytesIO()
    book.save(buffer)
    content = buffer.getvalue()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(content), XLSX_CHUNK):
            yield content[start : start + XLSX_CHUNK]

    return chunks()


def report_file_name(name: str, period: DashboardFilter, extension: str = "csv") -> str:
    return f"{name}-{period.start.isoformat()}-{period.end.isoformat()}.{extension}"


def parse_day(value: str | None, field: str) -> date:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        raise DomainError(DashboardErrorCode.INVALID, "Give a date as YYYY-MM-DD.", field) from None
