"""The campaign lifecycle: Draft -> New -> Active, In-active and Discarded.

A draft is being prepared; New is ready and waits for its period to start; the start of the
period activates it and the end deactivates it (Temporal timers, `workflows.campaign_period`),
or a person does either by hand. Active is not final: the end of the period must be able to
move an active campaign to In-active, and an In-active one may be activated again (with a new
period). Discarded is final: a discarded campaign accepts nothing, neither events nor edits
nor sign-ups.
"""

from __future__ import annotations

from statemachine import State, StateMachine

from domain.errors import DomainError
from domain.lifecycles import event_enum, state_enum
from domain.lifecycles.codes import LifecycleErrorCode


class CampaignLifecycle(StateMachine):
    draft = State("Draft", initial=True, value="draft")
    new = State("New", value="new")
    active = State("Active", value="active")
    inactive = State("In-active", value="inactive")
    discarded = State("Discarded", final=True, value="discarded")

    submit = draft.to(new)
    activate = new.to(active, validators="ready_to_activate") | inactive.to(
        active, validators="ready_to_activate"
    )
    deactivate = active.to(inactive)
    discard = draft.to(discarded) | new.to(discarded) | inactive.to(discarded)

    def ready_to_activate(
        self,
        has_period: bool = False,
        period_open: bool = False,
        has_published_template: bool = False,
    ) -> None:
        """Facts gathered by the service: a whole period (start and end), whose end has not
        passed, and at least one of its templates published."""
        missing = [
            what
            for what, present in (
                ("a period (start and end)", has_period),
                ("a published template", has_published_template),
            )
            if not present
        ]
        if missing:
            raise DomainError(
                LifecycleErrorCode.GUARD_FAILED,
                f"Cannot activate without {' and '.join(missing)}.",
                field="event",
            )
        if not period_open:
            raise DomainError(
                LifecycleErrorCode.GUARD_FAILED,
                "Cannot activate: the period has ended; give it a new end first.",
                field="event",
            )


CampaignStatus = state_enum(CampaignLifecycle, "CampaignStatus")
CampaignEvent = event_enum(CampaignLifecycle, "CampaignEvent")
