"""Reading one row of the actor's agency for writing: agency settings (pipelines, tags,
custom fields, flows) lock their row so concurrent edits of it serialise on PostgreSQL.

SQLite serialises writers by itself; FOR UPDATE is dropped there. Sales records lock through
`domain.sales_records.locked`, which adds the row scope of the actor's role.
"""

from __future__ import annotations

from typing import Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from domain.actors import Actor

M = TypeVar("M", bound=Model)


async def locked_in_agency(
    model: type[M], actor: Actor, connection: BaseDBAsyncClient, **where: Any
) -> M | None:
    """The row of the actor's agency matching `where`, locked until the transaction ends."""
    found: M | None = (
        await model.filter(agency_id=actor.agency_id, **where)
        .using_db(connection)
        .select_for_update()
        .first()
    )
    return found
