"""Quota types, inputs and payloads: sales targets and their attainment."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from db.quotas import Quota as QuotaRecord
from domain.quotas import Attainment, QuotaErrorCode
from resolvers import quotas as resolve
from resolvers.errors import Outcome
from schema.enum_values import error_code_enum
from schema.payloads import errors_as
from schema.shared_fields import (
    MUTATION_INPUT,
    error_code,
    error_field,
    error_message,
    node_id,
    payload_errors,
    payload_record,
)

error_code_enum(QuotaErrorCode, "QuotaErrorCode", "quotas")


@strawberry.type(description="The won amount a sales person or a team is to reach in a period.")
class Quota:
    amount: Decimal = strawberry.field(description="The target.")
    currency: str | None = strawberry.field(description="Only deals in it count; null: all.")

    @strawberry.field(description="The quota's global id.")
    def id(self, root: strawberry.Parent[QuotaRecord]) -> relay.GlobalID:
        return relay.GlobalID("Quota", str(root.id))

    @strawberry.field(description="The period's first day.", name="from")
    def start(self, root: strawberry.Parent[QuotaRecord]) -> date:
        return root.period_start

    @strawberry.field(description="The period's last day, included.", name="to")
    def end(self, root: strawberry.Parent[QuotaRecord]) -> date:
        return root.period_end

    @strawberry.field(description="The sales person's User id; null for a team's quota.")
    def owner_id(self, root: strawberry.Parent[QuotaRecord]) -> relay.GlobalID | None:
        return relay.GlobalID("User", str(root.owner_id)) if root.owner_id else None

    @strawberry.field(description="The team's OrgUnit id; null for a person's quota.")
    def team_id(self, root: strawberry.Parent[QuotaRecord]) -> relay.GlobalID | None:
        return relay.GlobalID("OrgUnit", str(root.team_id)) if root.team_id else None


@strawberry.type(description="A quota and how far its deals won in the period reach it.")
class QuotaAttainment:
    quota: Quota = strawberry.field(description="The target.")
    won_deals: int = strawberry.field(description="Deals won in the quota's period.")
    won_amount: Decimal = strawberry.field(description="Their summed amount.")
    share: Decimal = strawberry.field(description="Won amount over the target (1: reached).")


@strawberry.type(description="A problem with the input; nothing was changed.")
class QuotaError:
    field: str | None = error_field()
    code: QuotaErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the quota as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class QuotaPayload:
    quota: Quota | None = payload_record("quota")
    errors: list[QuotaError] = payload_errors()


@strawberry.input(
    description="A target for one person (ownerId) or one team (teamId), not both. Setting "
    "it again for the same person or team and period changes it."
)
class SetQuotaInput:
    owner_id: relay.GlobalID | None = strawberry.field(
        default=None, description="A User of your team (sales heads) or of the agency (admins)."
    )
    team_id: relay.GlobalID | None = strawberry.field(
        default=None, description="An OrgUnit: its members and those of the units below."
    )
    start: date = strawberry.field(name="from", description="The period's first day.")
    end: date = strawberry.field(name="to", description="The period's last day, included.")
    amount: Decimal = strawberry.field(description="More than 0, two decimals at most.")
    currency: str | None = strawberry.field(
        default=None, description="ISO 4217 code: only deals in it count; null: all deals."
    )


@strawberry.input(description="The quota to remove.")
class DeleteQuotaInput:
    id: relay.GlobalID = node_id()


def _payload(outcome: Outcome[QuotaRecord]) -> QuotaPayload:
    return QuotaPayload(quota=outcome.value, errors=errors_as(QuotaError, outcome.errors))  # type: ignore[arg-type]


def attainments(found: list[Attainment]) -> list[QuotaAttainment]:
    return [
        QuotaAttainment(
            quota=item.quota,  # type: ignore[arg-type]
            won_deals=item.won_deals,
            won_amount=item.won_amount,
            share=item.share,
        )
        for item in found
    ]


@strawberry.type
class QuotaQuery:
    @strawberry.field(
        description="The quotas you may read (your own; your team's for sales heads) whose "
        "period overlaps the one given, with their attainment (at most 100)."
    )
    async def quotas(
        self,
        info: Info,
        start: Annotated[date, strawberry.argument(name="from", description="First day.")],
        end: Annotated[date, strawberry.argument(name="to", description="Last day, included.")],
    ) -> list[QuotaAttainment]:
        return attainments(await resolve.list_quotas(info.context, start, end))


@strawberry.type
class QuotaMutation:
    @strawberry.mutation(
        description="Admins and sales heads (for their team): set a person's or a team's "
        "target for a period."
    )
    async def set_quota(
        self, info: Info, input: Annotated[SetQuotaInput, MUTATION_INPUT]
    ) -> QuotaPayload:
        return _payload(await resolve.set_quota(info.context, input))

    @strawberry.mutation(description="Admins and sales heads (for their team): remove a quota.")
    async def delete_quota(
        self, info: Info, input: Annotated[DeleteQuotaInput, MUTATION_INPUT]
    ) -> QuotaPayload:
        return _payload(await resolve.delete_quota(info.context, input.id))
