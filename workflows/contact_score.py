"""`ContactScoreWatch`: follows one contact's lead score through time. It has the score
evaluated at its workflow time (which moves the contact across the threshold if it crossed),
then sleeps on a durable timer until the moment decay will take the score below the threshold
and evaluates again; a `behaviour` signal (something new the contact did) wakes it early. It
ends when there is nothing to wait for (the contact is not Hot by scoring)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.lead_scoring import ScoreCheck, evaluate_contact_score

EVALUATE_TIMEOUT = timedelta(seconds=30)
EVALUATE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=5)
)
# Evaluations per run before it continues as new, so its history stays short.
CHECKS_PER_RUN = 50
SIGNAL = "behaviour"


@dataclass(frozen=True)
class ScoreWatchInput:
    agency_id: str
    contact_id: str


@workflow.defn
class ContactScoreWatch:
    def __init__(self) -> None:
        self._woken = False

    @workflow.signal(name=SIGNAL)
    def behaviour(self) -> None:
        self._woken = True

    @workflow.run
    async def run(self, request: ScoreWatchInput) -> str:
        """The contact's status when there is nothing more to wait for."""
        checks = 0
        while True:
            if checks == CHECKS_PER_RUN:
                workflow.continue_as_new(request)
            checks += 1
            self._woken = False
            check: ScoreCheck = await workflow.execute_activity(
                evaluate_contact_score,
                args=[request.agency_id, request.contact_id, workflow.now().isoformat()],
                start_to_close_timeout=EVALUATE_TIMEOUT,
                retry_policy=EVALUATE_RETRY,
            )
            if check.next_check_at is None and not self._woken:
                return check.status
            if check.next_check_at is not None:
                wait = max(check.next_check_at - workflow.now(), timedelta(seconds=1))
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        lambda: self._woken, timeout=wait, timeout_summary="score decay"
                    )
