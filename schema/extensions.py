"""Schema extensions: operation names for the access log and masking of unexpected errors."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import MaskErrors, SchemaExtension

from schema.observability import current_request

log = logging.getLogger("crm.api")


class OperationLog(SchemaExtension):
    """Record the operation's name and type on the request log."""

    def on_operation(self) -> Iterator[None]:
        yield
        request = current_request.get()
        if request is not None:
            context = self.execution_context
            request.operation_name = context.operation_name
            try:
                request.operation_type = context.operation_type.value
            except RuntimeError:  # the document did not parse
                request.operation_type = None


def _is_unexpected(error: GraphQLError) -> bool:
    """A bug, as opposed to a client error (syntax, validation, a domain error)."""
    return error.original_error is not None and not isinstance(error.original_error, GraphQLError)


class MaskUnexpectedErrors(MaskErrors):
    """Log a bug with its traceback and the request id; show the client neither internals nor
    a stack, only the request id to quote."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=_is_unexpected, error_message="Internal error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request = current_request.get()
        request_id = request.request_id if request else ""
        original = error.original_error
        log.error(
            "unexpected error in %s",
            ".".join(str(p) for p in error.path or []) or "operation",
            exc_info=(type(original), original, original.__traceback__) if original else None,
            extra={"request_id": request_id},
        )
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL", "requestId": request_id}
        return masked
