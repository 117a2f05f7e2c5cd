"""API keys for integrators: created by admins, the secret shown once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.actors import ApiScope
from domain.api_keys import ApiKey as ApiKeyRecord
from domain.api_keys import ApiKeyErrorCode
from resolvers import api_keys as resolve
from resolvers.errors import Outcome
from schema.enum_values import described_enum, error_code_enum
from schema.payloads import errors_as
from schema.shared_fields import (
    MUTATION_INPUT,
    created_at,
    error_code,
    error_field,
    error_message,
    node_id,
    payload_errors,
    payload_record,
)

if TYPE_CHECKING:
    ApiScopeEnum = StrEnum
else:
    ApiScopeEnum = described_enum(
        ApiScope,
        "ApiScope",
        "What an API key may do; keys act agency-wide within their scopes.",
        {"READ": "Read queries.", "WRITE": "Mutations.", "SUBSCRIBE": "The `events` subscription."},
    )

error_code_enum(ApiKeyErrorCode, "ApiKeyErrorCode", "API keys")


@strawberry.type(description="An integrator's key; only its prefix is ever shown again.")
class ApiKey(relay.Node):
    id: relay.NodeID[str] = node_id()
    name: str = strawberry.field(description="What the key is for.")
    prefix: str = strawberry.field(
        description="The first characters of the key, to recognise it (the secret is never "
        "shown again)."
    )
    scopes: list[ApiScopeEnum] = strawberry.field(description="What the key may do.")
    expires_at: datetime | None = strawberry.field(
        description="When it stops working; null: never."
    )
    revoked_at: datetime | None = strawberry.field(
        description="When it was revoked; null while it works."
    )
    last_used_at: datetime | None = strawberry.field(
        description="When it last authenticated a request."
    )
    created_at: datetime = created_at()

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, ApiKeyRecord))


@strawberry.type(description="A problem with the input; nothing was changed.")
class ApiKeyError:
    field: str | None = error_field()
    code: ApiKeyErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class ApiKeyPayload:
    api_key: ApiKey | None = payload_record("api key")
    errors: list[ApiKeyError] = payload_errors()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class CreateApiKeyPayload:
    api_key: ApiKey | None = payload_record("api key")
    secret: str | None = strawberry.field(
        description="The whole key, shown this once: send it as `Authorization: Bearer <secret>`."
    )
    errors: list[ApiKeyError] = payload_errors()


@strawberry.input(description="A new API key (at most 100 per agency, else TOO_MANY).")
class CreateApiKeyInput:
    name: str = strawberry.field(description="What it is for: 1 to 200 characters.")
    scopes: list[ApiScopeEnum] = strawberry.field(description="What it may do; at least one.")
    expires_at: datetime | None = strawberry.field(
        default=None, description="When it stops working (in the future); left out: never."
    )


@strawberry.input(description="The API key to revoke.")
class RevokeApiKeyInput:
    id: relay.GlobalID = node_id()


def _errors(outcome: Outcome[Any]) -> list[ApiKeyError]:
    return errors_as(ApiKeyError, outcome.errors)


@strawberry.type
class ApiKeyQuery:
    @strawberry.field(description="The agency's API keys (admins).")
    async def api_keys(self, info: Info) -> list[ApiKey]:
        return await resolve.list_api_keys(info.context)  # type: ignore[return-value]


@strawberry.type
class ApiKeyMutation:
    @strawberry.mutation(
        description="Admins: create an API key with scopes; its secret is shown once, in "
        "this answer only. Errors: REQUIRED, TOO_LONG, TOO_MANY, INVALID, FORBIDDEN."
    )
    async def create_api_key(
        self, info: Info, input: Annotated[CreateApiKeyInput, MUTATION_INPUT]
    ) -> CreateApiKeyPayload:
        scopes = [str(s) for s in input.scopes]
        outcome = await resolve.create_api_key(info.context, input.name, scopes, input.expires_at)
        created = outcome.value
        return CreateApiKeyPayload(
            api_key=created.api_key if created else None,  # type: ignore[arg-type]
            secret=created.secret if created else None,
            errors=_errors(outcome),
        )

    @strawberry.mutation(description="The key stops working at once.")
    async def revoke_api_key(
        self, info: Info, input: Annotated[RevokeApiKeyInput, MUTATION_INPUT]
    ) -> ApiKeyPayload:
        outcome = await resolve.revoke_api_key(info.context, input.id)
        return ApiKeyPayload(api_key=outcome.value, errors=_errors(outcome))  # type: ignore[arg-type]
