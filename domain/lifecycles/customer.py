"""The customer lifecycle: Draft -> New -> Active, with In-active and Blocked.

The architecture page marks Active as final; a customer that stops buying must be able to go
In-active (and come back), so here no customer state is final. Activation is guarded: a
customer needs a primary contact and billing details first.
"""

from __future__ import annotations

from statemachine import State, StateMachine

from domain.errors import DomainError
from domain.lifecycles import event_enum, state_enum
from domain.lifecycles.codes import LifecycleErrorCode


class CustomerLifecycle(StateMachine):
    draft = State("Draft", initial=True, value="draft")
    new = State("New", value="new")
    active = State("Active", value="active")
    inactive = State("In-active", value="inactive")
    blocked = State("Blocked", value="blocked")

    submit = draft.to(new)
    activate = new.to(active, validators="ready_to_activate") | inactive.to(
        active, validators="ready_to_activate"
    )
    deactivate = active.to(inactive)
    block = draft.to(blocked) | new.to(blocked) | active.to(blocked) | inactive.to(blocked)
    unblock = blocked.to(inactive)

    def ready_to_activate(
        self, has_primary_contact: bool = False, has_billing_details: bool = False
    ) -> None:
        missing = [
            what
            for what, present in (
                ("a primary contact", has_primary_contact),
                ("billing details (billing email and address)", has_billing_details),
            )
            if not present
        ]
        if missing:
            raise DomainError(
                LifecycleErrorCode.GUARD_FAILED,
                f"Cannot activate without {' and '.join(missing)}.",
                field="event",
            )


CustomerStatus = state_enum(CustomerLifecycle, "CustomerStatus")
CustomerEvent = event_enum(CustomerLifecycle, "CustomerEvent")
