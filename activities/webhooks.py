"""Webhook activities: one delivery attempt, and the record of a delivery that ran out of them."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain import webhook_deliveries
from domain.webhook_deliveries import DeliveryAbandoned, WebhookConfig

# Error types the workflow's retry policy does not retry.
ABANDONED = "DeliveryAbandoned"
ATTEMPT_FAILED = "WebhookAttemptFailed"


class WebhookActivities:
    """Activities that POST events to webhook endpoints, under one configuration."""

    def __init__(self, config: WebhookConfig) -> None:
        self._config = config

    @activity.defn(name="deliver_webhook")
    async def deliver_webhook(self, delivery_id: int) -> int:
        """POST the delivery's event once; the status code, or an error Temporal retries."""
        try:
            outcome = await webhook_deliveries.attempt_delivery(self._config, delivery_id)
        except DeliveryAbandoned as exc:
            raise ApplicationError(str(exc), type=ABANDONED, non_retryable=True) from exc
        if not outcome.delivered:
            raise ApplicationError(outcome.error, type=ATTEMPT_FAILED)
        return outcome.status_code or 0

    @activity.defn(name="record_webhook_failure")
    async def record_webhook_failure(self, delivery_id: int) -> bool:
        """Mark the delivery failed; True if that switched its endpoint off."""
        return await webhook_deliveries.record_failed_delivery(self._config, delivery_id)
