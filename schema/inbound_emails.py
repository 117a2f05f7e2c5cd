"""Mail the CRM received: who wrote, what is new in it, and where it went."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.inbound_emails import InboundEmail as InboundEmailRecord
from schema.shared_fields import node_id


@strawberry.type(
    description="A message the CRM received (at a sales or support address, as a reply to one "
    "of its messages, or from a connected mailbox). Only its text is kept readable: the HTML "
    "of a message is never served."
)
class ReceivedEmail(relay.Node):
    id: relay.NodeID[str] = node_id()
    mailbox: str = strawberry.field(
        description="sales, support or reply (a reply address); mail fetched from a connected "
        "mailbox has the mailbox's purpose."
    )
    from_address: str = strawberry.field(description="The sender's address.")
    from_name: str = strawberry.field(description="The sender's display name, if any.")
    subject: str = strawberry.field(description="The subject.")
    text_body: str = strawberry.field(description="The whole text (HTML turned into text).")
    reply_text: str = strawberry.field(
        description="What is new: the text without the quoted history and the signature."
    )
    outcome: str = strawberry.field(
        description="reply, message (from a known person), new_lead, auto_reply, bounce, or "
        "unmatched (an unknown sender to a support address)."
    )
    authentication_results: str = strawberry.field(
        description="The Authentication-Results header as received (SPF, DKIM, DMARC)."
    )
    received_at: datetime = strawberry.field(description="When it arrived.")

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, InboundEmailRecord))

    @classmethod
    def from_row(cls, row: InboundEmailRecord) -> ReceivedEmail:
        return row  # type: ignore[return-value]

    @strawberry.field(description="The Contact it came from, once known.")
    def contact_id(self, root: strawberry.Parent[InboundEmailRecord]) -> relay.GlobalID | None:
        return relay.GlobalID("Contact", str(root.contact_id)) if root.contact_id else None

    @strawberry.field(description="The Lead it made or joined.")
    def lead_id(self, root: strawberry.Parent[InboundEmailRecord]) -> relay.GlobalID | None:
        return relay.GlobalID("Lead", str(root.lead_id)) if root.lead_id else None

    @strawberry.field(description="The CRM's Message it answers.")
    def in_reply_to_id(self, root: strawberry.Parent[InboundEmailRecord]) -> relay.GlobalID | None:
        message_id = root.reply_to_message_id
        return relay.GlobalID("Message", str(message_id)) if message_id is not None else None
