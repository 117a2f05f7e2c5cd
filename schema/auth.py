"""Sign-in: login, refresh, logout, me, and passwords (change, forgotten). `login`,
`refreshSession`, `requestPasswordReset` and `resetPassword` are the only fields an anonymous
caller may use (besides introspection)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.auth import AuthErrorCode, Tokens
from domain.password_resets import PasswordErrorCode
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
error_code_enum(PasswordErrorCode, "PasswordErrorCode", "passwords and reset links")

PUBLIC_FIELDS = frozenset({"login", "refreshSession", "requestPasswordReset", "resetPassword"})


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


@strawberry.type(description="Why a password change or reset changed nothing.")
class PasswordError:
    field: str | None = error_field()
    code: PasswordErrorCode = error_code()
    message: str = error_message()


@strawberry.type(description="The outcome of `changePassword`.")
class ChangePasswordPayload:
    ok: bool = strawberry.field(description="True when the password was changed.")
    other_sessions_ended: int = strawberry.field(
        description="How many of your other sessions ended (this one is kept)."
    )
    errors: list[PasswordError] = payload_errors()


@strawberry.type(description="The outcome of `requestPasswordReset` or `resetPassword`.")
class PasswordResetPayload:
    ok: bool = strawberry.field(
        description="True when the request was taken (a reset request is, whether or not the "
        "address has an account) or the new password set."
    )
    errors: list[PasswordError] = payload_errors()


@strawberry.input(description="Your current password and the one to replace it.")
class ChangePasswordInput:
    current_password: str = strawberry.field(description="The password you sign in with now.")
    new_password: str = strawberry.field(description="10 to 256 characters.")


@strawberry.input(description="Where to send a reset link.")
class RequestPasswordResetInput:
    email: str = strawberry.field(
        description="The address you sign in with; the answer is the same for any address."
    )


@strawberry.input(description="A reset link's token and the new password.")
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

    @strawberry.mutation(
        description="Change your own password, giving the current one (a wrong one counts as "
        "a failed sign-in: WRONG_PASSWORD, then TOO_MANY_ATTEMPTS). Your other sessions end; "
        "this one is kept. Audited without the passwords."
    )
    async def change_password(
        self, info: Info, input: Annotated[ChangePasswordInput, MUTATION_INPUT]
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
        self, info: Info, input: Annotated[RequestPasswordResetInput, MUTATION_INPUT]
    ) -> PasswordResetPayload:
        return _password_payload(await resolve.request_password_reset(info.context, input.email))

    @strawberry.mutation(
        description="Set a new password with the token of an emailed reset link (what the "
        "link's page does): INVALID_LINK for a forged, altered, expired or used one. Every "
        "session of the account ends."
    )
    async def reset_password(
        self, info: Info, input: Annotated[ResetPasswordInput, MUTATION_INPUT]
    ) -> PasswordResetPayload:
        outcome = await resolve.reset_password(info.context, input.token, input.new_password)
        return _password_payload(outcome)
