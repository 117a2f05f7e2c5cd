"""Sign-in resolvers: login, refresh, logout, and who am I."""

from __future__ import annotations

from domain import auth
from domain.auth import AuthErrorCode, Tokens
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
