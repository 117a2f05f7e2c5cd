"""Each deal's way through its pipeline: one row per stage it entered."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class DealStageChange(Model):
    """A deal entering a stage: from which (none when the deal was created in it), when and by
    whom. left_at is when the deal moved on (null while it is still there), written by the next
    move in its transaction, so the time in a stage is one subtraction. The moves mark too
    whether the deal went on from here, so conversion is a count.
    """

    id = fields.BigIntField(primary_key=True)
    agency_id = fields.UUIDField()
    deal_id = fields.UUIDField()
    pipeline_id = fields.UUIDField()
    from_stage_id = fields.UUIDField(null=True)
    to_stage_id = fields.UUIDField()
    changed_by = fields.CharField(max_length=100)
    changed_at = fields.DatetimeField()
    left_at = fields.DatetimeField(null=True)
    # Set by the deal's later moves: it went on to the stage after this one (by position, lost
    # stages skipped), or to any later stage (won included), as the pipeline was ordered then.
    reached_next = fields.BooleanField(default=False, db_default=False)
    reached_later = fields.BooleanField(default=False, db_default=False)

    class Meta:
        table = "deal_stage_change"
        indexes = (
            # A deal's history in order (the next move closes the open entry).
            ("deal_id", "id"),
            # Dashboards: entries of a period, stays that ended in a period.
            ("agency_id", "changed_at"),
            ("agency_id", "left_at"),
        )
