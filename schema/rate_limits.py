"""Rate limits per caller: requests and query cost a minute, refused with `RATE_LIMITED`.

The cost budget (`schema/cost.py`) bounds one operation; these bound what one caller (a user,
an API key, or an anonymous address) spends a minute, so that a loop of operations each inside
the budget cannot hold the API either. The request is counted after the document parsed and
before it is validated (a refused one costs no validation); the cost is charged once it is
known and the operation is valid, before any resolver runs. A subscription counts as a
request; its cost is not charged (it streams events, whose rate the subscription limits own).

A refusal is a request error with the code `RATE_LIMITED`, the limit it met and `retryAfter`;
the HTTP layer answers it with 429 and `Retry-After` (`crm/graphql_http.py`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.types.graphql import OperationType

from domain.rate_limits import CallerLimits, RateDecision, RateLimit, take
from schema.cost import DEFAULT_MAX_QUERY_COST, QueryCost

RATE_LIMITED = "RATE_LIMITED"


def is_rate_limited_error(error: GraphQLError) -> bool:
    return (error.extensions or {}).get("code") == RATE_LIMITED


def rate_limited(limit: RateLimit, decision: RateDecision) -> GraphQLError:
    what = "requests" if limit.name == "requests" else "query cost"
    return GraphQLError(
        f"Too much {what} this minute: the limit is {decision.limit}. "
        f"Try again in {decision.retry_after} s.",
        extensions={
            "code": RATE_LIMITED,
            "limit": limit.name,
            "allowed": decision.limit,
            "retryAfter": decision.retry_after,
        },
    )


def caller(context: Any) -> str:
    """Whom a request is counted against: its actor (`user:<id>`, `api_key:<id>`), else
    the address an anonymous request came from."""
    actor = getattr(context, "actor", None)
    if actor is not None:
        return str(actor.id)
    return f"address:{getattr(context, 'client_address', '')}"


class SpendingLimits(QueryCost):
    """The cost budget of one operation, and the caller's requests and cost a minute."""

    def __init__(self, limits: CallerLimits, budget: int = DEFAULT_MAX_QUERY_COST) -> None:
        super().__init__(budget)
        self.limits = limits

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        if self.limits.requests is not None:
            refusal = await self._take(self.limits.requests, 1)
            if refusal is not None:
                # Set before validation runs: Strawberry then skips it and answers this.
                context.pre_execution_errors = [refusal]
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        if (
            self.limits.cost is not None
            and self.cost
            and context.operation_type is not OperationType.SUBSCRIPTION
        ):
            refusal = await self._take(self.limits.cost, self.cost)
            if refusal is not None:
                # A result set before execution is the answer: no resolver runs.
                context.result = GraphQLExecutionResult(data=None, errors=[refusal])
        yield

    async def _take(self, limit: RateLimit, units: int) -> GraphQLError | None:
        subject = caller(self.execution_context.context)
        decision = await take(self.limits.counters, limit, subject, units)
        return None if decision.allowed else rate_limited(limit, decision)
