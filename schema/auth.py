"""Sign-in: login, refresh, logout, me. `login` and `refreshSession` are the only fields an
anonymous caller may use (besides introspection)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.auth import AuthErrorCode, Tokens
from resolvers import auth as resolve
from resolvers.errors import Outcome
from schema.enum_values import error_code_enum
from schema.payloads import errors_as
from schema.shared_fields import (
    MUTATION_INPUT,
    error_code,
    error_field,
    error_message,
    payload_errors,
    payload_record,
)
from schema.users import User

error_code_enum(AuthErrorCode, "AuthErrorCode", "sign-in and sessions")

PUBLIC_FIELDS = frozenset({"login", "refreshSession"})


@strawberry.type(description="A problem with the input; nothing was changed.")
class AuthError:
    field: str | None = error_field()
    code: AuthErrorCode = error_code()
    message: str = error_message()


@strawberry.type(description="Send `Authorization: Bearer <accessToken>` with each request.")
class AuthPayload:
    access_token: str | None = payload_record("access token")
    refresh_token: str | None = strawberry.field(
        description="Good for one refresh; keep it secret. Using it twice ends the session."
    )
    expires_at: datetime | None = payload_record("expires at")
    user: User | None = payload_record("user")
    errors: list[AuthError] = payload_errors()


def _payload(outcome: Outcome[Tokens]) -> AuthPayload:
    tokens = outcome.value
    return AuthPayload(
        access_token=tokens.access_token if tokens else None,
        refresh_token=tokens.refresh_token if tokens else None,
        expires_at=tokens.expires_at if tokens else None,
        user=tokens.user if tokens else None,  # type: ignore[arg-type]
        errors=errors_as(AuthError, outcome.errors),
    )


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class LogoutPayload:
    ok: bool = strawberry.field(description="True when the session was ended.")
    errors: list[AuthError] = payload_errors()


@strawberry.input(description="Credentials of a user.")
class LoginInput:
    email: str = strawberry.field(description="The sign-in address (any letter case).")
    password: str = strawberry.field(
        description="The password; wrong ones are throttled per account and address."
    )


@strawberry.input(description="A refresh token to trade for new tokens.")
class RefreshSessionInput:
    refresh_token: str = strawberry.field(
        description="The refresh token of the last `login` or `refreshSession`; each works once."
    )


@strawberry.type
class AuthQuery:
    @strawberry.field(description="The signed-in user (null for an API key).")
    async def me(self, info: Info) -> User | None:
        return await resolve.me(info.context)  # type: ignore[return-value]


@strawberry.type
class AuthMutation:
    @strawberry.mutation(description="Sign in; failed attempts are throttled.")
    async def login(self, info: Info, input: Annotated[LoginInput, MUTATION_INPUT]) -> AuthPayload:
        return _payload(await resolve.login(info.context, input.email, input.password))

    @strawberry.mutation(description="Trade a refresh token for new tokens.")
    async def refresh_session(
        self, info: Info, input: Annotated[RefreshSessionInput, MUTATION_INPUT]
    ) -> AuthPayload:
        return _payload(await resolve.refresh_session(info.context, input.refresh_token))

    @strawberry.mutation(description="End this session: its tokens stop working at once.")
    async def logout(self, info: Info) -> LogoutPayload:
        outcome = await resolve.logout(info.context)
        return LogoutPayload(ok=bool(outcome.value), errors=errors_as(AuthError, outcome.errors))
