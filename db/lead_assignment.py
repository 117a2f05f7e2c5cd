"""Lead assignment rules: who owns a contact or lead created without an owner."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class LeadAssignmentRules(Model):
    """An agency's ordered assignment rules (the first matching one wins) and the fallback
    owner for records no rule matches. `rules` is a list of {criteria..., team_id | user_id}
    (see domain.lead_assignment)."""

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(unique=True)
    rules: fields.Field[list[dict[str, Any]]] = fields.JSONField(default=list)
    fallback_owner_id = fields.UUIDField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "lead_assignment_rules"
