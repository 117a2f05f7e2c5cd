"""Webhook endpoints an admin registers, and each delivery of an event to one of them."""

from __future__ import annotations

from uuid import UUID

from tortoise import fields
from tortoise.models import Model


class WebhookEndpoint(Model):
    """An integrator's URL that receives the agency's events, signed with the endpoint's secret.

    The secret is kept as given because signing needs it, but the API never shows it again
    after creation or rotation. After too many failed deliveries in a row the endpoint is
    switched off (active false, with the reason) until an admin turns it on again.
    """

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    url = fields.CharField(max_length=2000)
    description = fields.CharField(max_length=500, default="")
    event_types: fields.Field[list[str]] = fields.JSONField(default=list)
    active = fields.BooleanField(default=True)
    secret = fields.CharField(max_length=100)
    consecutive_failures = fields.IntField(default=0)
    disabled_reason = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "webhook_endpoint"
        indexes = (("agency_id", "active"),)


class WebhookDelivery(Model):
    """One event sent to one endpoint, by the Temporal workflow with id webhook:(this id).

    Written in the transaction of the event itself, as pending: the webhook relay starts its
    workflow. A redelivery is a new row that points at the delivery it repeats.
    """

    id = fields.BigIntField(primary_key=True)
    agency_id = fields.UUIDField()
    endpoint: fields.ForeignKeyRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "crm.WebhookEndpoint", related_name="deliveries", on_delete=fields.CASCADE
    )
    endpoint_id: UUID
    event_id = fields.BigIntField()
    event_type = fields.CharField(max_length=80)
    status = fields.CharField(max_length=20, default="pending")
    attempts = fields.IntField(default=0)
    last_response_code = fields.IntField(null=True)
    last_error = fields.TextField(default="")
    redelivery_of_id = fields.BigIntField(null=True)
    workflow_started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "webhook_delivery"
        indexes = (("status", "id"), ("agency_id", "endpoint_id", "id"))
