"""Lead scoring: the agency's versioned scoring rules and the behaviour contacts show."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise import fields
from tortoise.models import Model


class ScoringRules(Model):
    """One published version of an agency's lead scoring rules. The newest version scores.

    `rules` is a list of {name, criterion, points}, where a criterion is over a field, a
    custom field, a tag or a behaviour (see domain.lead_scoring_rules). Behaviour points halve
    every `half_life_days` (none: they never decay).
    """

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    version = fields.IntField()
    rules: fields.Field[list[dict[str, Any]]] = fields.JSONField(default=list)
    threshold = fields.IntField(default=50)
    half_life_days = fields.IntField(null=True)
    created_by = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "scoring_rules"
        unique_together = (("agency_id", "version"),)


class ContactBehaviour(Model):
    """Something a contact did that scoring counts: an email opened or replied, a meeting
    held, a campaign sign-up, a page visit. `detail` is what (a URL, a campaign id)."""

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    contact_id = fields.UUIDField(db_index=True)
    kind = fields.CharField(max_length=20)
    detail = fields.CharField(max_length=500, default="")
    occurred_at: fields.Field[datetime] = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "contact_behaviour"


class ContactScoreMark(Model):
    """A contact scoring made Hot: only such a contact goes Cold again when its score decays
    below the threshold (one a person marked Hot stays Hot)."""

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    contact_id = fields.UUIDField(unique=True)
    marked_at = fields.DatetimeField()
    version = fields.IntField()

    class Meta:
        table = "contact_score_mark"
