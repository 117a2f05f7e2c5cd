"""Request-scoped facts for the access log, filled in while a GraphQL operation runs.

The ASGI middleware puts a `RequestLog` in the context before calling the app; the schema
extension writes the operation name into it; the middleware logs it when the response ends.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(slots=True)
class RequestLog:
    request_id: str
    operation_name: str | None = None
    operation_type: str | None = None
    # The operation's first root field, when the schema has it: a bounded metric label.
    root_field: str | None = None


current_request: ContextVar[RequestLog | None] = ContextVar("current_request", default=None)
