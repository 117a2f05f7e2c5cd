"""Sign-in resolvers: login, refresh, logout, who am I, and passwords (change, reset)."""

from __future__ import annotations

from domain import auth, password_resets
from domain.auth import AuthErrorCode, Tokens
from domain.errors import DomainError
from domain.password_resets import PasswordErrorCode
from domain.signed_links import InvalidLink, LinkConfig
from domain.users import User, get_user
from resolvers.context import RequestContext, actor_of
from resolvers.errors import Outcome, answer, attempt


async def login(context: RequestContext, email: str, password: str) -> Outcome[Tokens]:
    return await attempt(
        AuthErrorCode, lambda: auth.login(context.auth, email, password, context.client_address)
    )


async def refresh_session(context: RequestContext, refresh_token: str) -> Outcome[Tokens]:
    return await attempt(AuthErrorCode, lambda: auth.refresh_session(context.auth, refresh_token))


async def logout(context: RequestContext) -> Outcome[bool]:
    actor = actor_of(context)

    async def end() -> bool:
        await auth.logout(actor)
        return True

    return await attempt(AuthErrorCode, end)


async def me(context: RequestContext) -> User | None:
    actor = actor_of(context)
    if actor.user_id is None:
        return None  # an API key is not a person
    return await answer(get_user(actor, actor.user_id))


def _links(context: RequestContext) -> LinkConfig:
    if context.links is None:
        raise DomainError(PasswordErrorCode.INVALID_LINK, "Password resets are not offered here.")
    return context.links


async def change_password(context: RequestContext, current: str, new: str) -> Outcome[int]:
    actor = actor_of(context)
    return await attempt(
        PasswordErrorCode,
        lambda: password_resets.change_password(
            context.auth, actor, current, new, context.client_address
        ),
    )


async def request_password_reset(context: RequestContext, email: str) -> Outcome[bool]:
    async def request() -> bool:
        await password_resets.request_password_reset(
            _links(context), context.reset_limits, email, context.client_address
        )
        return True

    return await attempt(PasswordErrorCode, request)


async def reset_password(context: RequestContext, token: str, new: str) -> Outcome[bool]:
    async def reset() -> bool:
        try:
            await password_resets.reset_password(_links(context), token, new)
        except InvalidLink as exc:
            raise DomainError(
                PasswordErrorCode.INVALID_LINK,
                "The link does not work: it may be incomplete, used or too old.",
                "token",
            ) from exc
        return True

    return await attempt(PasswordErrorCode, reset)
