"""Stage-to-stage conversion and time in stage, from the deals' stage history
(`db.deal_stage_changes`), for the sales head's dashboard.

Conversion: of the deals that entered an open stage in the period (each entry counts, so a
deal that comes back counts again), the share that went on to the next stage of the pipeline
(by position; lost stages are no step forward) and to any later stage, whenever they did.
Time in stage: the stays in an open stage that ended in the period, by the day the deal moved
on (a deal still in its stage has no time yet), as the average and the median in days.

Both are GROUP BYs over the history of the deals the viewer may read, narrowed by the
dashboard filter (`domain.dashboards`: the same deals as the other figures); whether a later
entry exists is a correlated EXISTS on the history's (deal_id, id) index.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
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
    Point,
    _by_bucket,
    _days_between_sql,
    _deals,
    _is_postgres,
    _rate,
    _ratio,
    _rows,
)

MICRO = Decimal("0.000001")
_LATER_ENTRY = (
    "SELECT 1 FROM deal_stage_change later "
    "JOIN pipeline_stage reached ON reached.id = later.to_stage_id "
    'WHERE later.deal_id = "deal_stage_change"."deal_id" '
    'AND later.id > "deal_stage_change"."id" AND reached.kind <> \'lost\''
)
# The next stage: the first one after the entered stage, by position, in its pipeline.
_NEXT_STAGE = (
    "SELECT following.id FROM pipeline_stage following "
    "JOIN pipeline_stage entered ON entered.pipeline_id = following.pipeline_id "
    'WHERE entered.id = "deal_stage_change"."to_stage_id" AND following.deleted_at IS NULL '
    "AND following.kind <> 'lost' AND following.position > entered.position "
    "ORDER BY following.position, following.id LIMIT 1"
)
_REACHED_NEXT = (
    f"SUM(CASE WHEN EXISTS ({_LATER_ENTRY} AND later.to_stage_id = ({_NEXT_STAGE})) "
    "THEN 1 ELSE 0 END)"
)
_REACHED_LATER = (
    f"SUM(CASE WHEN EXISTS ({_LATER_ENTRY} AND reached.position > (SELECT position FROM "
    'pipeline_stage WHERE id = "deal_stage_change"."to_stage_id")) THEN 1 ELSE 0 END)'
)


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


async def stage_flow(actor: Actor, period: DashboardFilter) -> StageFlow:
    """The viewer's deals' moves through the open stages: conversion and time in stage."""
    stages = {
        stage.id: stage
        for stage in await Stage.filter(agency_id=actor.agency_id).order_by("position", "id")
    }
    open_ids = [stage_id for stage_id, stage in stages.items() if stage.kind == "open"]
    history = DealStageChange.filter(
        agency_id=actor.agency_id,
        deal_id__in=Subquery(Deal.filter(await _deals(actor, period)).values("id")),
        to_stage_id__in=open_ids,
    )
    entries = history.filter(changed_at__gte=period.since, changed_at__lt=period.until)
    stays = history.filter(left_at__gte=period.since, left_at__lt=period.until)
    reached = {"next_n": RawSQL(_REACHED_NEXT), "later_n": RawSQL(_REACHED_LATER)}
    days = {"days": _days_between_sql(DealStageChange, "changed_at", "left_at")}
    by_entry, by_stay, entry_rows, stay_rows = await asyncio.gather(
        _by_bucket(entries, DealStageChange, "changed_at", period.bucket, sums=reached),
        _by_bucket(stays, DealStageChange, "left_at", period.bucket, sums=days),
        _rows(
            entries.annotate(n=Count("id"), **reached)
            .group_by("to_stage_id")
            .values("to_stage_id", "n", *reached)
        ),
        _rows(
            stays.annotate(n=Count("id"), **days)
            .group_by("to_stage_id")
            .values("to_stage_id", "n", "days")
        ),
    )
    conversions = []
    for row in entry_rows:
        stage = stages[UUID(str(row["to_stage_id"]))]
        entered, next_n, later_n = row["n"], int(row["next_n"] or 0), int(row["later_n"] or 0)
        conversions.append(
            StageConversion(
                stage_id=stage.id,
                stage_name=stage.name,
                entered=entered,
                reached_next=next_n,
                reached_later=later_n,
                next_rate=_ratio(Decimal(next_n), Decimal(entered)),
                later_rate=_ratio(Decimal(later_n), Decimal(entered)),
            )
        )
    postgres = _is_postgres(DealStageChange)
    medians = await asyncio.gather(
        *(
            _median(stays.filter(to_stage_id=row["to_stage_id"]), row["n"], postgres)
            for row in stay_rows
        )
    )
    times = []
    for row, median in zip(stay_rows, medians, strict=True):
        stage = stages[UUID(str(row["to_stage_id"]))]
        times.append(
            StageTime(
                stage_id=stage.id,
                stage_name=stage.name,
                stays=row["n"],
                average_days=_ratio(_micro(row["days"]), Decimal(row["n"]), CENT),
                median_days=median,
            )
        )
    order = list(stages)
    conversions.sort(key=lambda c: order.index(c.stage_id))
    times.sort(key=lambda t: order.index(t.stage_id))
    entered = by_entry.figure(period)
    stay_count = by_stay.figure(period)
    summed_days = by_stay.figure(period, "days")
    summed_days = Figure(
        _micro(summed_days.value),
        [Point(p.start, _micro(p.value)) for p in summed_days.series],
    )
    return StageFlow(
        conversions=conversions,
        times=times,
        stage_entries=entered,
        stage_advance_rate=_rate(by_entry.figure(period, "next_n"), entered),
        days_in_stage=_rate(summed_days, stay_count, CENT),
    )
