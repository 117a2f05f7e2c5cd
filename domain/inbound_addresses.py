"""The addresses an agency receives mail at, and the reply address on each message it sends.

Every agency gets a mail domain of its own under the operator's inbound domain, named by its
slug (`acme.inbound.example`), so no agency can claim another's mail: `sales@` (an unknown
sender becomes a lead), `support@`, and `reply+<token>@` on everything the CRM sends. The
token names the message and is signed with a key derived from the application secret for
this purpose alone; it is short and lower-case because local parts are at most 64 characters
and some servers change their case. It carries no expiry: people answer years later.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from enum import StrEnum

from domain.signed_links import LinkConfig

PURPOSE = b"crm reply addresses v1"
_SIGNATURE_HEX = 16
_REPLY_TOKEN = re.compile(rf"^m([0-9]{{1,18}})-([0-9a-f]{{{_SIGNATURE_HEX}}})$")
MAX_ADDRESS_LENGTH = 320


class Mailbox(StrEnum):
    """Where a message came in: what the sender wrote to decides how it is routed."""

    SALES = "sales"
    SUPPORT = "support"
    REPLY = "reply"


@dataclass(frozen=True, slots=True)
class InboundAddress:
    """A recipient the CRM accepts: the agency (by slug), the mailbox, and for a reply
    address the message it answers."""

    agency_slug: str
    mailbox: Mailbox
    message_id: int | None = None


def agency_domain(links: LinkConfig, slug: str) -> str:
    return f"{slug}.{links.inbound_domain}"


def mailbox_address(links: LinkConfig, slug: str, mailbox: Mailbox) -> str:
    return f"{mailbox}@{agency_domain(links, slug)}"


def _signature(links: LinkConfig, slug: str, message_id: int) -> str:
    """Over the agency and the message: a token seen in one agency's mail means nothing
    under another's domain."""
    key = hmac.new(links.secret_key.get_secret_value().encode(), PURPOSE, "sha256").digest()
    mac = hmac.new(key, f"{slug}:{message_id}".encode(), "sha256").hexdigest()
    return mac[:_SIGNATURE_HEX]


def reply_address(links: LinkConfig, slug: str, message_id: int) -> str:
    """Where an answer to the message goes (empty when inbound mail is off)."""
    if not links.inbound_domain:
        return ""
    token = f"m{message_id}-{_signature(links, slug, message_id)}"
    return f"reply+{token}@{agency_domain(links, slug)}"


def parse_address(links: LinkConfig, address: str) -> InboundAddress | None:
    """What a recipient address means, or None for one the CRM does not receive (another
    domain, an unknown mailbox, a reply token it did not sign)."""
    if not links.inbound_domain or len(address) > MAX_ADDRESS_LENGTH:
        return None
    local, at, domain = address.strip().strip("<>").lower().rpartition("@")
    suffix = "." + links.inbound_domain.lower()
    if not at or not domain.endswith(suffix):
        return None
    slug = domain[: -len(suffix)]
    if not slug or "." in slug:
        return None
    if local in (Mailbox.SALES, Mailbox.SUPPORT):
        return InboundAddress(slug, Mailbox(local))
    name, plus, token = local.partition("+")
    matched = _REPLY_TOKEN.match(token) if name == Mailbox.REPLY and plus else None
    if matched is None:
        return None
    message_id = int(matched.group(1))
    if not hmac.compare_digest(matched.group(2), _signature(links, slug, message_id)):
        return None
    return InboundAddress(slug, Mailbox.REPLY, message_id)
