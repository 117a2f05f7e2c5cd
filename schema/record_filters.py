"""What every sales record list (contacts, customers, leads, deals, calling tasks) takes the
same way: the shared filter fields and the order direction. Each record's own `...Filter` and
`...Order` inputs extend these with its status enum, its links and its order fields."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from schema.custom_fields import CustomFieldCondition


@strawberry.enum(description="Which way a list is sorted.")
class OrderDirection(Enum):
    ASC = strawberry.enum_value("asc", description="Smallest, earliest or A first.")
    DESC = strawberry.enum_value("desc", description="Largest, latest or Z first.")


@strawberry.input(description="Criteria every sales record list takes; all given ones hold.")
class RecordFilter:
    search: str | None = strawberry.field(
        default=None, description="Part of the record's text, in any letter case."
    )
    tags: list[str] | None = strawberry.field(
        default=None, description="Only records carrying every one of these tags."
    )
    tags_any: list[str] | None = strawberry.field(
        default=None, description="Only records carrying at least one of these tags."
    )
    created_after: datetime | None = strawberry.field(default=None, description="Inclusive.")
    created_before: datetime | None = strawberry.field(default=None, description="Exclusive.")
    custom_fields: list[CustomFieldCondition] | None = strawberry.field(
        default=strawberry.UNSET, description="Conditions on custom field values (all hold)."
    )


@strawberry.input(description="How a sales record list is ordered.")
class RecordOrder:
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC,
        description="Ascending or descending; DESC (newest or highest first) when left out.",
    )
    custom_field: str | None = strawberry.field(
        default=None, description="A custom field's key: order by its value instead of `field`."
    )
