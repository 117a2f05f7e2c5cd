"""Flow resolvers: thin calls into domain.flows.service (definitions, versions, runs)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from strawberry import relay

from domain.errors import DomainError
from domain.flow_runs import FlowRun
from domain.flows import service
from domain.flows.definitions import FlowVersionStatus
from domain.flows.records import FLOW_RECORDS
from domain.flows.service import Flow, FlowErrorCode, FlowVersion
from resolvers.context import RequestContext, actor_of
from resolvers.errors import Outcome, answer, attempt, query_error
from resolvers.events import record_type_of

T = TypeVar("T")
RUN_TYPE_NAME = "FlowRun"


@dataclass(frozen=True, slots=True)
class FlowSummary:
    """A flow as listed: its published version's number and whether a draft is open."""

    flow: Flow
    published_version: int | None
    has_draft: bool


def _as_given(field: str | None) -> str | None:
    """A definition's paths (`steps[3].on_timeout`) name the document's own keys: they are
    shown as they are, not camel-cased like input field names."""
    return field


async def _attempt(work: Callable[[], Awaitable[T]]) -> Outcome[T]:
    return await attempt(FlowErrorCode, work, _as_given)


async def flows(context: RequestContext) -> list[FlowSummary]:
    actor = actor_of(context)
    overview = await answer(service.flow_overview(actor))
    return [FlowSummary(*row) for row in overview]


async def flow(context: RequestContext, key: str) -> FlowSummary | None:
    """The flow, or null when the agency has none of that key."""
    actor = actor_of(context)
    try:
        versions = await service.list_versions(actor, key)
        found = await service.get_flow(actor, key)
    except DomainError as exc:
        if exc.code == FlowErrorCode.NOT_FOUND:
            return None
        raise query_error(exc) from exc
    published = next((v.version for v in versions if v.status == FlowVersionStatus.PUBLISHED), None)
    has_draft = any(v.status == FlowVersionStatus.DRAFT for v in versions)
    return FlowSummary(found, published, has_draft)


async def versions(context: RequestContext, key: str) -> list[FlowVersion]:
    return await answer(service.list_versions(actor_of(context), key))


async def flow_runs(context: RequestContext, record_id: relay.GlobalID) -> list[FlowRun]:
    """The runs on a record the caller may see; an unknown record is NOT_FOUND."""
    actor = actor_of(context)
    record_type = record_type_of(record_id.type_name)
    if record_type not in FLOW_RECORDS:
        raise query_error(
            DomainError(FlowErrorCode.NOT_FOUND, f"No record with id {record_id}.", "record_id")
        )
    return await answer(service.record_runs(actor, record_type, record_id.node_id))


async def create_flow(context: RequestContext, document: Any) -> Outcome[FlowVersion]:
    actor = actor_of(context)
    return await _attempt(lambda: service.create_flow(actor, document))


async def create_draft(context: RequestContext, key: str) -> Outcome[FlowVersion]:
    actor = actor_of(context)
    return await _attempt(lambda: service.create_draft(actor, key))


async def update_draft(context: RequestContext, key: str, document: Any) -> Outcome[FlowVersion]:
    actor = actor_of(context)
    return await _attempt(lambda: service.edit_draft(actor, key, document))


async def publish_draft(context: RequestContext, key: str) -> Outcome[FlowVersion]:
    actor = actor_of(context)
    return await _attempt(lambda: service.publish_draft(actor, key))


async def roll_back(context: RequestContext, key: str, version: int) -> Outcome[FlowVersion]:
    actor = actor_of(context)
    return await _attempt(lambda: service.roll_back(actor, key, version))


async def validate_definition(context: RequestContext, document: Any) -> Outcome[bool]:
    """`True` with no errors, or one INVALID_DEFINITION error per problem, at its path."""
    actor = actor_of(context)

    async def check() -> bool:
        problems = service.validate_definition(actor, document)
        if problems:
            raise service.invalid_definition(problems)
        return True

    return await _attempt(check)


def _run_id(global_id: relay.GlobalID) -> int:
    if global_id.type_name == RUN_TYPE_NAME and global_id.node_id.isdigit():
        return int(global_id.node_id)
    raise DomainError(FlowErrorCode.NOT_FOUND, f"No flow run with id {global_id}.", "id")


async def cancel_run(context: RequestContext, run_id: relay.GlobalID) -> Outcome[FlowRun]:
    actor = actor_of(context)
    return await _attempt(lambda: service.cancel_run(actor, _run_id(run_id)))


async def retry_run_step(context: RequestContext, run_id: relay.GlobalID) -> Outcome[FlowRun]:
    actor = actor_of(context)
    return await _attempt(lambda: service.retry_run_step(actor, _run_id(run_id)))
