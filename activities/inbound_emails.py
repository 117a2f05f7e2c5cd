"""The inbound email activity: read and route one stored message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from temporalio import activity
from temporalio.exceptions import ApplicationError
from tortoise.exceptions import DoesNotExist

from domain.documents import UploadLimits
from domain.inbound_routing import process_inbound_email
from domain.storage import Storage


@dataclass(frozen=True)
class InboundOutcome:
    status: str
    outcome: str
    contact_id: str | None = None
    lead_id: str | None = None


class InboundEmailActivities:
    """Activities over the document storage (where the raw messages are)."""

    def __init__(self, storage: Storage, limits: UploadLimits) -> None:
        self._storage = storage
        self._limits = limits

    def activities(self) -> list[Callable[..., Any]]:
        """What a worker registers."""
        return [self.process_inbound_email]

    @activity.defn(name="process_inbound_email")
    async def process_inbound_email(self, inbound_email_id: str) -> InboundOutcome:
        try:
            email = await process_inbound_email(self._storage, self._limits, UUID(inbound_email_id))
        except DoesNotExist as error:
            raise ApplicationError(
                f"no inbound email {inbound_email_id}", type="NOT_FOUND", non_retryable=True
            ) from error
        return InboundOutcome(
            status=email.status,
            outcome=email.outcome,
            contact_id=str(email.contact_id) if email.contact_id else None,
            lead_id=str(email.lead_id) if email.lead_id else None,
        )
