"""One IMAP conversation with a connected mailbox (imaplib, blocking: callers run it in a
thread): signed in, the folder examined read-only, the socket opened to the address the
mailbox policy checked and TLS verified against the host name."""

from __future__ import annotations

import imaplib
import re
import socket
import ssl
from dataclasses import dataclass
from typing import Any

from domain.webhook_targets import IpAddress

TIMEOUT_SECONDS = 30.0
SSL = "ssl"
STARTTLS = "starttls"


@dataclass(frozen=True, slots=True)
class MailboxLogin:
    host: str
    port: int
    security: str  # ssl, starttls or none
    username: str
    password: str
    folder: str


class ImapSession(imaplib.IMAP4):
    """IMAP4 to a checked address; TLS (if any) verified against the host name."""

    def __init__(self, host: str, port: int, address: IpAddress, tls: bool) -> None:
        self._address = str(address)
        self._tls = tls
        super().__init__(host, port, timeout=TIMEOUT_SECONDS)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        raw = socket.create_connection((self._address, self.port), timeout)
        if not self._tls:
            return raw
        return ssl.create_default_context().wrap_socket(raw, server_hostname=self.host)


def ok(response: tuple[str, list[Any]], what: str) -> list[Any]:
    status, data = response
    if status != "OK":
        raise imaplib.IMAP4.error(f"{what} failed")
    return data


def _number(imap: ImapSession, name: str) -> int:
    """A response code of the last SELECT/EXAMINE (`* OK [UIDNEXT 7] ...`), 0 if absent.

    imaplib files a code under its own name or leaves it in the OK lines, by server."""
    lines = [*imap.untagged_responses.get(name, []), *imap.untagged_responses.get("OK", [])]
    pattern = re.compile(rb"^\[?" + name.encode() + rb"\s+(\d+)|^(\d+)$")
    for line in lines:
        found = pattern.match(line if isinstance(line, bytes) else str(line).encode())
        if found is not None:
            return int(found.group(1) or found.group(2))
    return 0


def open_folder(login: MailboxLogin, address: IpAddress) -> tuple[ImapSession, int, int]:
    """Signed in and the folder examined: the session, the folder's UIDVALIDITY and UIDNEXT
    (0 when the server does not say)."""
    imap = ImapSession(login.host, login.port, address, tls=login.security == SSL)
    try:
        if login.security == STARTTLS:
            imap.starttls(ssl.create_default_context())
        imap.login(login.username, login.password)
        folder = login.folder.replace("\\", "\\\\").replace('"', '\\"')
        ok(imap.select(f'"{folder}"', readonly=True), "EXAMINE")
        return imap, _number(imap, "UIDVALIDITY"), _number(imap, "UIDNEXT")
    except BaseException:
        imap.shutdown()
        raise


def close(imap: ImapSession) -> None:
    try:
        imap.logout()
    except (OSError, imaplib.IMAP4.error):
        imap.shutdown()


def baseline(login: MailboxLogin, address: IpAddress) -> tuple[int, int]:
    """Sign in once (the credentials work) and read where new mail will start: UIDVALIDITY
    and the last UID in the folder now."""
    imap, validity, next_uid = open_folder(login, address)
    close(imap)
    return validity, max(next_uid - 1, 0)
