"""Stage-to-stage conversion and time in stage, from the deals' stage history
(`db.deal_stage_changes`), for the sales head's dashboard.

Conversion: of the deals that entered an open stage in the period (each entry counts, so a
deal that comes back counts again), the share that went on to the next stage of the pipeline
(by position; lost stages are no step forward) and to any later stage, whenever they did.
Time in stage: the stays in an open stage that ended in the period, by the day the deal moved
on (a deal still in its stage has no time yet), as the average and the median in days.

Both are GROUP BYs over the history of the deals the viewer may read, narrowed by the
dashboard filter (`domain.dashboards`: the same deals as the other figures). Whether a deal
went on from an entry is marked on the entry when it moves (`reached_next`, `reached_later`),
so conversion is a count: a correlated EXISTS per entry cost 7 s for an admin's year at
200,000 deals with 600,000 entries, the count about 1 s.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from tortoise.expressions import RawSQL, Subquery
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from db.deal_stage_changes import DealStageChange
from db.deals import Deal
from db.pipelines import Stage
from domain.actors import Actor
from domain.dashboards import (
    CENT,
    ZERO,
    DashboardFilter,
    Figure,
    _bucket_sql,
    _days_between_sql,
    _deals,
    _Grouped,
    _is_postgres,
    _number,
    _rate,
    _ratio,
    _rows,
)

MICRO = Decimal("0.000001")
# Whether the deal went on is marked on the entry by its later moves (domain.deal_stage_changes).
REACHED = {
    "next_n": RawSQL('SUM(CASE WHEN "reached_next" THEN 1 ELSE 0 END)'),
    "later_n": RawSQL('SUM(CASE WHEN "reached_later" THEN 1 ELSE 0 END)'),
}


@dataclass(frozen=True)
class StageConversion:
    stage_id: UUID
    stage_name: str
    entered: int  # entries into the stage in the period
    reached_next: int  # of those, how many went on to the next stage
    reached_later: int  # ... to any later stage
    next_rate: Decimal  # 0 to 1
    later_rate: Decimal


@dataclass(frozen=True)
class StageTime:
    stage_id: UUID
    stage_name: str
    stays: int  # stays that ended in the period
    average_days: Decimal
    median_days: Decimal


@dataclass(frozen=True)
class StageFlow:
    conversions: list[StageConversion]  # per open stage, in pipeline order
    times: list[StageTime]
    stage_entries: Figure  # entries into open stages, by the day of entry
    stage_advance_rate: Figure  # of those, the share that reached the next stage
    days_in_stage: Figure  # average days of the stays that ended, by the day they ended


def _days_sql(postgres: bool) -> RawSQL:
    """A stay's length in days (one row)."""
    if postgres:
        return RawSQL('EXTRACT(EPOCH FROM ("left_at" - "changed_at")) / 86400.0')
    return RawSQL('julianday("left_at") - julianday("changed_at")')


def _micro(value: Any) -> Decimal:
    """Days from the databases' float arithmetic, rounded to the microday (the noise it leaves
    could tip a cent)."""
    return ZERO if value is None else Decimal(str(value)).quantize(MICRO, rounding=ROUND_HALF_UP)


async def _median(stays: QuerySet[DealStageChange], count: int, postgres: bool) -> Decimal:
    """The middle stay (or the mean of the two middle ones), read by offset: one small query."""
    middle = await (
        stays.annotate(days=_days_sql(postgres))
        .order_by("days", "id")
        .offset((count - 1) // 2)
        .limit(2 - count % 2)
        .values_list("days", flat=True)
    )
    values = [_micro(value) for value in middle]
    return (sum(values, ZERO) / len(values)).quantize(CENT, rounding=ROUND_HALF_UP)


async def no_stage_flow(period: DashboardFilter) -> StageFlow:
    """No stages, every figure zero: what is left where the history was not asked for."""
    none = _Grouped().figure(period)
    return StageFlow([], [], none, none, none)


async def stage_flow(actor: Actor, period: DashboardFilter) -> StageFlow:
    """The viewer's deals' moves through the open stages: conversion and time in stage. One
    grouping by bucket and stage for the entries, one for the stays; per stage and per bucket
    are added up here."""
    stages = {
        stage.id: stage
        for stage in await Stage.filter(agency_id=actor.agency_id).order_by("position", "id")
    }
    open_ids = [stage_id for stage_id, stage in stages.items() if stage.kind == "open"]
    if not open_ids:
        return await no_stage_flow(period)
    postgres = _is_postgres(DealStageChange)
    history = DealStageChange.filter(
        agency_id=actor.agency_id,
        deal_id__in=Subquery(Deal.filter(await _deals(actor, period)).values("id")),
        to_stage_id__in=open_ids,
    )
    entries = history.filter(changed_at__gte=period.since, changed_at__lt=period.until)
    stays = history.filter(left_at__gte=period.since, left_at__lt=period.until)
    reached = REACHED
    entry_rows, stay_rows = await asyncio.gather(
        _rows(
            entries.annotate(
                bucket=_bucket_sql(DealStageChange, "changed_at", period.bucket),
                n=Count("id"),
                **reached,
            )
            .group_by("bucket", "to_stage_id")
            .values("bucket", "to_stage_id", "n", *reached)
        ),
        _rows(
            stays.annotate(
                bucket=_bucket_sql(DealStageChange, "left_at", period.bucket),
                n=Count("id"),
                days=_days_between_sql(DealStageChange, "changed_at", "left_at"),
            )
            .group_by("bucket", "to_stage_id")
            .values("bucket", "to_stage_id", "n", "days")
        ),
    )
    by_entry, by_stay = _Grouped(), _Grouped()
    entered: dict[UUID, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in entry_rows:
        start = date.fromisoformat(str(row["bucket"])[:10])
        counts = (row["n"], int(row["next_n"] or 0), int(row["later_n"] or 0))
        by_entry.counts[start] += counts[0]
        by_entry.sums["next_n"][start] = by_entry.sums["next_n"].get(start, ZERO) + counts[1]
        totals = entered[UUID(str(row["to_stage_id"]))]
        for index, count in enumerate(counts):
            totals[index] += count
    # Days summed as the database gives them, rounded once (per stage, per bucket).
    stayed: dict[UUID, list[Any]] = defaultdict(lambda: [0, ZERO])
    bucket_days: dict[date, Decimal] = defaultdict(Decimal)
    for row in stay_rows:
        start = date.fromisoformat(str(row["bucket"])[:10])
        days = _number(row["days"])
        by_stay.counts[start] += row["n"]
        bucket_days[start] += days
        totals_of_stage = stayed[UUID(str(row["to_stage_id"]))]
        totals_of_stage[0] += row["n"]
        totals_of_stage[1] += days
    by_stay.sums["days"] = {start: _micro(days) for start, days in bucket_days.items()}
    order = list(stages)
    conversions = [
        StageConversion(
            stage_id=stage_id,
            stage_name=stages[stage_id].name,
            entered=count,
            reached_next=next_n,
            reached_later=later_n,
            next_rate=_ratio(Decimal(next_n), Decimal(count)),
            later_rate=_ratio(Decimal(later_n), Decimal(count)),
        )
        for stage_id, (count, next_n, later_n) in sorted(
            entered.items(), key=lambda item: order.index(item[0])
        )
    ]
    in_order = sorted(stayed.items(), key=lambda item: order.index(item[0]))
    medians = await asyncio.gather(
        *(
            _median(stays.filter(to_stage_id=stage_id), count, postgres)
            for stage_id, (count, _) in in_order
        )
    )
    times = [
        StageTime(
            stage_id=stage_id,
            stage_name=stages[stage_id].name,
            stays=count,
            average_days=_ratio(_micro(days), Decimal(count), CENT),
            median_days=median,
        )
        for (stage_id, (count, days)), median in zip(in_order, medians, strict=True)
    ]
    stage_entries = by_entry.figure(period)
    return StageFlow(
        conversions=conversions,
        times=times,
        stage_entries=stage_entries,
        stage_advance_rate=_rate(by_entry.figure(period, "next_n"), stage_entries),
        days_in_stage=_rate(by_stay.figure(period, "days"), by_stay.figure(period), CENT),
    )
