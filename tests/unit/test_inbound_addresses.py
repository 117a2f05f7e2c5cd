"""The agency's inbound addresses and the signed reply address on each message it sends."""

from __future__ import annotations

from pydantic import SecretStr

from domain.inbound_addresses import InboundAddress, Mailbox, parse_address, reply_address
from domain.signed_links import LinkConfig

LINKS = LinkConfig("https://crm.test", SecretStr("s" * 40), inbound_domain="in.crm.test")


def test_sales_and_support_of_an_agency_subdomain_are_its_mailboxes() -> None:
    assert parse_address(LINKS, "Sales@Acme.In.CRM.test") == InboundAddress("acme", Mailbox.SALES)
    assert parse_address(LINKS, "<support@acme.in.crm.test>") == InboundAddress(
        "acme", Mailbox.SUPPORT
    )


def test_a_reply_address_names_its_message_whatever_the_case_of_the_server() -> None:
    address = reply_address(LINKS, "acme", 42)

    assert parse_address(LINKS, address) == InboundAddress("acme", Mailbox.REPLY, 42)
    assert parse_address(LINKS, address.upper()) == InboundAddress("acme", Mailbox.REPLY, 42)
    assert len(address.partition("@")[0]) <= 64


def test_a_reply_token_is_good_only_for_its_message_and_its_agency() -> None:
    token = reply_address(LINKS, "acme", 42).partition("@")[0]
    other_message = token.replace("m42-", "m43-")

    assert parse_address(LINKS, f"{token}@bolt.in.crm.test") is None
    assert parse_address(LINKS, f"{other_message}@acme.in.crm.test") is None
    forger = LinkConfig(LINKS.public_url, SecretStr("another secret"), inbound_domain="in.crm.test")
    assert parse_address(LINKS, reply_address(forger, "acme", 42)) is None


def test_addresses_the_crm_does_not_receive_are_none() -> None:
    for address in (
        "sales@acme.example.com",  # another domain
        "sales@in.crm.test",  # no agency
        "sales@a.b.in.crm.test",  # not one label
        "billing@acme.in.crm.test",  # no such mailbox
        "reply@acme.in.crm.test",
        "reply+nonsense@acme.in.crm.test",
        "x" * 400 + "@acme.in.crm.test",
    ):
        assert parse_address(LINKS, address) is None, address
    off = LinkConfig(LINKS.public_url, LINKS.secret_key)
    assert parse_address(off, "sales@acme.in.crm.test") is None
    assert reply_address(off, "acme", 42) == ""
