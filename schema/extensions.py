"""Schema extensions: operation names for the access log and masking of unexpected errors."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
    default_field_resolver,
)
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.types import ExecutionContext

from db.busy import RETRY_AFTER, DatabaseBusy, is_busy
from domain import tracing
from resolvers.context import unauthenticated
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
                return
            request.root_field = first_root_field(context)


def first_root_field(context: ExecutionContext) -> str | None:
    """The first root field the operation selects, if the schema has it (so the name is one
    of a bounded set, fit for a metric label)."""
    document = context.graphql_document
    if document is None:
        return None
    name = context.operation_name
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if name is not None and (definition.name is None or definition.name.value != name):
            continue
        root = context.schema._schema.get_root_type(definition.operation)
        for selection in definition.selection_set.selections:
            if isinstance(selection, FieldNode):
                field = selection.name.value
                return field if root is not None and field in root.fields else None
        return None
    return None


class OperationTracing(SchemaExtension):
    """A span around the operation while tracing is on (`crm/tracing.py`): its resolvers' SQL
    and the outbox rows they write are its children. The document and variables are not
    recorded (they can hold personal data), only the operation's type, name and root field."""

    def on_operation(self) -> Iterator[None]:
        with tracing.span("graphql") as span:
            yield
            if span is not None:
                request = current_request.get()
                if request is not None and request.operation_type:
                    name = f"{request.operation_type} {request.root_field or ''}".rstrip()
                    span.update_name(f"graphql {name}")
                    span.set_attribute("graphql.operation.type", request.operation_type)
                    span.set_attribute("graphql.operation.name", request.operation_name or "")


def _is_unexpected(error: GraphQLError) -> bool:
    """A bug, as opposed to a client error (syntax, validation, a domain error)."""
    return error.original_error is not None and not isinstance(error.original_error, GraphQLError)


BUSY = "BUSY"


def is_busy_error(error: GraphQLError) -> bool:
    """A field refused because the database was busy (see `MaskUnexpectedErrors`)."""
    return (error.extensions or {}).get("code") == BUSY


class MaskUnexpectedErrors(MaskErrors):
    """Log a bug with its traceback and the request id; show the client neither internals nor
    a stack, only the request id to quote.

    A write refused after waiting its bound for the database's lock is no bug: its transaction
    rolled back whole, so the client is told `BUSY` with when to try again, and the log gets a
    warning without a traceback.
    """

    def __init__(self) -> None:
        super().__init__(should_mask_error=_is_unexpected, error_message="Internal error.")

    def _process_result(self, result: object) -> None:
        # As Strawberry's, without its isinstance check against a runtime Protocol, which
        # costs about as much as the rest of a live event's delivery to one subscriber.
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request = current_request.get()
        request_id = request.request_id if request else ""
        original = error.original_error
        if original is not None and is_busy(original):
            log.warning(
                "database busy in %s",
                ".".join(str(p) for p in error.path or []) or "operation",
                extra={"request_id": request_id, "error": str(original)},
            )
            busy = GraphQLError(
                str(DatabaseBusy()), nodes=error.nodes, path=error.path, original_error=None
            )
            busy.extensions = {
                "code": BUSY,
                "retryAfter": int(RETRY_AFTER.total_seconds()),
                "requestId": request_id,
            }
            return busy
        log.error(
            "unexpected error in %s",
            ".".join(str(p) for p in error.path or []) or "operation",
            exc_info=(type(original), original, original.__traceback__) if original else None,
            extra={"request_id": request_id},
        )
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL", "requestId": request_id}
        return masked


INTROSPECTION_FIELDS = frozenset({"__schema", "__type", "__typename"})


def guard_root_fields(
    schema: GraphQLSchema, public_fields: frozenset[str], portal_fields: frozenset[str]
) -> None:
    """Every root field but the public ones (sign-in, introspection) needs a signed-in actor,
    and a customer portal session reaches only the portal's fields (`portal_fields`).

    This is the gate in front of everything; what a signed-in actor may see is decided by
    the domain's policies (which give a portal session, having no role, nothing). It wraps
    the resolvers of the root types' fields once, when the schema is built, rather than
    running as an extension's `resolve` hook: graphql-core calls such a hook for every field
    of every row (about 1,200 on a page of 100 contacts) only for it to let all but the root
    ones through. Introspection's root fields (`__schema`, `__type`, `__typename`) are not
    fields of the root types, so they stay public.
    """
    allowed = public_fields | INTROSPECTION_FIELDS
    for root_type in (schema.query_type, schema.mutation_type, schema.subscription_type):
        if root_type is None:
            continue
        for name, field in root_type.fields.items():
            if name not in allowed:
                field.resolve = _signed_in_only(
                    field.resolve or default_field_resolver, portal=name in portal_fields
                )
            if root_type is schema.subscription_type and name not in portal_fields:
                field.subscribe = _staff_subscription(field.subscribe)


def _signed_in_only(resolve: Callable[..., Any], portal: bool) -> Callable[..., Any]:
    def signed_in_only(root: Any, info: GraphQLResolveInfo[Any], *args: Any, **kwargs: Any) -> Any:
        actor = info.context.actor
        if actor is None:
            raise unauthenticated(info.context)
        if actor.is_portal and not portal:
            raise _portal_refused()
        return resolve(root, info, *args, **kwargs)

    return signed_in_only


def _portal_refused() -> GraphQLError:
    return GraphQLError(
        "A customer portal session reaches only the portal's fields.",
        extensions={"code": "FORBIDDEN"},
    )


def _staff_subscription(subscribe: Callable[..., Any] | None) -> Callable[..., Any] | None:
    """Subscriptions start from `subscribe`, before any resolver: refuse a portal session
    there too."""
    if subscribe is None:
        return None

    def staff_only(root: Any, info: GraphQLResolveInfo[Any], *args: Any, **kwargs: Any) -> Any:
        actor = info.context.actor
        if actor is not None and actor.is_portal:
            raise _portal_refused()
        return subscribe(root, info, *args, **kwargs)

    return staff_only
