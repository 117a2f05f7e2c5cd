"""Flow definitions of an agency and their versions: drafts, the published one, archived ones."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class Flow(Model):
    """A flow of one agency, named by its key. Its documents live in its versions."""

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    key = fields.CharField(max_length=63)
    name = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    versions: fields.ReverseRelation[FlowVersion]

    class Meta:
        table = "flow"
        unique_together = (("agency_id", "key"),)


class FlowVersion(Model):
    """One document of a flow. A draft has no number yet and is the only editable state.

    Publishing numbers it and archives the version published before it. Published and archived
    documents never change, because runs are pinned to them. The trigger columns repeat the
    document's trigger so the event hook finds matching flows with one indexed query.
    """

    id = fields.BigIntField(primary_key=True)
    flow: fields.ForeignKeyRelation[Flow] = fields.ForeignKeyField(
        "crm.Flow", related_name="versions", on_delete=fields.CASCADE
    )
    agency_id = fields.UUIDField()
    version = fields.IntField(null=True)
    status = fields.CharField(max_length=20)
    document: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    trigger_event = fields.CharField(max_length=80, null=True)
    trigger_status = fields.CharField(max_length=50, null=True)
    based_on = fields.IntField(null=True)
    created_by = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    published_by = fields.CharField(max_length=100, default="")
    published_at = fields.DatetimeField(null=True)

    flow_id: Any

    class Meta:
        table = "flow_version"
        unique_together = (("flow", "version"),)
        indexes = (("agency_id", "status", "trigger_event"),)
