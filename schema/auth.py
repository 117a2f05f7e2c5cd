"""Sign-in: login, refresh, logout, me, and passwords (change, forgotten). `login`,
`refreshSession`, `requestPasswordReset` and `resetPassword` are the only fields an anonymous
caller may use (besides introspection)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from domain.auth import AuthErrorCode, Tokens
from domain.password_resets import PasswordErrorCode
from resolvers import auth as resolve
from resolvers.errors import Outcome
from schema.payloads import errors_as
from schema.users import User

strawberry.enum(AuthErrorCode, name="AuthErrorCode")
strawberry.enum(PasswordErrorCode, name="PasswordErrorCode")

PUBLIC_FIELDS = frozenset({"login", "refreshSession", "requestPasswordReset", "resetPassword"})


@strawberry.type
class AuthError:
    field: str | None
    code: AuthErrorCode
    message: str


@strawberry.type(description="Send `Authorization: Bearer <accessToken>` with each request.")
class AuthPayload:
    access_token: str | None
    refresh_token: str | None = strawberry.field(
        description="Good for one refresh; keep it secret. Using it twice ends the session."
    )
    expires_at: datetime | None
    user: User | None
    errors: list[AuthError]


def _payload(outcome: Outcome[Tokens]) -> AuthPayload:
    tokens = outcome.value
    return AuthPayload(
        access_token=tokens.access_token if tokens else None,
        refresh_token=tokens.refresh_token if tokens else None,
        expires_at=tokens.expires_at if tokens else None,
        user=tokens.user if tokens else None,  # type: ignore[arg-type]
        errors=errors_as(AuthError, outcome.errors),
    )


@strawberry.type
class LogoutPayload:
    ok: bool
    errors: list[AuthError]


@strawberry.input
class LoginInput:
    email: str
    password: str


@strawberry.input
class RefreshSessionInput:
    refresh_token: str


@strawberry.type
class PasswordError:
    field: str | None
    code: PasswordErrorCode
    message: str


@strawberry.type
class ChangePasswordPayload:
    ok: bool
    other_sessions_ended: int = strawberry.field(
        description="How many of your other sessions ended (this one is kept)."
    )
    errors: list[PasswordError]


@strawberry.type
class PasswordResetPayload:
    ok: bool
    errors: list[PasswordError]


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str = strawberry.field(description="10 to 256 characters.")


@strawberry.input
class RequestPasswordResetInput:
    email: str


@strawberry.input
class ResetPasswordInput:
    token: str = strawberry.field(description="The token at the end of the emailed link.")
    new_password: str = strawberry.field(description="10 to 256 characters.")


def _password_payload(outcome: Outcome[bool]) -> PasswordResetPayload:
    return PasswordResetPayload(
        ok=bool(outcome.value), errors=errors_as(PasswordError, outcome.errors)
    )


@strawberry.type
class AuthQuery:
    @strawberry.field(description="The signed-in user (null for an API key).")
    async def me(self, info: Info) -> User | None:
        return await resolve.me(info.context)  # type: ignore[return-value]


@strawberry.type
class AuthMutation:
    @strawberry.mutation(description="Sign in; failed attempts are throttled.")
    async def login(self, info: Info, input: LoginInput) -> AuthPayload:
        return _payload(await resolve.login(info.context, input.email, input.password))

    @strawberry.mutation(description="Trade a refresh token for new tokens.")
    async def refresh_session(self, info: Info, input: RefreshSessionInput) -> AuthPayload:
        return _payload(await resolve.refresh_session(info.context, input.refresh_token))

    @strawberry.mutation(description="End this session: its tokens stop working at once.")
    async def logout(self, info: Info) -> LogoutPayload:
        outcome = await resolve.logout(info.context)
        return LogoutPayload(ok=bool(outcome.value), errors=errors_as(AuthError, outcome.errors))

    @strawberry.mutation(
        description="Change your own password, giving the current one (a wrong one counts as "
        "a failed sign-in: WRONG_PASSWORD, then TOO_MANY_ATTEMPTS). Your other sessions end; "
        "this one is kept. Audited without the passwords."
    )
    async def change_password(
        self, info: Info, input: ChangePasswordInput
    ) -> ChangePasswordPayload:
        outcome = await resolve.change_password(
            info.context, input.current_password, input.new_password
        )
        return ChangePasswordPayload(
            ok=outcome.value is not None,
            other_sessions_ended=outcome.value or 0,
            errors=errors_as(PasswordError, outcome.errors),
        )

    @strawberry.mutation(
        description="Forgot the password: if the email has an active account, a link to set a "
        "new one is emailed (it works once, for CRM_PASSWORD_RESET_MINUTES). The answer is the "
        "same, in the same time, whether it has or not. Throttled per email and per client "
        "address (TOO_MANY_ATTEMPTS)."
    )
    async def request_password_reset(
        self, info: Info, input: RequestPasswordResetInput
    ) -> PasswordResetPayload:
        return _password_payload(await resolve.request_password_reset(info.context, input.email))

    @strawberry.mutation(
        description="Set a new password with the token of an emailed reset link (what the "
        "link's page does): INVALID_LINK for a forged, altered, expired or used one. Every "
        "session of the account ends."
    )
    async def reset_password(self, info: Info, input: ResetPasswordInput) -> PasswordResetPayload:
        outcome = await resolve.reset_password(info.context, input.token, input.new_password)
        return _password_payload(outcome)
