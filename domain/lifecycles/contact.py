"""The contact lifecycle: New -> Hot -> Converted, with Cold and Not-Interested on the side."""

from __future__ import annotations

from statemachine import State, StateMachine

from domain.lifecycles import event_enum, state_enum


class ContactLifecycle(StateMachine):
    """A contact warms up (Hot) and converts, or cools off and can be re-opened."""

    new = State("New", initial=True, value="new")
    hot = State("Hot", value="hot")
    cold = State("Cold", value="cold")
    not_interested = State("Not interested", value="not_interested")
    converted = State("Converted", final=True, value="converted")

    mark_hot = new.to(hot) | cold.to(hot)
    mark_cold = new.to(cold) | hot.to(cold)
    mark_not_interested = new.to(not_interested) | hot.to(not_interested) | cold.to(not_interested)
    reopen = cold.to(new) | not_interested.to(new)
    convert = hot.to(converted)


ContactStatus = state_enum(ContactLifecycle, "ContactStatus")
ContactEvent = event_enum(ContactLifecycle, "ContactEvent")
