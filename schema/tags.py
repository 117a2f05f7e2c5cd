"""Tag types, inputs and payloads: the agency's shared tag catalogue."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.tags import Tag as TagRecord
from domain.tags import TagErrorCode, TaggedRecordType, TagUsage
from resolvers import tags as resolve
from resolvers.errors import Outcome
from schema.enum_values import described_enum, error_code_enum
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

error_code_enum(TagErrorCode, "TagErrorCode", "tags")
described_enum(
    TaggedRecordType,
    "TaggedRecordType",
    "Records that carry tags.",
    {
        "CONTACT": "Contacts.",
        "CUSTOMER": "Customers.",
        "LEAD": "Leads.",
        "DEAL": "Deals.",
        "CALLING_TASK": "Calling tasks.",
    },
)


@strawberry.type(description="A label shared by the agency; records carry it by name.")
class Tag(relay.Node):
    id: relay.NodeID[str] = node_id()
    name: str = strawberry.field(description="The tag's text, unique in the agency.")
    color: str = strawberry.field(description="`#rrggbb`, or empty for the client's default.")

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, TagRecord))


@strawberry.type(description="How many records of one type you can see carry the tag.")
class TagUsageCount:
    record_type: TaggedRecordType = strawberry.field(description="A kind of record.")
    count: int = strawberry.field(description="How many records of that kind carry the tag.")


@strawberry.type(description="A tag and how many records you can see carry it.")
class TagWithUsage:
    tag: Tag = strawberry.field(description="The tag.")
    usage: list[TagUsageCount] = strawberry.field(
        description="One entry per record type that carries tags, zeros included."
    )
    total: int = strawberry.field(description="Records of every type carrying it.")


@strawberry.type(description="A problem with the input; nothing was changed.")
class TagError:
    field: str | None = error_field()
    code: TagErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class TagPayload:
    tag: Tag | None = payload_record("tag")
    errors: list[TagError] = payload_errors()


@strawberry.input(description="A tag for the agency's catalogue (at most 1,000; else TOO_MANY).")
class CreateTagInput:
    name: str = strawberry.field(
        description="1 to 50 characters, unique in the agency (else DUPLICATE_NAME)."
    )
    color: str = strawberry.field(default="", description="`#rrggbb` or empty.")


@strawberry.input(description="Fields left out are unchanged; a new name reaches every record.")
class UpdateTagInput:
    id: relay.GlobalID = node_id()
    name: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="1 to 50 characters; records carrying the tag follow the new name.",
    )
    color: str | None = strawberry.field(
        default=strawberry.UNSET, description="#rrggbb, or empty for none."
    )


@strawberry.input(description="The tag to delete; it is taken off every record.")
class DeleteTagInput:
    id: relay.GlobalID = node_id()


def _payload(outcome: Outcome[TagRecord]) -> TagPayload:
    return TagPayload(tag=outcome.value, errors=errors_as(TagError, outcome.errors))  # type: ignore[arg-type]


def _usage(usage: TagUsage) -> TagWithUsage:
    return TagWithUsage(
        tag=usage.tag,  # type: ignore[arg-type]
        usage=[TagUsageCount(record_type=kind, count=n) for kind, n in usage.counts.items()],
        total=usage.total,
    )


@strawberry.type
class TagQuery:
    @strawberry.field(
        description="The agency's tags by name. Records get tags by name: an unknown name joins "
        "the catalogue, a known one (in any letter case) is used as the catalogue spells it."
    )
    async def tags(self, info: Info) -> list[TagWithUsage]:
        return [_usage(usage) for usage in await resolve.tags_list(info.context)]


@strawberry.type
class TagMutation:
    @strawberry.mutation(description="Admins and sales heads: add a tag to the catalogue.")
    async def create_tag(
        self, info: Info, input: Annotated[CreateTagInput, MUTATION_INPUT]
    ) -> TagPayload:
        return _payload(await resolve.create_tag(info.context, input))

    @strawberry.mutation(
        description="Admins and sales heads: rename or recolour a tag; a rename is applied to "
        "every record carrying it."
    )
    async def update_tag(
        self, info: Info, input: Annotated[UpdateTagInput, MUTATION_INPUT]
    ) -> TagPayload:
        return _payload(await resolve.update_tag(info.context, input))

    @strawberry.mutation(
        description="Admins and sales heads: delete a tag; it is removed from every record."
    )
    async def delete_tag(
        self, info: Info, input: Annotated[DeleteTagInput, MUTATION_INPUT]
    ) -> TagPayload:
        return _payload(await resolve.delete_tag(info.context, input.id))
