"""GraphQL over HTTP as the spec describes it, on top of Strawberry's ASGI view.

Strawberry answers `application/json` only. The spec's newer media type
`application/graphql-response+json` also changes status codes: a request that fails before
execution (syntax or validation error) is a 400, so clients and proxies can tell it apart.

An operation refused whole because the database was busy (every root field `BUSY`, nothing
done) is a 503 with `Retry-After` in either media type, so retrying HTTP clients and proxies
retry it. When some root field succeeded it stays a 200: resending the document would repeat
the part that was done.

An operation refused by the caller's rate limits (`RATE_LIMITED`, `schema/rate_limits.py`)
is a 429 with `Retry-After` in either media type: nothing of it ran.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from crm.graphiql_page import GraphiQLPage
from crm.graphql_ws import (
    DEFAULT_PING_SECONDS,
    DEFAULT_PONG_TIMEOUT_SECONDS,
    KeepAliveTransportWSHandler,
    encode_message,
)
from db.busy import RETRY_AFTER
from domain import portal
from domain.auth import AuthConfig, actor_for_credentials
from domain.email_accounts import MailboxPolicy
from domain.errors import DomainError
from domain.live_events import LiveEvents
from domain.merges import DEFAULT_MERGE_UNDO_WINDOW
from domain.signed_links import LinkConfig
from domain.storage import Storage
from domain.webhook_deliveries import WebhookConfig
from resolvers.context import RequestContext
from schema.extensions import is_busy_error
from schema.observability import current_request
from schema.rate_limits import is_rate_limited_error

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"


def negotiate(accept: str) -> str | None:
    """The response media type for an Accept header, or None if we can serve none of it.

    A missing Accept is treated as `application/json`, as the spec asks for legacy clients.
    """
    if not accept.strip():
        return JSON
    ranges = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    for candidate in ranges:
        if candidate == GRAPHQL_RESPONSE_JSON:
            return GRAPHQL_RESPONSE_JSON
        if candidate in (JSON, "application/*", "*/*"):
            return JSON
    return None


def bearer(authorization: object) -> str | None:
    """The credentials of an `Authorization: Bearer <...>` value, if that is what it is."""
    if not isinstance(authorization, str):
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


class CrmGraphQL(GraphQL[RequestContext, None]):
    """The GraphQL endpoint: authenticates the caller once per request (or per websocket
    connection) into the context, and speaks both response media types."""

    graphql_transport_ws_handler_class = KeepAliveTransportWSHandler
    # Only graphql-transport-ws: the legacy graphql-ws protocol has no keep-alive of ours.
    protocols = (GRAPHQL_TRANSPORT_WS_PROTOCOL,)

    def __init__(
        self,
        *args: Any,
        auth: AuthConfig,
        ide_page: GraphiQLPage | None = None,
        live_events: LiveEvents | None = None,
        webhooks: WebhookConfig | None = None,
        inbound_domain: str = "",
        mailbox_policy: MailboxPolicy | None = None,
        storage: Storage | None = None,
        links: LinkConfig | None = None,
        public_url: str = "",
        merge_undo_window: timedelta = DEFAULT_MERGE_UNDO_WINDOW,
        ws_ping_seconds: float = DEFAULT_PING_SECONDS,
        ws_pong_timeout_seconds: float = DEFAULT_PONG_TIMEOUT_SECONDS,
        ws_connection_init_timeout_seconds: float = 10.0,
        **kwargs: Any,
    ) -> None:
        # GraphiQL from the package's own assets (Strawberry's template loads them from a CDN).
        kwargs["graphql_ide"] = "graphiql" if ide_page else None
        kwargs["connection_init_wait_timeout"] = timedelta(
            seconds=ws_connection_init_timeout_seconds
        )
        super().__init__(*args, **kwargs)
        self.auth = auth
        self.ide_page = ide_page
        self.live_events = live_events
        self.webhooks = webhooks or WebhookConfig()
        self.inbound_domain = inbound_domain
        self.mailbox_policy = mailbox_policy
        self.storage = storage
        self.links = links
        self.public_url = public_url
        self.merge_undo_window = merge_undo_window
        self.ws_ping_seconds = ws_ping_seconds
        self.ws_pong_timeout_seconds = ws_pong_timeout_seconds

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        log = current_request.get()
        context = RequestContext(
            request_id=log.request_id if log else "",
            auth=self.auth,
            client_address=request.client.host if request.client else "",
            live_events=self.live_events,
            webhooks=self.webhooks,
            inbound_domain=self.inbound_domain,
            mailbox_policy=self.mailbox_policy,
            storage=self.storage,
            links=self.links,
            public_url=self.public_url,
            merge_undo_window=self.merge_undo_window,
        )
        await self._authenticate(context, request.headers.get("authorization"))
        return context

    def encode_json(self, data: object) -> str:
        """As Strawberry encodes, but a live event's data, shared by many subscriptions, is
        encoded once (`crm.graphql_ws.encode_message`)."""
        return encode_message(data)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        assert self.ide_page is not None  # only called when graphql_ide is set
        return self.ide_page.page()

    async def on_ws_connect(self, context: RequestContext) -> UnsetType | dict[str, object] | None:
        """Browsers cannot set headers on websockets: credentials may come in connection_init
        (`{"Authorization": "Bearer ..."}`). Bad credentials close the connection (4403)."""
        params = context.connection_params or {}
        given = params.get("Authorization", params.get("authorization"))
        if given is not None:
            await self._authenticate(context, given)
            if context.actor is None:
                raise ConnectionRejectionError({"message": context.auth_problem})
        unset: UnsetType = UNSET
        return unset

    async def _authenticate(self, context: RequestContext, authorization: object) -> None:
        if authorization is None:
            return
        credentials = bearer(authorization)
        if credentials is None:
            context.auth_problem = "Use `Authorization: Bearer <access token or API key>`."
            return
        try:
            if credentials.startswith(portal.TOKEN_PREFIX) and self.links is not None:
                context.actor = await portal.portal_actor(
                    self.links, credentials, context.request_id
                )
            else:
                context.actor = await actor_for_credentials(
                    self.auth, credentials, context.request_id
                )
        except DomainError as exc:
            context.actor, context.auth_problem = None, exc.message

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        try:
            return await super().execute_single(*args, **kwargs)
        except HTTPException as exc:
            if isinstance(exc.__cause__, InvalidOperationTypeError):
                # A mutation over GET: the method is wrong, not the request (spec: 405).
                raise HTTPException(405, exc.reason) from exc
            raise

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        request_error = (
            result.data is None and result.errors and all(e.path is None for e in result.errors)
        )
        if request_error:
            # Nothing was executed: a syntax or validation error in the request itself.
            request.state.graphql_request_error = True
        if refused_as_busy(result):
            request.state.graphql_busy = True
        if (retry_after := refused_by_rate_limit(result)) is not None:
            request.state.graphql_retry_after = retry_after
        response = await super().process_result(request, result)
        if request_error and getattr(request.state, "graphql_media_type", None) == (
            GRAPHQL_RESPONSE_JSON
        ):
            # GraphQL over HTTP: a request error's response has no `data` entry at all.
            response.pop("data", None)
        return response

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        media_type = negotiate(request.headers.get("accept", ""))
        if media_type is None and not self._wants_ide(request):
            response: Response = PlainTextResponse(
                f"Acceptable media types: {GRAPHQL_RESPONSE_JSON}, {JSON}", status_code=406
            )
            await response(scope, receive, send)
            return

        request.state.graphql_media_type = media_type

        async def send_with_media_type(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = self._response_start(request, media_type, message)
            await send(message)

        await super().__call__(request.scope, request.receive, send_with_media_type)

    def _response_start(self, request: Request, media_type: str | None, message: Any) -> Any:
        """The status and headers of the response as this request's media type wants them."""
        headers = list(message["headers"])
        status = message["status"]
        content_type = message_content_type(message)
        if getattr(request.state, "graphql_busy", False):
            status = 503
            headers.append((b"retry-after", str(int(RETRY_AFTER.total_seconds())).encode()))
        rate_retry_after = getattr(request.state, "graphql_retry_after", None)
        if rate_retry_after is not None:
            status = 429
            headers.append((b"retry-after", str(rate_retry_after).encode()))
        if media_type == GRAPHQL_RESPONSE_JSON:
            headers = [(k, v) for k, v in headers if k.lower() != b"content-type"]
            if content_type.startswith(JSON):
                headers.append(
                    (b"content-type", f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8".encode())
                )
                if getattr(request.state, "graphql_request_error", False) and status == 200:
                    status = 400
            else:
                headers.append((b"content-type", content_type.encode()))
        return {**message, "status": status, "headers": headers}

    def _wants_ide(self, request: Request) -> bool:
        return (
            bool(self.graphql_ide)
            and request.method == "GET"
            and "text/html" in request.headers.get("accept", "")
        )


def refused_as_busy(result: ExecutionResult) -> bool:
    """Every root field failed as BUSY: nothing of the operation was done."""
    if not result.errors or not all(is_busy_error(error) for error in result.errors):
        return False
    return result.data is None or all(value is None for value in result.data.values())


def refused_by_rate_limit(result: ExecutionResult) -> int | None:
    """Seconds until the caller may send again, when a rate limit refused the operation."""
    if result.data is not None or not result.errors:
        return None
    if not all(is_rate_limited_error(error) for error in result.errors):
        return None
    return max(int((error.extensions or {}).get("retryAfter", 1)) for error in result.errors)


def message_content_type(message: Any) -> str:
    for key, value in message["headers"]:
        if key.lower() == b"content-type":
            return str(value.decode())
    return ""
