"""Pipeline and stage types, inputs, enums and payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.pipelines import Pipeline as PipelineRecord
from domain.pipelines import PipelineErrorCode, StageKind
from domain.pipelines import Stage as StageRecord
from resolvers import pipelines as resolve
from resolvers.errors import Outcome
from schema.enum_values import described_enum, error_code_enum
from schema.payloads import errors_as
from schema.shared_fields import (
    MUTATION_INPUT,
    RecordId,
    created_at,
    error_code,
    error_message,
    node_id,
    payload_errors,
    payload_record,
    updated_at,
)

described_enum(
    StageKind,
    "StageKind",
    "What reaching a stage means: the deal is still OPEN, WON or LOST.",
    {
        "OPEN": "The deal is still being worked on.",
        "WON": "The deal was won.",
        "LOST": "The deal was lost (needs a reason).",
    },
)
error_code_enum(PipelineErrorCode, "PipelineErrorCode", "pipelines or deal stages")


@strawberry.type(
    description="Something a deal entering the stage needs done: a calling task for its owner."
)
class StageActivity:
    name: str = strawberry.field(description="The task's subject.")
    required: bool = strawberry.field(
        description="The deal cannot leave the stage (but to a lost one) while it is open."
    )
    due_in_days: int = strawberry.field(description="The task is due this many days after.")


@strawberry.type(description="A step of a pipeline, with the chance a deal in it is won.")
class Stage(relay.Node):
    id: relay.NodeID[str] = node_id()
    name: str = strawberry.field(description="Its name, unique in the pipeline.")
    position: int = strawberry.field(description="0-based place in the pipeline.")
    probability: int = strawberry.field(description="Win probability in percent (0..100).")
    kind: StageKind = strawberry.field(
        description="OPEN, WON or LOST: what reaching it means for a deal."
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, StageRecord))

    @strawberry.field(description="The Pipeline id it belongs to.")
    def pipeline_id(self, root: strawberry.Parent[StageRecord]) -> relay.GlobalID:
        return relay.GlobalID("Pipeline", str(root.pipeline_id))

    @strawberry.field(description="What a deal entering it needs done, in order.")
    def activities(self, root: strawberry.Parent[StageRecord]) -> list[StageActivity]:
        return [StageActivity(**activity) for activity in root.activities]


@strawberry.type(description="An agency's ordered list of stages that deals move through.")
class Pipeline(relay.Node):
    id: relay.NodeID[str] = node_id()
    name: str = strawberry.field(description="Its name, unique in the agency.")
    version: int = strawberry.field(
        description="1, then one more on every change to it, its stages or their activities "
        "(each audited with the whole pipeline before and after)."
    )
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, PipelineRecord))

    @strawberry.field(description="New deals go here unless another pipeline is named.")
    def is_default(self, root: strawberry.Parent[PipelineRecord]) -> bool:
        return bool(root.is_default)

    @strawberry.field(description="The stages, in order.")
    def stages(self, root: strawberry.Parent[PipelineRecord]) -> list[Stage]:
        return resolve.stages(root)  # type: ignore[return-value]


@strawberry.type(description="A problem with the input; nothing was changed.")
class PipelineError:
    field: str | None = strawberry.field(description="Path of the input field, e.g. stages.0.")
    code: PipelineErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class PipelinePayload:
    pipeline: Pipeline | None = payload_record("pipeline")
    stage: Stage | None = strawberry.field(description="The stage the mutation was about.")
    errors: list[PipelineError] = payload_errors()


@strawberry.input(description="One stage of a new pipeline.")
class StageInput:
    name: str = strawberry.field(description="1 to 100 characters.")
    probability: int = strawberry.field(description="Win probability in percent (0..100).")
    kind: StageKind = strawberry.field(default=StageKind.OPEN, description="OPEN when left out.")


@strawberry.input(description="Without stages, the pipeline gets the default ones.")
class CreatePipelineInput:
    name: str = strawberry.field(
        description="1 to 100 characters, unique in the agency (else DUPLICATE_NAME)."
    )
    stages: list[StageInput] | None = strawberry.field(
        default=strawberry.UNSET,
        description="At most 20, in order; at least one open (else NO_OPEN_STAGE).",
    )


@strawberry.input(description="A new name for a pipeline.")
class UpdatePipelineInput:
    id: relay.GlobalID = node_id()
    name: str = strawberry.field(description="1 to 100 characters.")


@strawberry.input(description="A stage to add (a pipeline has at most 20).")
class AddStageInput:
    pipeline_id: relay.GlobalID = strawberry.field(description="The Pipeline to add it to.")
    name: str = strawberry.field(description="1 to 100 characters, unique in the pipeline.")
    probability: int = strawberry.field(description="Win probability in percent (0..100).")
    kind: StageKind = strawberry.field(default=StageKind.OPEN, description="OPEN when left out.")
    position: int | None = strawberry.field(
        default=strawberry.UNSET, description="0-based; appended at the end by default."
    )


@strawberry.input(
    description="Fields left out are unchanged. A kind changes only while no deal is in the stage."
)
class UpdateStageInput:
    id: relay.GlobalID = node_id()
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="1 to 100 characters."
    )
    probability: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Win probability in percent, 0 to 100 (won stages 100, lost 0).",
    )
    kind: StageKind | None = strawberry.field(
        default=strawberry.UNSET, description="Refused (STAGE_IN_USE) while deals are in it."
    )


@strawberry.input(description="One activity of a stage.")
class StageActivityInput:
    name: str = strawberry.field(description="1 to 100 characters, unique in the stage.")
    required: bool = strawberry.field(
        default=False, description="Whether a deal must finish it before leaving the stage."
    )
    due_in_days: int = strawberry.field(default=1, description="0 to 365; 1 by default.")


@strawberry.input(
    description="A stage's activities, replacing the old list (a new pipeline version). Errors: "
    "TOO_MANY, DUPLICATE_ACTIVITY, OUT_OF_RANGE, TOO_LONG, REQUIRED, NOT_FOUND, FORBIDDEN."
)
class SetStageActivitiesInput:
    stage_id: relay.GlobalID = strawberry.field(description="The Stage.")
    activities: list[StageActivityInput] = strawberry.field(
        description="At most 10, in order; an empty list: none."
    )


@strawberry.input(description="A pipeline's stages in their new order.")
class ReorderStagesInput:
    pipeline_id: relay.GlobalID = strawberry.field(description="The Pipeline.")
    stage_ids: list[relay.GlobalID] = strawberry.field(
        description="Every stage of the pipeline, once each, in the new order."
    )


@strawberry.input(description="The stage to delete.")
class DeleteStageInput:
    id: relay.GlobalID = node_id()


@strawberry.type
class PipelineQuery:
    @strawberry.field(description="One pipeline by its global id, or null if not visible.")
    async def pipeline(self, info: Info, id: RecordId) -> Pipeline | None:
        return await resolve.pipeline(info.context, id)  # type: ignore[return-value]

    @strawberry.field(
        description="Every pipeline of the agency, the default first (created on first use)."
    )
    async def pipelines(self, info: Info) -> list[Pipeline]:
        return await resolve.pipelines_list(info.context)  # type: ignore[return-value]


def _payload(outcome: Outcome[Any]) -> PipelinePayload:
    """Payload of a pipeline outcome, or of a (pipeline, stage) one."""
    pipeline, stage = outcome.value if isinstance(outcome.value, tuple) else (outcome.value, None)
    return PipelinePayload(
        pipeline=pipeline, stage=stage, errors=errors_as(PipelineError, outcome.errors)
    )


@strawberry.type
class PipelineMutation:
    @strawberry.mutation(description="Admins: a new pipeline (default stages unless given).")
    async def create_pipeline(
        self, info: Info, input: Annotated[CreatePipelineInput, MUTATION_INPUT]
    ) -> PipelinePayload:
        return _payload(await resolve.create_pipeline(info.context, input))

    @strawberry.mutation(description="Admins: rename a pipeline.")
    async def update_pipeline(
        self, info: Info, input: Annotated[UpdatePipelineInput, MUTATION_INPUT]
    ) -> PipelinePayload:
        return _payload(await resolve.rename_pipeline(info.context, input.id, input.name))

    @strawberry.mutation(description="Admins: add a stage to a pipeline.")
    async def add_stage(
        self, info: Info, input: Annotated[AddStageInput, MUTATION_INPUT]
    ) -> PipelinePayload:
        return _payload(await resolve.add_stage(info.context, input))

    @strawberry.mutation(description="Admins: rename a stage or change its probability or kind.")
    async def update_stage(
        self, info: Info, input: Annotated[UpdateStageInput, MUTATION_INPUT]
    ) -> PipelinePayload:
        return _payload(await resolve.update_stage(info.context, input))

    @strawberry.mutation(
        description="Admins: what deals entering a stage need done (calling tasks for the "
        "deal's owner, some required before the deal moves on)."
    )
    async def set_stage_activities(
        self, info: Info, input: Annotated[SetStageActivitiesInput, MUTATION_INPUT]
    ) -> PipelinePayload:
        return _payload(await resolve.set_stage_activities(info.context, input))

    @strawberry.mutation(description="Admins: put a pipeline's stages in a new order.")
    async def reorder_stages(
        self, info: Info, input: Annotated[ReorderStagesInput, MUTATION_INPUT]
    ) -> PipelinePayload:
        outcome = await resolve.reorder_stages(info.context, input.pipeline_id, input.stage_ids)
        return _payload(outcome)

    @strawberry.mutation(
        description="Admins: delete a stage; refused (STAGE_IN_USE) while deals are in it."
    )
    async def delete_stage(
        self, info: Info, input: Annotated[DeleteStageInput, MUTATION_INPUT]
    ) -> PipelinePayload:
        return _payload(await resolve.delete_stage(info.context, input.id))
