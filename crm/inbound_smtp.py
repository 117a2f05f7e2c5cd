"""`crm inbound`: the SMTP server agencies' mail reaches the CRM through.

It accepts only addresses of an existing agency under the inbound domain (`sales@`,
`support@`, signed `reply+` addresses), at most `inbound_max_recipients` of them and
`inbound_max_bytes` of data a message, and `inbound_sender_per_minute` messages a minute from
one sender; everything else gets a clear SMTP refusal, permanent (5xx) for what will never
be accepted, temporary (4xx) for what may be later. A message is acknowledged only once it
is stored (`domain.inbound_emails.receive`), so an acknowledged message is never lost.

The server runs on the process's own event loop (not aiosmtpd's threaded Controller): the
handler's database calls share the loop of the Tortoise connections. Production puts it
behind the agency's mail server or an MX host that does TLS and spam filtering, and relays
the agency's addresses to it; the README says how.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from crm.settings import Settings
from db.agencies import Agency
from db.busy import is_busy
from db.connection import database
from domain.inbound_addresses import parse_address
from domain.inbound_emails import Delivery, receive
from domain.inbound_parsing import MalformedEmail
from domain.signed_links import LinkConfig, fingerprint
from domain.storage import Storage

log = logging.getLogger("crm.inbound")

NO_SUCH_MAILBOX = "550 5.1.1 No such mailbox here"
TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients"
SENDER_THROTTLED = "451 4.7.1 Too many messages from this sender, try again later"
MALFORMED = "550 5.6.0 Message refused: {reason}"
TRY_LATER = "451 4.3.0 The message could not be stored, try again later"
ACCEPTED = "250 2.0.0 Message accepted"
DUPLICATE = "250 2.0.0 Message already received"
RATE_WINDOW_SECONDS = 60.0
MAX_SENDERS = 10_000  # senders remembered before the idle ones are forgotten


@dataclass(frozen=True, slots=True)
class InboundLimits:
    max_bytes: int = 10 * 1024 * 1024
    max_recipients: int = 20
    sender_per_minute: int = 30


class SenderRate:
    """Messages each sender delivered in the last minute (this process's count)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._per_minute = per_minute
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}

    def allows(self, sender: str) -> bool:
        now = self._clock()
        if len(self._seen) > MAX_SENDERS:  # forget senders idle for a whole window
            self._seen = {
                key: times
                for key, times in self._seen.items()
                if times and now - times[-1] <= RATE_WINDOW_SECONDS
            }
        seen = self._seen.setdefault(sender.lower(), deque())
        while seen and now - seen[0] > RATE_WINDOW_SECONDS:
            seen.popleft()
        return len(seen) < self._per_minute

    def count(self, sender: str) -> None:
        self._seen.setdefault(sender.lower(), deque()).append(self._clock())


class InboundHandler:
    """aiosmtpd handler: checks each step of the conversation, stores what it accepts."""

    def __init__(self, storage: Storage, links: LinkConfig, limits: InboundLimits) -> None:
        self._storage = storage
        self._links = links
        self._limits = limits
        self._rate = SenderRate(limits.sender_per_minute)

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if not self._rate.allows(address):
            log.info("sender throttled", extra={"sender": fingerprint(address.lower())})
            return SENDER_THROTTLED
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if len(envelope.rcpt_tos) >= self._limits.max_recipients:
            return TOO_MANY_RECIPIENTS
        parsed = parse_address(self._links, address)
        if parsed is None or not await Agency.exists(slug=parsed.agency_slug):
            return NO_SUCH_MAILBOX
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        raw = content.encode() if isinstance(content, str) else content
        delivery = Delivery(
            raw=raw, envelope_from=envelope.mail_from or "", recipients=tuple(envelope.rcpt_tos)
        )
        try:
            taken = await receive(self._storage, self._links, delivery)
        except MalformedEmail as malformed:
            return MALFORMED.format(reason=str(malformed))
        except Exception as error:
            if not is_busy(error) and not isinstance(error, OSError):
                log.exception("inbound message not stored")
            else:
                log.warning("inbound message not stored: %s", type(error).__name__)
            return TRY_LATER
        self._rate.count(envelope.mail_from or "")
        log.info(
            "inbound message stored",
            extra={"sender": fingerprint((envelope.mail_from or "").lower()), "bytes": len(raw)},
        )
        return ACCEPTED if taken else DUPLICATE


def inbound_limits(settings: Settings) -> InboundLimits:
    return InboundLimits(
        max_bytes=settings.inbound_max_bytes,
        max_recipients=settings.inbound_max_recipients,
        sender_per_minute=settings.inbound_sender_per_minute,
    )


class _Session(SMTP):
    """aiosmtpd's protocol, remembered while its client is connected."""

    def __init__(self, sessions: set[_Session], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sessions = sessions

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._sessions.add(self)

    def connection_lost(self, error: Exception | None) -> None:
        self._sessions.discard(self)
        super().connection_lost(error)


@dataclass
class InboundServer:
    """The listening server and its open sessions. Stopping ends both: asyncio's own server
    (before Python 3.13) leaves accepted connections open, each a socket nobody closes."""

    server: asyncio.Server
    sessions: set[_Session]

    def close(self) -> None:
        self.server.close()
        for session in list(self.sessions):
            if session.transport is not None:
                session.transport.close()

    async def wait_closed(self) -> None:
        await self.server.wait_closed()


async def start_server(
    handler: InboundHandler, host: str, port: int, max_bytes: int
) -> InboundServer:
    """Listen on the running loop; each connection gets its own SMTP protocol."""
    loop = asyncio.get_running_loop()
    sessions: set[_Session] = set()
    server = await loop.create_server(
        lambda: _Session(
            sessions,
            handler,
            data_size_limit=max_bytes,
            hostname="crm-inbound",
            ident="CRM inbound",
            enable_SMTPUTF8=True,
        ),
        host=host,
        port=port,
    )
    return InboundServer(server, sessions)


async def run_inbound(
    settings: Settings, stop: asyncio.Event, ready: asyncio.Event | None = None
) -> None:
    """Serve until `stop` is set (a Tortoise context of its own, as the worker has)."""
    async with database(settings.database_url, settings.database_lock_wait):
        handler = InboundHandler(
            settings.storage(), settings.unsubscribe_links(), inbound_limits(settings)
        )
        server = await start_server(
            handler, settings.inbound_host, settings.inbound_port, settings.inbound_max_bytes
        )
        log.info(
            "inbound SMTP listening",
            extra={
                "address": f"{settings.inbound_host}:{settings.inbound_port}",
                "domain": settings.inbound_domain,
            },
        )
        if ready is not None:
            ready.set()
        try:
            await stop.wait()
        finally:
            server.close()
            await server.wait_closed()
