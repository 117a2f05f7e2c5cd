"""The lead lifecycle: New -> Qualified -> Converted (to a deal), or Disqualified."""

from __future__ import annotations

from statemachine import State, StateMachine

from domain.errors import DomainError
from domain.lifecycles import event_enum, state_enum
from domain.lifecycles.codes import LifecycleErrorCode


class LeadLifecycle(StateMachine):
    """A lead is qualified once its scope of work is known, then converted into a deal.

    Converting is final: from then on the deal carries the opportunity. A disqualified lead
    can be reopened when the prospect comes back.
    """

    new = State("New", initial=True, value="new")
    qualified = State("Qualified", value="qualified")
    disqualified = State("Disqualified", value="disqualified")
    converted = State("Converted", final=True, value="converted")

    qualify = new.to(qualified, validators="has_scope_of_work")
    disqualify = new.to(disqualified) | qualified.to(disqualified)
    reopen = disqualified.to(new)
    convert = qualified.to(converted)

    def has_scope_of_work(self) -> None:
        """Nobody can price or sell an opportunity without knowing what is being bought."""
        if not self.model.services:
            raise DomainError(
                LifecycleErrorCode.GUARD_FAILED,
                "Name at least one service (the scope of work) before qualifying the lead.",
                field="services",
            )


LeadStatus = state_enum(LeadLifecycle, "LeadStatus")
LeadEvent = event_enum(LeadLifecycle, "LeadEvent")
