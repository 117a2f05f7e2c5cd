"""Report schedule resolvers: the nested inputs as the domain's flat fields, then one call."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from strawberry import relay

from domain import report_schedules
from domain.errors import DomainError
from domain.report_schedules import ReportScheduleErrorCode, ScheduleView
from resolvers.context import RequestContext, actor_of
from resolvers.errors import Outcome, answer, attempt, input_path
from resolvers.inputs import given, node_uuid

Codes = ReportScheduleErrorCode
# The domain's flat field -> where the client wrote it.
_NESTED = {
    "period": "filter.period",
    "bucket": "filter.bucket",
    "team_id": "filter.team_id",
    "filter_owner_id": "filter.owner_id",
    "currency": "filter.currency",
    "frequency": "cadence.frequency",
    "weekday": "cadence.weekday",
    "day_of_month": "cadence.day_of_month",
    "hour": "cadence.hour",
    "minute": "cadence.minute",
    "time_zone": "cadence.time_zone",
    "file_format": "format",
}


def _path(field: str | None) -> str | None:
    if field is None:
        return None
    head, dot, rest = field.partition(".")
    return input_path(_NESTED.get(head, head) + dot + rest)


def _ids(values: list[relay.GlobalID], type_name: str, field: str) -> list[UUID]:
    found = []
    for index, value in enumerate(values):
        try:
            found.append(node_uuid(value, type_name, Codes))
        except DomainError as exc:
            raise DomainError(
                Codes.INVALID_RECIPIENTS, f"Not a {type_name} id.", f"{field}.{index}"
            ) from exc
    return found


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    """The input (only what the client sent) as the domain's command fields."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key == "id":
            continue
        if key == "format":
            flat["file_format"] = value
        elif key == "filter" and value is not None:
            for name, item in value.items():
                flat["filter_owner_id" if name == "owner_id" else name] = item
            for name in ("team_id", "filter_owner_id"):
                type_name = "OrgUnit" if name == "team_id" else "User"
                if isinstance(flat.get(name), relay.GlobalID):
                    try:
                        flat[name] = node_uuid(flat[name], type_name, Codes)
                    except DomainError as exc:
                        raise DomainError(Codes.NOT_FOUND, f"No such {type_name}.", name) from exc
        elif key == "cadence" and value is not None:
            flat.update(value)
        elif key == "recipient_ids" and value is not None:
            flat[key] = _ids(value, "User", key)
        elif value is not None:
            flat[key] = value
    return flat


async def _one(view: Any) -> ScheduleView:
    [found] = await report_schedules.views([view])
    return found


async def list_schedules(context: RequestContext) -> list[ScheduleView]:
    return await answer(report_schedules.list_schedules(actor_of(context)))


async def create_schedule(context: RequestContext, data: Any) -> Outcome[ScheduleView]:
    actor = actor_of(context)

    async def work() -> ScheduleView:
        defaults: dict[str, Any] = {"filter": {}, "cadence": {}}
        fields = _fields({**defaults, **given(data)})
        return await _one(await report_schedules.create_schedule(actor, fields))

    return await attempt(Codes, work, _path)


async def update_schedule(context: RequestContext, data: Any) -> Outcome[ScheduleView]:
    actor = actor_of(context)

    async def work() -> ScheduleView:
        schedule_id = node_uuid(data.id, "ReportSchedule", Codes)
        fields = _fields(given(data))
        return await _one(await report_schedules.update_schedule(actor, schedule_id, fields))

    return await attempt(Codes, work, _path)


async def pause_schedule(
    context: RequestContext, global_id: relay.GlobalID
) -> Outcome[ScheduleView]:
    actor = actor_of(context)

    async def work() -> ScheduleView:
        schedule_id = node_uuid(global_id, "ReportSchedule", Codes)
        return await _one(await report_schedules.pause_schedule(actor, schedule_id))

    return await attempt(Codes, work, _path)


async def resume_schedule(
    context: RequestContext, global_id: relay.GlobalID
) -> Outcome[ScheduleView]:
    actor = actor_of(context)

    async def work() -> ScheduleView:
        schedule_id = node_uuid(global_id, "ReportSchedule", Codes)
        return await _one(await report_schedules.resume_schedule(actor, schedule_id))

    return await attempt(Codes, work, _path)


async def delete_schedule(
    context: RequestContext, global_id: relay.GlobalID
) -> Outcome[ScheduleView]:
    actor = actor_of(context)

    async def work() -> ScheduleView:
        schedule_id = node_uuid(global_id, "ReportSchedule", Codes)
        deleted = await report_schedules.delete_schedule(actor, schedule_id)
        return report_schedules.ScheduleView(deleted, [], None)

    return await attempt(Codes, work, _path)
