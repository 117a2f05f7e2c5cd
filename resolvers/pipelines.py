"""Pipeline resolvers: thin calls into domain.pipelines."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from strawberry import relay

from domain import pipelines
from domain.errors import DomainError
from domain.pipelines import Pipeline, PipelineErrorCode, Stage
from resolvers.context import RequestContext, actor_of
from resolvers.errors import Outcome, answer, attempt, found_or_none
from resolvers.inputs import given, node_uuid


def _pipeline_id(global_id: relay.GlobalID, field: str = "id") -> UUID:
    try:
        return node_uuid(global_id, "Pipeline", PipelineErrorCode)
    except DomainError as exc:
        raise DomainError(exc.code, exc.message, field) from exc


def _stage_id(global_id: relay.GlobalID, field: str = "id") -> UUID:
    try:
        return node_uuid(global_id, "Stage", PipelineErrorCode)
    except DomainError as exc:
        raise DomainError(exc.code, exc.message, field) from exc


async def pipeline(context: RequestContext, global_id: relay.GlobalID) -> Pipeline | None:
    """The pipeline, or null when it does not exist or belongs to another agency."""
    actor = actor_of(context)
    return await found_or_none(lambda: pipelines.get_pipeline(actor, _pipeline_id(global_id)))


async def pipelines_list(context: RequestContext) -> list[Pipeline]:
    return await answer(pipelines.list_pipelines(actor_of(context)))


def stages(record: Pipeline) -> list[Stage]:
    return pipelines.stages_of(record)


async def create_pipeline(context: RequestContext, data: Any) -> Outcome[Pipeline]:
    actor = actor_of(context)
    return await attempt(PipelineErrorCode, lambda: pipelines.create_pipeline(actor, given(data)))


async def rename_pipeline(
    context: RequestContext, global_id: relay.GlobalID, name: str
) -> Outcome[Pipeline]:
    actor = actor_of(context)
    return await attempt(
        PipelineErrorCode,
        lambda: pipelines.rename_pipeline(actor, _pipeline_id(global_id), name),
    )


async def add_stage(context: RequestContext, data: Any) -> Outcome[tuple[Pipeline, Stage]]:
    actor = actor_of(context)
    fields = given(data)
    global_id = fields.pop("pipeline_id")
    return await attempt(
        PipelineErrorCode,
        lambda: pipelines.add_stage(actor, _pipeline_id(global_id, "pipeline_id"), fields),
    )


async def update_stage(context: RequestContext, data: Any) -> Outcome[tuple[Pipeline, Stage]]:
    actor = actor_of(context)
    fields = given(data)
    global_id = fields.pop("id")
    return await attempt(
        PipelineErrorCode,
        lambda: pipelines.update_stage(actor, _stage_id(global_id), fields),
    )


async def set_stage_activities(
    context: RequestContext, data: Any
) -> Outcome[tuple[Pipeline, Stage]]:
    actor = actor_of(context)
    fields = given(data)
    global_id = fields.pop("stage_id")
    return await attempt(
        PipelineErrorCode,
        lambda: pipelines.set_stage_activities(actor, _stage_id(global_id, "stage_id"), fields),
    )


async def reorder_stages(
    context: RequestContext, global_id: relay.GlobalID, stage_ids: list[relay.GlobalID]
) -> Outcome[Pipeline]:
    actor = actor_of(context)

    async def reorder() -> Pipeline:
        ids = [_stage_id(s, f"stage_ids.{i}") for i, s in enumerate(stage_ids)]
        return await pipelines.reorder_stages(actor, _pipeline_id(global_id, "pipeline_id"), ids)

    return await attempt(PipelineErrorCode, reorder)


async def delete_stage(
    context: RequestContext, global_id: relay.GlobalID
) -> Outcome[tuple[Pipeline, Stage]]:
    actor = actor_of(context)
    return await attempt(
        PipelineErrorCode, lambda: pipelines.delete_stage(actor, _stage_id(global_id))
    )
