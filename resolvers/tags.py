"""Tag resolvers: thin calls into domain.tags."""

from __future__ import annotations

from typing import Any

from strawberry import relay

from domain import tags
from domain.tags import Tag, TagErrorCode, TagUsage
from resolvers.context import RequestContext, actor_of
from resolvers.errors import Outcome, answer, attempt
from resolvers.inputs import given, node_uuid


async def tags_list(context: RequestContext) -> list[TagUsage]:
    return await answer(tags.list_tags(actor_of(context)))


async def create_tag(context: RequestContext, data: Any) -> Outcome[Tag]:
    actor = actor_of(context)
    return await attempt(TagErrorCode, lambda: tags.create_tag(actor, given(data)))


async def update_tag(context: RequestContext, data: Any) -> Outcome[Tag]:
    actor = actor_of(context)
    fields = given(data)
    global_id = fields.pop("id")
    return await attempt(
        TagErrorCode,
        lambda: tags.update_tag(actor, node_uuid(global_id, "Tag", TagErrorCode), fields),
    )


async def delete_tag(context: RequestContext, global_id: relay.GlobalID) -> Outcome[Tag]:
    actor = actor_of(context)
    return await attempt(
        TagErrorCode, lambda: tags.delete_tag(actor, node_uuid(global_id, "Tag", TagErrorCode))
    )
