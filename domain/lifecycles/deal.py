"""The deal lifecycle: open, won or lost, whatever stages an agency configures.

Stages are data (per agency, with win probabilities), so the machine knows only what a
stage's kind means: a deal moves between open stages (MOVE), into a won stage (WIN) or a lost
one (LOSE). Which event applies is decided by the target stage (`event_towards`), never chosen
by the client. Won and lost are closed: only an admin may REOPEN a deal (back to an open
stage), e.g. after a mistaken click or a revived negotiation. They are therefore not final
states in the machine's sense, though nobody else can leave them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from statemachine import State, StateMachine

from domain.errors import DomainError
from domain.lifecycles import describe, event_enum, state_enum


class DealGuardCode(StrEnum):
    """Codes of the deal lifecycle's guards; DealErrorCode has members of the same names."""

    REASON_REQUIRED = "REASON_REQUIRED"
    FORBIDDEN = "FORBIDDEN"


class DealLifecycle(StateMachine):
    open = State("Open", initial=True, value="open")
    won = State("Won", value="won")
    lost = State("Lost", value="lost")

    move = open.to.itself()
    win = open.to(won)
    lose = open.to(lost, validators="reason_given")
    reopen = won.to(open, validators="by_admin") | lost.to(open, validators="by_admin")

    def reason_given(self, reason: str = "") -> None:
        """A lost deal without a reason teaches the team nothing."""
        if not reason.strip():
            raise DomainError(
                DealGuardCode.REASON_REQUIRED, "Say why the deal was lost.", field="reason"
            )

    def by_admin(self, by_admin: bool = False) -> None:
        if not by_admin:
            raise DomainError(
                DealGuardCode.FORBIDDEN, "Only an admin may reopen a closed deal.", field="stage_id"
            )

    def on_win(self, reason: str = "", now: datetime | None = None) -> None:
        self._close(reason, now)

    def on_lose(self, reason: str = "", now: datetime | None = None) -> None:
        self._close(reason, now)

    def on_reopen(self) -> None:
        self.model.close_reason = ""
        self.model.closed_at = None

    def _close(self, reason: str, now: datetime | None) -> None:
        self.model.close_reason = reason.strip()
        self.model.closed_at = now or datetime.now(UTC)


def event_towards(status: str, stage_kind: str) -> str | None:
    """The event that takes a deal in `status` to a stage of `stage_kind` (None: no such move).

    A stage's kind is the status a deal in it has, so this reads the machine's own graph.
    """
    for transition in describe(DealLifecycle).transitions:
        if transition.source == status and transition.target == stage_kind:
            return transition.event
    return None


DealStatus = state_enum(DealLifecycle, "DealStatus")
DealEvent = event_enum(DealLifecycle, "DealEvent")
