"""Flow types, payloads and root fields: definitions and their versions, and runs of records."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.flow_runs import FlowRun as FlowRunRow
from domain.flows.definitions import FlowRunStatus, FlowVersionStatus, StopCondition
from domain.flows.service import FlowErrorCode
from domain.flows.service import FlowVersion as FlowVersionRow
from resolvers import flows as resolve
from resolvers.errors import Outcome
from resolvers.flows import FlowSummary
from schema.enum_values import described_enum, error_code_enum
from schema.payloads import USE_INPUT, errors_as, one_input
from schema.shared_fields import (
    MUTATION_INPUT,
    created_at,
    error_code,
    error_message,
    node_id,
    payload_errors,
    payload_record,
)

if TYPE_CHECKING:
    FlowVersionStatusEnum = StrEnum
    FlowRunStatusEnum = StrEnum
    FlowStopConditionEnum = StrEnum
else:
    FlowVersionStatusEnum = described_enum(
        FlowVersionStatus,
        "FlowVersionStatus",
        "A draft is the only editable version; the published one starts new runs.",
        {
            "DRAFT": "The editable version; runs never use it.",
            "PUBLISHED": "The version new runs use.",
            "ARCHIVED": "An earlier published version; runs started on it keep it.",
        },
    )
    FlowRunStatusEnum = described_enum(
        FlowRunStatus,
        "FlowRunStatus",
        "Where a flow run is.",
        {
            "PENDING": "Its start is in the outbox; not running yet.",
            "RUNNING": "Running a step.",
            "WAITING": "On a timer, or waiting for an event of its record.",
            "STALLED": "A step failed: waiting for `retryFlowRunStep` or a cancel.",
            "COMPLETED": "Finished its steps.",
            "STOPPED": "Ended early by a `stop_when` condition (`stopReason` says which).",
            "FAILED": "Stalled too long without a retry.",
            "CANCELLED": "Stopped by `cancelFlowRun`.",
        },
    )
    FlowStopConditionEnum = described_enum(
        StopCondition,
        "FlowStopCondition",
        "What ended a run early: a condition of its definition's `stop_when`.",
        {
            "REPLIED": "The contact replied by email (auto-replies and bounces do not count).",
            "CONVERTED": "The contact converted.",
            "NOT_INTERESTED": "The contact became Not interested.",
            "UNSUBSCRIBED": "The contact opted out of what the flow sends.",
            "CALLING_TASK_DONE": "A calling task about the contact was done.",
        },
    )

error_code_enum(FlowErrorCode, "FlowErrorCode", "flows")


@strawberry.type(description="One document of a flow. Published and archived ones never change.")
class FlowVersion:
    number: int | None = strawberry.field(description="Null for the draft.")
    status: FlowVersionStatusEnum = strawberry.field(description="Where this version is.")
    based_on: int | None = strawberry.field(description="The version a draft or rollback copied.")
    document: JSON = strawberry.field(description="The definition, as `temporal.yaml` holds it.")
    created_at: datetime = created_at()
    published_at: datetime | None = strawberry.field(
        description="When it was published; null for the draft."
    )

    @classmethod
    def of(cls, row: FlowVersionRow) -> FlowVersion:
        return cls(
            number=row.version,
            status=FlowVersionStatus(row.status),
            based_on=row.based_on,
            document=row.document,  # type: ignore[arg-type]
            created_at=row.created_at,
            published_at=row.published_at,
        )


@strawberry.type(description="A flow of the agency, named by its key.")
class Flow:
    key: str = strawberry.field(description="Its key: stable, unique in the agency.")
    name: str = strawberry.field(description="What it is called.")
    published_version: int | None = strawberry.field(
        description="The number of the version new runs use (null before the first publish)."
    )
    has_draft: bool = strawberry.field(description="Whether a draft is open.")

    @classmethod
    def of(cls, summary: FlowSummary) -> Flow:
        return cls(
            key=summary.flow.key,
            name=summary.flow.name,
            published_version=summary.published_version,
            has_draft=summary.has_draft,
        )

    @strawberry.field(description="The draft first (if any), then the versions, newest first.")
    async def versions(self, info: Info) -> list[FlowVersion]:
        return [FlowVersion.of(row) for row in await resolve.versions(info.context, self.key)]


@strawberry.type(description="One run of one flow version on one record.")
class FlowRun:
    id: relay.GlobalID = node_id()
    flow_key: str = strawberry.field(description="The key of the flow it runs.")
    version: int = strawberry.field(description="The flow version it runs; it keeps it to the end.")
    status: FlowRunStatusEnum = strawberry.field(description="Where the run is.")
    current_step: str | None = strawberry.field(
        description="The id of the step it is in; null when finished."
    )
    next_wake_at: datetime | None = strawberry.field(description="When its timer fires next.")
    last_error: str = strawberry.field(description="Why its last step failed; empty when none did.")
    stop_reason: FlowStopConditionEnum | None = strawberry.field(
        description="For a STOPPED run: the stop_when condition that ended it."
    )
    created_at: datetime = created_at()
    finished_at: datetime | None = strawberry.field(
        description="When it finished; null while active."
    )

    @classmethod
    def of(cls, row: FlowRunRow) -> FlowRun:
        return cls(
            id=relay.GlobalID(resolve.RUN_TYPE_NAME, str(row.id)),
            flow_key=row.flow_key,
            version=row.version,
            status=FlowRunStatus(row.status),
            current_step=row.current_step,
            next_wake_at=row.next_wake_at,
            last_error=row.last_error,
            stop_reason=StopCondition(row.stop_reason) if row.stop_reason else None,
            created_at=row.created_at,
            finished_at=row.finished_at,
        )


@strawberry.type(description="A problem; nothing was changed.")
class FlowError:
    field: str | None = strawberry.field(
        description="Path of the bad part of a definition (e.g. `steps[3].goto`), or the argument."
    )
    code: FlowErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class FlowVersionPayload:
    version: FlowVersion | None = payload_record("version")
    errors: list[FlowError] = payload_errors()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class FlowValidationPayload:
    valid: bool = strawberry.field(description="True when the definition has no problem.")
    errors: list[FlowError] = strawberry.field(description="One per problem, at its path.")


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class FlowRunPayload:
    run: FlowRun | None = payload_record("run")
    errors: list[FlowError] = payload_errors()


def _version_payload(outcome: Outcome[FlowVersionRow]) -> FlowVersionPayload:
    return FlowVersionPayload(
        version=FlowVersion.of(outcome.value) if outcome.value is not None else None,
        errors=errors_as(FlowError, outcome.errors),
    )


def _run_payload(outcome: Outcome[FlowRunRow]) -> FlowRunPayload:
    return FlowRunPayload(
        run=FlowRun.of(outcome.value) if outcome.value is not None else None,
        errors=errors_as(FlowError, outcome.errors),
    )


@strawberry.type
class FlowQuery:
    @strawberry.field(description="The agency's flows (sysadmins and admins).")
    async def flows(self, info: Info) -> list[Flow]:
        return [Flow.of(summary) for summary in await resolve.flows(info.context)]

    @strawberry.field(description="One flow by its key, or null if the agency has none.")
    async def flow(
        self,
        info: Info,
        key: Annotated[str, strawberry.argument(description="The flow key, e.g. contact-nurture.")],
    ) -> Flow | None:
        summary = await resolve.flow(info.context, key)
        return Flow.of(summary) if summary is not None else None

    @strawberry.field(
        description=(
            "The runs of flows on a record (a Contact, Customer, Lead, Deal or CallingTask id), "
            "newest first."
        )
    )
    async def flow_runs(
        self,
        info: Info,
        record_id: Annotated[
            relay.GlobalID,
            strawberry.argument(description="A Contact, Customer, Lead, Deal or CallingTask id."),
        ],
    ) -> list[FlowRun]:
        return [FlowRun.of(row) for row in await resolve.flow_runs(info.context, record_id)]


@strawberry.input(description="The flow definition to create a flow from.")
class CreateFlowInput:
    document: JSON = strawberry.field(
        description="The definition, as `temporal.yaml` holds one flow: its `key` must be new "
        "to the agency. At most 600,000 characters as JSON."
    )


@strawberry.input(description="Which flow to start a draft of.")
class CreateFlowDraftInput:
    key: str = strawberry.field(description="The flow's key, e.g. `contact-nurture`.")


@strawberry.input(description="The draft to replace and its new document.")
class UpdateFlowDraftInput:
    key: str = strawberry.field(description="The flow's key; it must have a draft.")
    document: JSON = strawberry.field(
        description="The whole new definition (same `key`). At most 600,000 characters as JSON."
    )


@strawberry.input(description="A definition to check.")
class ValidateFlowDefinitionInput:
    document: JSON = strawberry.field(description="The definition, as `temporal.yaml` holds one.")


@strawberry.input(description="Which flow's draft to publish.")
class PublishFlowDraftInput:
    key: str = strawberry.field(description="The flow's key; it must have a draft.")


@strawberry.input(description="Which version of which flow to publish again.")
class RollbackFlowInput:
    key: str = strawberry.field(description="The flow's key.")
    version: int = strawberry.field(description="An earlier published version's number.")


@strawberry.input(description="The run to act on.")
class FlowRunInput:
    id: relay.GlobalID = strawberry.field(description="A `FlowRun` id (from `flowRuns`).")


def _deprecated(description: str) -> Any:
    return strawberry.argument(description=description, deprecation_reason=USE_INPUT)


LooseKey = Annotated[str | None, _deprecated("The flow's key.")]
LooseDocument = Annotated[JSON | None, _deprecated("The flow definition.")]
LooseRunId = Annotated[relay.GlobalID | None, _deprecated("A `FlowRun` id.")]


@strawberry.type
class FlowMutation:
    @strawberry.mutation(
        description="A new flow (its key not yet used by the agency) as a draft: nothing runs "
        "until it is published, which checks it. Sysadmins and admins. Errors: KEY_TAKEN, "
        "INVALID_DEFINITION (no key, or not a valid one), TOO_LARGE (over 600,000 characters), "
        "TOO_MANY (an agency has at most 100 flows), FORBIDDEN."
    )
    async def create_flow(
        self,
        info: Info,
        input: Annotated[CreateFlowInput | None, MUTATION_INPUT] = None,
        document: LooseDocument = None,
    ) -> FlowVersionPayload:
        given = one_input("createFlow", input, CreateFlowInput, document=document)
        return _version_payload(await resolve.create_flow(info.context, given.document))

    @strawberry.mutation(
        description="A draft copied from the published version, to edit with `updateFlowDraft`. "
        "Sysadmins and admins. Errors: NOT_FOUND, DRAFT_EXISTS (one draft per flow), "
        "NOT_PUBLISHED (nothing to copy), FORBIDDEN."
    )
    async def create_flow_draft(
        self,
        info: Info,
        input: Annotated[CreateFlowDraftInput | None, MUTATION_INPUT] = None,
        key: LooseKey = None,
    ) -> FlowVersionPayload:
        given = one_input("createFlowDraft", input, CreateFlowDraftInput, key=key)
        return _version_payload(await resolve.create_draft(info.context, given.key))

    @strawberry.mutation(
        description="Replace the draft's document. It is stored even with problems (see "
        "`validateFlowDefinition`): publishing is where they stop it. Sysadmins and admins. "
        "Errors: NOT_FOUND, NO_DRAFT, KEY_MISMATCH (the document names another flow), "
        "TOO_LARGE, FORBIDDEN."
    )
    async def update_flow_draft(
        self,
        info: Info,
        input: Annotated[UpdateFlowDraftInput | None, MUTATION_INPUT] = None,
        key: LooseKey = None,
        document: LooseDocument = None,
    ) -> FlowVersionPayload:
        given = one_input(
            "updateFlowDraft", input, UpdateFlowDraftInput, key=key, document=document
        )
        return _version_payload(await resolve.update_draft(info.context, given.key, given.document))

    @strawberry.mutation(
        description="Check a definition without storing it: `valid`, or every problem at once "
        "(INVALID_DEFINITION, each at the path of its bad part). Sysadmins and admins."
    )
    async def validate_flow_definition(
        self,
        info: Info,
        input: Annotated[ValidateFlowDefinitionInput | None, MUTATION_INPUT] = None,
        document: LooseDocument = None,
    ) -> FlowValidationPayload:
        given = one_input(
            "validateFlowDefinition", input, ValidateFlowDefinitionInput, document=document
        )
        outcome = await resolve.validate_definition(info.context, given.document)
        return FlowValidationPayload(
            valid=bool(outcome.value), errors=errors_as(FlowError, outcome.errors)
        )

    @strawberry.mutation(
        description="Make the draft the version new runs use; runs in flight keep theirs. "
        "Sysadmins and admins. Errors: INVALID_DEFINITION (every problem of the draft, at its "
        "path), DRAFT_OUTDATED (another version was published since the draft was made), "
        "NOT_FOUND, NO_DRAFT, FORBIDDEN."
    )
    async def publish_flow_draft(
        self,
        info: Info,
        input: Annotated[PublishFlowDraftInput | None, MUTATION_INPUT] = None,
        key: LooseKey = None,
    ) -> FlowVersionPayload:
        given = one_input("publishFlowDraft", input, PublishFlowDraftInput, key=key)
        return _version_payload(await resolve.publish_draft(info.context, given.key))

    @strawberry.mutation(
        description="Publish a copy of an earlier version as the newest one. Sysadmins and "
        "admins. Errors: NOT_FOUND, VERSION_NOT_FOUND, INVALID_DEFINITION (the old version no "
        "longer fits the system, e.g. a field since removed), FORBIDDEN."
    )
    async def rollback_flow(
        self,
        info: Info,
        input: Annotated[RollbackFlowInput | None, MUTATION_INPUT] = None,
        key: LooseKey = None,
        version: Annotated[int | None, _deprecated("The version to publish again.")] = None,
    ) -> FlowVersionPayload:
        given = one_input("rollbackFlow", input, RollbackFlowInput, key=key, version=version)
        return _version_payload(await resolve.roll_back(info.context, given.key, given.version))

    @strawberry.mutation(
        description="Ask an active run to stop where it is (it ends CANCELLED). Sysadmins and "
        "admins. Errors: NOT_FOUND, NOT_ACTIVE (the run has ended), FORBIDDEN."
    )
    async def cancel_flow_run(
        self,
        info: Info,
        input: Annotated[FlowRunInput | None, MUTATION_INPUT] = None,
        id: LooseRunId = None,
    ) -> FlowRunPayload:
        given = one_input("cancelFlowRun", input, FlowRunInput, id=id)
        return _run_payload(await resolve.cancel_run(info.context, given.id))

    @strawberry.mutation(
        description="Ask a STALLED run to try its failed step again. Sysadmins and admins. "
        "Errors: NOT_FOUND, NOT_STALLED, FORBIDDEN."
    )
    async def retry_flow_run_step(
        self,
        info: Info,
        input: Annotated[FlowRunInput | None, MUTATION_INPUT] = None,
        id: LooseRunId = None,
    ) -> FlowRunPayload:
        given = one_input("retryFlowRunStep", input, FlowRunInput, id=id)
        return _run_payload(await resolve.retry_run_step(info.context, given.id))
