"""Arguments and fields many types share, described once: a page's size and cursor, a
mutation's one input, a payload's errors, an error's parts, a record's id and timestamps."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry import relay

from domain.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

First = Annotated[
    int,
    strawberry.argument(
        description=f"How many to return: 0 to {MAX_PAGE_SIZE} (others are refused as "
        f"INVALID_PAGE_SIZE), {DEFAULT_PAGE_SIZE} when left out."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description="Start after this cursor (`pageInfo.endCursor` of the previous page; "
        "another is refused as INVALID_CURSOR); leave out for the first page."
    ),
]
MUTATION_INPUT = strawberry.argument(
    description="The mutation's one input; its type describes each field and its limits."
)


def payload_errors() -> Any:
    return strawberry.field(
        description="Why nothing was changed, one entry per problem; empty when it succeeded."
    )


def payload_record(name: str) -> Any:
    return strawberry.field(
        description=f"The {name} as it is after the mutation; null when `errors` is not empty."
    )


def error_field() -> Any:
    return strawberry.field(
        description="The input field at fault, as a path (e.g. `emails.0`); null when the "
        "problem is not about one field."
    )


def error_code() -> Any:
    return strawberry.field(description="What went wrong, for programs to act on.")


def error_message() -> Any:
    return strawberry.field(description="What went wrong, in words to show a person.")


def node_id() -> Any:
    return strawberry.field(
        description="The record's global id, as `node(id:)` and the mutations take it."
    )


def created_at() -> Any:
    return strawberry.field(description="When it was created.")


def updated_at() -> Any:
    return strawberry.field(description="When it last changed.")


RecordId = Annotated[
    relay.GlobalID,
    strawberry.argument(
        description="The record's global id; null comes back when no such record is visible "
        "to you (the two are not told apart)."
    ),
]
FILTER = strawberry.argument(
    description="Only the records matching every condition given; leave out for all you may see."
)
CampaignCode = Annotated[
    str,
    strawberry.argument(
        description="A campaign's code, as in its public links (a code longer than 40 "
        "characters gives null)."
    ),
]
ORDER = strawberry.argument(description="Sort order; newest first when left out.")
