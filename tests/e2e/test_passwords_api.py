"""Passwords through the API: a person changes their own (the current one required, their
other sessions end), and resets a forgotten one with the link an email brings, which works
once and not for long; asking answers alike whether or not the address has an account."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from db.audit import AuditEntry
from db.messages import Message
from db.sessions import PasswordReset
from db.users import User
from domain.roles import Role
from tests.e2e.colleagues import PASSWORD, colleague
from tests.e2e.conftest import Api
from tests.fixtures.flows import Flows
from tests.fixtures.smtp import SmtpServer

NEW_PASSWORD = "a brand new passphrase"
ME = "{ me { email } }"
CHANGE = """
mutation($current: String!, $new: String!) {
  changePassword(input: {currentPassword: $current, newPassword: $new}) {
    ok otherSessionsEnded errors { field code message }
  }
}"""
REQUEST = """
mutation($email: String!) {
  requestPasswordReset(input: {email: $email}) { ok errors { field code message } }
}"""
RESET = """
mutation($token: String!, $new: String!) {
  resetPassword(input: {token: $token, newPassword: $new}) { ok errors { field code message } }
}"""
LINK = re.compile(r"https?://\S+/reset-password/(\S+)")


async def session_works(api: Api) -> bool:
    body = (await api.post({"query": ME})).json()
    return "errors" not in body


async def email_of(user_api: Api) -> str:
    email: str = (await user_api.graphql(ME))["me"]["email"]
    return email


async def test_a_person_changes_their_password_and_their_other_sessions_end(api: Api) -> None:
    here, _ = await colleague(api, Role.SALES_PERSON)
    email = await email_of(here)
    elsewhere = await api.sign_in(email, PASSWORD)

    wrong = await here.graphql(CHANGE, {"current": "not it at all", "new": NEW_PASSWORD})
    weak = await here.graphql(CHANGE, {"current": PASSWORD, "new": "short"})
    changed = await here.graphql(CHANGE, {"current": PASSWORD, "new": NEW_PASSWORD})

    assert wrong["changePassword"]["errors"] == [
        {
            "field": "currentPassword",
            "code": "WRONG_PASSWORD",
            "message": "The current password is wrong.",
        }
    ]
    assert weak["changePassword"]["errors"][0]["code"] == "WEAK_PASSWORD"
    assert changed["changePassword"] == {"ok": True, "otherSessionsEnded": 1, "errors": []}
    assert await session_works(here), "the session that changed it is kept"
    assert not await session_works(elsewhere)
    login = await api.as_(None).post(
        {
            "query": "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p})"
            " { errors { code } } }",
            "variables": {"e": email, "p": PASSWORD},
        }
    )
    assert login.json()["data"]["login"]["errors"] == [{"code": "INVALID_CREDENTIALS"}]
    await api.sign_in(email, NEW_PASSWORD)
    user = await User.get(email=email)
    [audit] = await AuditEntry.filter(entity_id=str(user.id), action="change_password")
    assert audit.after == {"other_sessions_ended": 1}
    assert PASSWORD not in str(audit.before) + str(audit.after)


async def test_guessing_the_current_password_is_throttled_like_signing_in(api: Api) -> None:
    rep, _ = await colleague(api, Role.SALES_PERSON)
    codes = [
        (await rep.graphql(CHANGE, {"current": f"guess number {n}", "new": NEW_PASSWORD}))[
            "changePassword"
        ]["errors"][0]["code"]
        for n in range(6)
    ]
    assert codes == ["WRONG_PASSWORD"] * 5 + ["TOO_MANY_ATTEMPTS"]
    right = await rep.graphql(CHANGE, {"current": PASSWORD, "new": NEW_PASSWORD})
    assert right["changePassword"]["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"


async def timed_request(api: Api, email: str) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    data = await api.as_(None).graphql(REQUEST, {"email": email})
    return data["requestPasswordReset"], time.monotonic() - started


async def test_asking_for_a_reset_answers_alike_whether_the_address_has_an_account(
    api: Api,
) -> None:
    _, rep_id = await colleague(api, Role.SALES_PERSON)
    rep = await User.get(id=rep_id)

    known, known_time = await timed_request(api, rep.email.upper())
    unknown, unknown_time = await timed_request(api, "nobody.here@acme.example.com")

    assert known == unknown == {"ok": True, "errors": []}
    # Every answer takes at least the floor (300 ms), which the work stays well inside.
    assert known_time >= 0.3, known_time
    assert unknown_time >= 0.3, unknown_time
    rows = await PasswordReset.all().order_by("created_at")
    assert [(row.email, row.user_id) for row in rows] == [
        (rep.email, rep.id),
        ("nobody.here@acme.example.com", None),
    ]
    [message] = await Message.filter(record_type="user", record_id=str(rep.id))
    assert message.subject == "Reset your password"
    assert message.page_link == f"password_reset:{rows[0].id}"
    [audit] = await AuditEntry.filter(entity_id=str(rep.id), action="request_password_reset")
    assert (audit.before, audit.after) == ({}, {})

    # Throttled alike too: three a window per address asked for.
    for email in (rep.email, "nobody.here@acme.example.com"):
        answers = [(await timed_request(api, email))[0] for _ in range(3)]
        codes = [answer["errors"][0]["code"] if answer["errors"] else "OK" for answer in answers]
        assert codes == ["OK", "OK", "TOO_MANY_ATTEMPTS"], (email, codes)
    assert await Message.filter(record_type="user", record_id=str(rep.id)).count() == 3


async def reset_link(api: Api, sending: Flows, smtp_server: SmtpServer, user: User) -> str:
    """Ask for a reset of the user's password and return the token of the link the email
    brings (delivered by the real relay, worker and SMTP server)."""
    email = user.email
    assert (await api.as_(None).graphql(REQUEST, {"email": email}))["requestPasswordReset"][
        "errors"
    ] == []
    await sending.relay_all()
    queued = (
        await Message.filter(record_type="user", record_id=str(user.id)).order_by("-id").first()
    )
    assert queued is not None
    async with sending.worker():
        handle = sending.client.get_workflow_handle(f"message-{queued.agency_id}-{queued.id}")
        await sending.result(handle)
    received = smtp_server.messages[-1]
    assert received.rcpt_tos == [email]
    assert received.message["Subject"] == "Reset your password"
    assert "List-Unsubscribe" not in received.message
    body = received.message.get_body(("plain",))
    assert body is not None
    found = LINK.search(body.get_content())
    assert found, body.get_content()
    return found.group(1)


async def test_a_forgotten_password_is_reset_once_with_the_emailed_link(
    api: Api, sending: Flows, smtp_server: SmtpServer
) -> None:
    signed_in, rep_id = await colleague(api, Role.SALES_PERSON)
    user = await User.get(id=rep_id)
    email = user.email
    token = await reset_link(api, sending, smtp_server, user)
    anonymous = api.as_(None)

    weak = (await anonymous.graphql(RESET, {"token": token, "new": "short"}))["resetPassword"]
    done = (await anonymous.graphql(RESET, {"token": token, "new": NEW_PASSWORD}))["resetPassword"]
    again = await anonymous.graphql(RESET, {"token": token, "new": "yet another one!"})

    assert weak["errors"][0]["code"] == "WEAK_PASSWORD", "a weak password leaves the link good"
    assert done == {"ok": True, "errors": []}
    assert again["resetPassword"]["errors"][0]["code"] == "INVALID_LINK"
    assert not await session_works(signed_in), "every session ends with a reset"
    await api.sign_in(email, NEW_PASSWORD)
    [audit] = await AuditEntry.filter(entity_id=str(rep_id), action="reset_password")
    assert token not in str(audit.after)
    assert NEW_PASSWORD not in str(audit.after)

    # A link whose request has expired works no more, whatever its signature says.
    token = await reset_link(api, sending, smtp_server, user)
    await PasswordReset.filter(used_at__isnull=True).update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    late = await anonymous.graphql(RESET, {"token": token, "new": "too late for this"})
    assert late["resetPassword"]["errors"][0]["code"] == "INVALID_LINK"
    tampered = await anonymous.graphql(RESET, {"token": token[:-2] + "xx", "new": NEW_PASSWORD})
    assert tampered["resetPassword"]["errors"][0]["code"] == "INVALID_LINK"
