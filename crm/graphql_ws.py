"""graphql-transport-ws with keep-alive: the server pings, and closes a peer that stops answering.

Strawberry sends no pings on this protocol. A client that vanished without closing (a laptop
lid, a dropped mobile link) would otherwise keep its subscriptions, and their queues, until
TCP gave up. The protocol's `ping`/`pong` messages also travel through proxies that do not
pass websocket control frames.

Also here: `encode_message`, which writes a `next` message around an event's data encoded
once for all the subscriptions it goes to (`schema.events.RenderedData`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import PongMessage

from resolvers.context import RequestContext
from schema.events import RenderedData

KEEP_ALIVE_TIMEOUT = 4499  # a private close code: "no pong in time"
DEFAULT_PING_SECONDS = 15.0
DEFAULT_PONG_TIMEOUT_SECONDS = 10.0


# One encoder: `json.dumps` with separators builds a new one on every call.
_compact = json.JSONEncoder(separators=(",", ":")).encode


def encode_message(message: object) -> str:
    """A message as Strawberry encodes it (compact JSON); a `next` message's shared data is
    spliced in as it was encoded once, the rest of the message encoded here."""
    payload = message.get("payload") if isinstance(message, dict) else None
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), RenderedData):
        return _compact(message)
    assert isinstance(message, dict)
    fields = []
    for key, value in message.items():
        if key == "payload":
            inner = ",".join(
                f"{_compact(k)}:{v.json if isinstance(v, RenderedData) else _compact(v)}"
                for k, v in payload.items()
            )
            fields.append(f"{_compact(key)}:{{{inner}}}")
        else:
            fields.append(f"{_compact(key)}:{_compact(value)}")
    return "{" + ",".join(fields) + "}"


class KeepAliveTransportWSHandler(BaseGraphQLTransportWSHandler[RequestContext, None]):
    """Pings every `view.ws_ping_seconds` once acknowledged; no pong within
    `view.ws_pong_timeout_seconds` closes the connection with 4499."""

    _pinger: asyncio.Task[None] | None = None
    _ponged: asyncio.Event | None = None

    def on_request_accepted(self) -> None:
        super().on_request_accepted()
        self._ponged = asyncio.Event()
        self._pinger = asyncio.create_task(self._keep_alive(), name="graphql-ws-keep-alive")

    async def handle_pong(self, message: PongMessage) -> None:
        if self._ponged is not None:
            self._ponged.set()

    async def shutdown(self) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pinger
        await super().shutdown()

    async def _ping_and_wait(self) -> None:
        assert self._ponged is not None
        self._ponged.clear()
        await self.send_message({"type": "ping"})
        await self._ponged.wait()

    async def _keep_alive(self) -> None:
        view: Any = self.view
        interval = getattr(view, "ws_ping_seconds", DEFAULT_PING_SECONDS)
        timeout = getattr(view, "ws_pong_timeout_seconds", DEFAULT_PONG_TIMEOUT_SECONDS)
        while True:
            await asyncio.sleep(interval)
            if not self.connection_acknowledged:
                continue
            try:
                async with asyncio.timeout(timeout):
                    await self._ping_and_wait()
            except TimeoutError:
                with contextlib.suppress(Exception):
                    await self.websocket.close(KEEP_ALIVE_TIMEOUT, "Keep-alive timeout: no pong")
                return
            except Exception:  # the connection is gone: the handler is shutting down
                return
