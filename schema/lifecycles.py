"""GraphQL view of lifecycle machines: states, events, transitions and a Mermaid diagram."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from resolvers import lifecycles as resolve


@strawberry.type(description="One state of a lifecycle.")
class LifecycleState:
    id: str = strawberry.field(description="The state as its status enum value, e.g. HOT.")
    name: str = strawberry.field(description="The state in words, e.g. Not interested.")
    initial: bool = strawberry.field(description="Where new records start.")
    final: bool = strawberry.field(description="No event leaves a final state.")

    @classmethod
    def of(cls, state: Any) -> LifecycleState:
        return cls(id=state.id.upper(), name=state.name, initial=state.initial, final=state.final)


@strawberry.type(description="An event that moves a record between states.")
class LifecycleEvent:
    id: str = strawberry.field(description="The event as its enum value, e.g. MARK_HOT.")
    name: str = strawberry.field(description="The event in words, e.g. Mark hot.")


@strawberry.type(description="An edge of the lifecycle graph.")
class LifecycleTransition:
    event: str = strawberry.field(description="The event, as its enum value (e.g. MARK_HOT).")
    source: str = strawberry.field(description="The state it leaves, as its status enum value.")
    target: str = strawberry.field(description="The state it reaches, as its status enum value.")


@strawberry.type(description="A record type's lifecycle, derived from its state machine.")
class Lifecycle:
    record_type: str = strawberry.field(description="The record type, e.g. Contact.")
    states: list[LifecycleState] = strawberry.field(description="Its states, in declaration order.")
    events: list[LifecycleEvent] = strawberry.field(description="Its events, in declaration order.")
    transitions: list[LifecycleTransition] = strawberry.field(
        description="Every edge: which event leads from which state to which."
    )
    diagram: str = strawberry.field(description="Mermaid stateDiagram-v2 source.")

    @classmethod
    def of(cls, lifecycle: Any) -> Lifecycle:
        return cls(
            record_type=lifecycle.name,
            states=[LifecycleState.of(s) for s in lifecycle.states],
            events=[LifecycleEvent(id=e.id.upper(), name=e.name) for e in lifecycle.events],
            transitions=[
                LifecycleTransition(
                    event=t.event.upper(), source=t.source.upper(), target=t.target.upper()
                )
                for t in lifecycle.transitions
            ],
            diagram=lifecycle.diagram,
        )


@strawberry.type
class LifecycleQuery:
    @strawberry.field(description="Every record type's lifecycle.")
    def lifecycles(self) -> list[Lifecycle]:
        return [Lifecycle.of(lc) for lc in resolve.lifecycles()]

    @strawberry.field(description="One record type's lifecycle (e.g. Contact), or null.")
    def lifecycle(
        self,
        record_type: Annotated[
            str, strawberry.argument(description="A record type, e.g. Contact or CallingTask.")
        ],
    ) -> Lifecycle | None:
        found = resolve.lifecycle(record_type)
        return Lifecycle.of(found) if found else None
