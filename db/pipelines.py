"""Sales pipelines and their stages, configured per agency."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class Pipeline(Model):
    """An ordered list of stages deals move through, one agency's own.

    is_default is true for the agency's default pipeline and null for the others, so the
    unique pair (agency_id, is_default) allows exactly one default per agency.
    """

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    name = fields.CharField(max_length=100)
    is_default = fields.BooleanField(null=True)
    # One more on every change to the pipeline, its stages or their activities.
    version = fields.IntField(default=1, db_default=1)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    stages: fields.ReverseRelation[Stage]

    class Meta:
        table = "pipeline"
        unique_together = (("agency_id", "is_default"),)


class Stage(Model):
    """A step of a pipeline, with the chance that a deal in it is won, in percent.

    The kind (open, won or lost) is the deal status a deal in the stage has. Stages are soft
    deleted, so deleted deals keep pointing at the stage they were in.
    """

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    pipeline: fields.ForeignKeyRelation[Pipeline] = fields.ForeignKeyField(
        "crm.Pipeline", related_name="stages", on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=100)
    position = fields.IntField()
    probability = fields.SmallIntField()
    kind = fields.CharField(max_length=10)
    # What a deal entering the stage needs done: a list of {name, required, due_in_days}, made
    # calling tasks for the deal's owner (domain.stage_activities).
    activities: fields.Field[list[dict[str, Any]]] = fields.JSONField(default=list, db_default="[]")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    deleted_at = fields.DatetimeField(null=True)

    pipeline_id: Any

    class Meta:
        table = "pipeline_stage"
