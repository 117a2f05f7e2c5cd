"""User (employee) resolvers."""

from __future__ import annotations

from typing import Any

from strawberry import relay

from domain import users
from domain.users import User, UserErrorCode
from resolvers.context import RequestContext, actor_of
from resolvers.errors import Outcome, answer, attempt, found_or_none
from resolvers.inputs import given, node_uuid, with_node_ids
from resolvers.pagination import connection

TYPE_NAME = "User"
REFERENCES = {
    "org_unit_id": "OrgUnit",
    "department_id": "Department",
    "designation_id": "Designation",
    "manager_id": "User",
    "reassign_to_id": "User",
}


def _references(data: dict[str, Any]) -> dict[str, Any]:
    """Global ids of related rows as UUIDs (NOT_FOUND on the field when malformed)."""
    return with_node_ids(data, UserErrorCode, REFERENCES)


async def user(context: RequestContext, global_id: relay.GlobalID) -> User | None:
    actor = actor_of(context)
    return await found_or_none(
        lambda: users.get_user(actor, node_uuid(global_id, TYPE_NAME, UserErrorCode))
    )


async def users_page(
    context: RequestContext, first: int, after: str | None
) -> relay.Connection[Any]:
    actor = actor_of(context)
    return connection(await answer(users.list_users(actor, first, after)))


async def create_user(context: RequestContext, data: Any) -> Outcome[User]:
    actor = actor_of(context)
    return await attempt(UserErrorCode, lambda: users.create_user(actor, _references(given(data))))


async def update_user(context: RequestContext, data: Any) -> Outcome[User]:
    actor = actor_of(context)
    changes = given(data)
    global_id = changes.pop("id")

    async def change() -> User:
        user_id = node_uuid(global_id, TYPE_NAME, UserErrorCode)
        return await users.update_user(actor, user_id, _references(changes))

    return await attempt(UserErrorCode, change)


async def update_my_profile(context: RequestContext, data: Any) -> Outcome[User]:
    actor = actor_of(context)

    async def change() -> User:
        changes = with_node_ids(given(data), UserErrorCode, {"picture_id": "Document"})
        return await users.update_profile(actor, changes)

    return await attempt(UserErrorCode, change)
