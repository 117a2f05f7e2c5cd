"""The floor the API is compared with: a bare Strawberry `{ hello }` app, no database, no
middleware, no sign-in (`bench/concurrent_load.py` serves it with uvicorn as `crm serve` is)."""

from __future__ import annotations

import strawberry
from strawberry.asgi import GraphQL

HELLO = "{ hello }"


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"


app = GraphQL(strawberry.Schema(query=Query))
