"""Quotas and targets: sales heads set the won amount a person or a team is to reach in a
period; attainment is the amount of the deals won in that period, counted when read.

Who may set one: admins for anyone, sales heads for the people of their team and for their
own org unit or units below it (a team whose every member is in the head's team). Who may
read one: the people it is for (a person's own quota, a team's quotas for its members) and
whoever may read their deals. Nothing is stored about attainment, so it is never stale: a
deal won, reopened or deleted changes it at the next read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from tortoise.expressions import Q
from tortoise.functions import Count, Sum
from tortoise.transactions import in_transaction

from db.deals import Deal
from db.quotas import Quota
from db.users import User
from domain.actors import Actor
from domain.errors import DomainError, input_errors
from domain.policies import forbidden, require
from domain.record_changes import record_created, record_deleted, record_updated
from domain.roles import Access, Resource, RowScope
from domain.users import unit_members

AGGREGATE = "quota"
MAX_QUOTAS = 100  # read at once
CENT = Decimal("0.01")
# The days a period (a quota's, a dashboard's) may start and end on: far enough from the
# calendar's ends that the day, week or month after them still exists.
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)


class QuotaErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    FORBIDDEN = "FORBIDDEN"


class SetQuota(BaseModel):
    model_config = ConfigDict(extra="forbid")

    owner_id: UUID | None = None
    team_id: UUID | None = None
    start: date
    end: date
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None


@dataclass(frozen=True)
class Attainment:
    quota: Quota
    won_deals: int
    won_amount: Decimal
    share: Decimal  # won amount over the target (1 = reached)


def _parse(data: dict[str, Any]) -> SetQuota:
    try:
        command = SetQuota.model_validate(data)
    except ValidationError as exc:
        codes: dict[str, StrEnum] = {"missing": QuotaErrorCode.REQUIRED}
        raise input_errors(exc, codes, QuotaErrorCode.INVALID) from exc
    if (command.owner_id is None) == (command.team_id is None):
        raise DomainError(QuotaErrorCode.INVALID, "Give either a user or a team.", "owner_id")
    for day, field in ((command.start, "from"), (command.end, "to")):
        if not EARLIEST <= day <= LATEST:
            raise DomainError(QuotaErrorCode.INVALID, "Give days from 1900 to 2999.", field)
    if command.end < command.start:
        raise DomainError(QuotaErrorCode.INVALID, "The period ends before it starts.", "to")
    return command


async def _people(actor: Actor, quota: Quota | SetQuota) -> frozenset[UUID]:
    if quota.owner_id is not None:
        return frozenset({quota.owner_id})
    assert quota.team_id is not None
    return await unit_members(actor.agency_id, quota.team_id)


async def _check_target(actor: Actor, command: SetQuota) -> None:
    """The user or team exists in the agency, and the actor may set its targets."""
    granted = require(actor, Resource.SALES_RECORDS, Access.WRITE)
    if granted < RowScope.TEAM or actor.is_api_key:
        raise forbidden(Resource.SALES_RECORDS, Access.WRITE)
    known = command.owner_id is None or await User.exists(
        agency_id=actor.agency_id, id=command.owner_id
    )
    if not known:
        raise DomainError(QuotaErrorCode.NOT_FOUND, "No such user.", "owner_id")
    people = await _people(actor, command)
    if command.team_id is not None and not people:
        raise DomainError(QuotaErrorCode.NOT_FOUND, "No such team, or nobody in it.", "team_id")
    if granted is RowScope.TEAM and not people <= actor.team:
        raise DomainError(QuotaErrorCode.FORBIDDEN, "Only for people of your own team.")


def _snapshot(quota: Quota) -> dict[str, Any]:
    return {
        "owner_id": str(quota.owner_id) if quota.owner_id else None,
        "team_id": str(quota.team_id) if quota.team_id else None,
        "start": quota.period_start.isoformat(),
        "end": quota.period_end.isoformat(),
        "amount": str(quota.amount),
        "currency": quota.currency,
    }


async def set_quota(actor: Actor, data: dict[str, Any]) -> Quota:
    """Set (or change) the target of one person or team for one period."""
    command = _parse(data)
    await _check_target(actor, command)
    key = f"user:{command.owner_id}" if command.owner_id else f"team:{command.team_id}"
    async with in_transaction() as conn:
        quota = (
            await Quota.filter(
                agency_id=actor.agency_id,
                target_key=key,
                period_start=command.start,
                period_end=command.end,
            )
            .using_db(conn)
            .select_for_update()
            .first()
        )
        fields = {"amount": command.amount, "currency": command.currency}
        if quota is None:
            quota = Quota(
                agency_id=actor.agency_id,
                target_key=key,
                owner_id=command.owner_id,
                team_id=command.team_id,
                period_start=command.start,
                period_end=command.end,
                **fields,
            )
            await quota.save(using_db=conn)
            await record_created(actor, AGGREGATE, str(quota.id), _snapshot(quota), conn)
        else:
            before = _snapshot(quota)
            quota.update_from_dict(fields)
            await quota.save(using_db=conn)
            after = _snapshot(quota)
            if after != before:
                await record_updated(actor, AGGREGATE, str(quota.id), before, after, conn)
    return quota


async def _readable(actor: Actor, quota: Quota) -> bool:
    granted = require(actor, Resource.SALES_RECORDS, Access.READ)
    if granted is RowScope.AGENCY:
        return True
    people = await _people(actor, quota)
    if granted is RowScope.TEAM and people <= actor.team:
        return True
    return actor.user_id is not None and actor.user_id in people


async def delete_quota(actor: Actor, quota_id: UUID) -> Quota:
    async with in_transaction() as conn:
        quota = await Quota.filter(agency_id=actor.agency_id, id=quota_id).using_db(conn).first()
        if quota is None or not await _readable(actor, quota):
            raise DomainError(QuotaErrorCode.NOT_FOUND, "No such quota.", "id")
        await _check_target(
            actor,
            SetQuota(
                owner_id=quota.owner_id,
                team_id=quota.team_id,
                start=quota.period_start,
                end=quota.period_end,
                amount=quota.amount,
            ),
        )
        await quota.delete(using_db=conn)
        await record_deleted(actor, AGGREGATE, str(quota_id), _snapshot(quota), conn)
    return quota


async def attainment(actor: Actor, quota: Quota) -> Attainment:
    """The deals won in the quota's period by its person or team, in its currency if any.

    Counted over all their deals, not only those the viewer may read: a quota is read by
    its people and by whoever set it, and it is theirs as a whole."""
    won = Q(
        agency_id=actor.agency_id,
        owner_id__in=list(await _people(actor, quota)),
        status="won",
        deleted_at__isnull=True,
        closed_at__gte=datetime.combine(quota.period_start, time(), UTC),
        closed_at__lt=datetime.combine(quota.period_end + timedelta(days=1), time(), UTC),
    )
    if quota.currency:
        won &= Q(currency=quota.currency)
    row = (
        await Deal.filter(won)
        .annotate(n=Count("id"), amount_sum=Sum("amount"))
        .first()
        .values("n", "amount_sum")
    )
    amount = Decimal(str(row["amount_sum"] or 0)).quantize(CENT) if row else Decimal("0.00")
    return Attainment(
        quota=quota,
        won_deals=row["n"] if row else 0,
        won_amount=amount,
        share=(amount / quota.amount).quantize(Decimal("0.0001")),
    )


async def quotas(actor: Actor, start: date, end: date) -> list[Attainment]:
    """The quotas the actor may read whose period overlaps [start, end], with attainment
    (at most MAX_QUOTAS, the earliest first)."""
    require(actor, Resource.SALES_RECORDS, Access.READ)
    found = (
        await Quota.filter(agency_id=actor.agency_id, period_start__lte=end, period_end__gte=start)
        .order_by("period_start", "target_key")
        .limit(MAX_QUOTAS * 10)
    )
    readable = [quota for quota in found if await _readable(actor, quota)][:MAX_QUOTAS]
    return [await attainment(actor, quota) for quota in readable]
