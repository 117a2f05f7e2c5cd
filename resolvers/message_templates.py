"""Message template resolvers: parse, call `domain.message_templates`, map errors."""

from __future__ import annotations

from typing import Any

from strawberry import relay

from domain import message_templates as templates
from domain.message_rendering import RenderedMessage
from domain.message_templates import TemplateErrorCode, TemplateView
from resolvers.context import RequestContext, actor_of
from resolvers.errors import Outcome, answer, attempt, found_or_none
from resolvers.events import record_type_of
from resolvers.inputs import given, node_uuid


async def message_templates(context: RequestContext) -> list[TemplateView]:
    return await answer(templates.list_templates(actor_of(context)))


async def message_template(context: RequestContext, key: str) -> TemplateView | None:
    return await found_or_none(lambda: templates.get_template(actor_of(context), key))


async def preview(
    context: RequestContext, key: str, record_id: relay.GlobalID, version: int | None
) -> RenderedMessage:
    actor = actor_of(context)

    async def rendered() -> RenderedMessage:
        record_uuid = node_uuid(record_id, record_id.type_name, TemplateErrorCode)
        record_type = record_type_of(record_id.type_name)
        return await templates.preview(actor, key, record_type, record_uuid, version)

    return await answer(rendered())


async def create(context: RequestContext, data: Any) -> Outcome[TemplateView]:
    actor = actor_of(context)
    return await attempt(TemplateErrorCode, lambda: templates.create_template(actor, given(data)))


async def edit(context: RequestContext, data: Any) -> Outcome[TemplateView]:
    actor = actor_of(context)
    changes = given(data)
    key = changes.pop("key")
    return await attempt(TemplateErrorCode, lambda: templates.edit_draft(actor, key, changes))


async def publish(context: RequestContext, key: str) -> Outcome[TemplateView]:
    actor = actor_of(context)
    return await attempt(TemplateErrorCode, lambda: templates.publish_draft(actor, key))
