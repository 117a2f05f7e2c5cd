"""The booking page as a contact uses it: in a real headless chromium, pick one of the times a
sales person offered (shown in the agency's time zone); a page that says so when every time
has passed, another when a time was taken meanwhile, and a bad link that names nobody."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Page, expect
from pydantic import SecretStr
from strawberry import relay

from crm.settings import Settings
from db.agencies import Agency
from db.meetings import Meeting, MeetingSlot
from domain import meetings
from domain.roles import Role
from domain.signed_links import LinkConfig, LinkPurpose, sign
from tests.e2e.colleagues import colleague
from tests.e2e.conftest import Api
from tests.e2e.test_meetings_api import a_contact, propose
from tests.fixtures.served_api import served

# Two times in winter and summer: London is UTC+0 in one and UTC+1 in the other.
WINTER = datetime(2099, 1, 15, 10, 0, tzinfo=UTC)
SUMMER = datetime(2099, 7, 15, 10, 0, tzinfo=UTC)


async def a_proposal(api: Api, *slots: datetime) -> tuple[Api, uuid.UUID, uuid.UUID]:
    """A sales person's proposal to Grace (in an agency on London time): the sales person
    (signed in), their user id and the meeting's id."""
    rep, rep_id = await colleague(api, Role.SALES_PERSON)
    agency = await Agency.get(slug="acme")
    agency.time_zone = "Europe/London"
    await agency.save(update_fields=["time_zone"])
    contact_id = await a_contact(api, rep_id)
    proposed = await propose(rep, contact_id, *(s.isoformat() for s in slots))
    assert proposed["errors"] == []
    return rep, rep_id, uuid.UUID(relay.GlobalID.from_id(proposed["meeting"]["id"]).node_id)


def path_of(settings: Settings, meeting_id: uuid.UUID) -> str:
    return f"/book/{sign(settings.unsubscribe_links(), LinkPurpose.BOOKING, str(meeting_id))}"


async def test_a_contact_picks_a_time_in_a_browser(
    api: Api, settings: Settings, browser_page: Page
) -> None:
    _, _, meeting_id = await a_proposal(api, WINTER, SUMMER)

    async with served(settings) as address:
        page = browser_page
        response = await page.goto(f"http://{address}{path_of(settings, meeting_id)}")
        assert response is not None
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert response.headers["referrer-policy"] == "no-referrer"
        await expect(page.get_by_role("heading", name="Discovery call")).to_be_visible()
        await expect(page.get_by_text("Room 4, 1 Fleet Street")).to_be_visible()
        winter = page.get_by_label("Thursday 15 January 2099, 10:00\u201310:45 (Europe/London)")
        summer = page.get_by_label("Wednesday 15 July 2099, 11:00\u201311:45 (Europe/London)")
        await expect(winter).to_be_visible()
        await expect(summer).to_be_visible()

        await summer.check()
        await page.get_by_role("button", name="Book this time").click()

        await expect(page.get_by_role("status")).to_have_text(
            "Your meeting is booked: Wednesday 15 July 2099, 11:00\u201311:45 (Europe/London)."
        )
        await page.reload()
        await expect(page.get_by_role("button", name="Book this time")).to_have_count(0)
    meeting = await Meeting.get(id=meeting_id)
    assert (meeting.status, meeting.starts_at) == ("booked", SUMMER)


async def test_a_time_taken_meanwhile_is_not_booked_and_the_others_stay(
    api: Api, settings: Settings
) -> None:
    rep, rep_id, meeting_id = await a_proposal(api, WINTER, SUMMER)
    path = path_of(settings, meeting_id)
    shown = await api.client.get(path)
    winter_slot = (await MeetingSlot.filter(meeting_id=meeting_id).order_by("starts_at"))[0]
    # Another contact books the same hour first.
    other = await propose(rep, await a_contact(api, rep_id), WINTER.isoformat())
    other_id = uuid.UUID(relay.GlobalID.from_id(other["meeting"]["id"]).node_id)
    other_slot = await MeetingSlot.get(meeting_id=other_id)
    await meetings.book_meeting(other_id, other_slot.id)

    posted = await api.client.post(path, data={"slot": str(winter_slot.id)})

    assert shown.status_code == 200
    assert "Thursday 15 January 2099" in shown.text
    assert posted.status_code == 200
    assert "That time is no longer available: pick another." in posted.text
    assert "Thursday 15 January 2099" not in posted.text
    assert "Wednesday 15 July 2099" in posted.text
    assert (await Meeting.get(id=meeting_id)).status == "proposed"


async def test_when_every_time_has_passed_the_page_says_so(api: Api, settings: Settings) -> None:
    _, _, meeting_id = await a_proposal(api, WINTER, SUMMER)
    slots = await MeetingSlot.filter(meeting_id=meeting_id).order_by("starts_at")
    past = datetime.now(UTC) - timedelta(days=1)
    await MeetingSlot.filter(meeting_id=meeting_id).update(
        starts_at=past, ends_at=past + timedelta(minutes=45)
    )
    path = path_of(settings, meeting_id)

    shown = await api.client.get(path)
    posted = await api.client.post(path, data={"slot": str(slots[0].id)})

    for response in (shown, posted):
        assert response.status_code == 410
        assert "None of these times is available any more" in response.text
        assert "Book this time" not in response.text
    assert (await Meeting.get(id=meeting_id)).status == "proposed"


@pytest.mark.parametrize("tamper", ["forged", "altered", "expired", "gone", "unsubscribe"])
async def test_a_bad_link_gets_a_page_that_names_nobody(
    api: Api, settings: Settings, tamper: str
) -> None:
    _, _, meeting_id = await a_proposal(api, WINTER)
    links = settings.unsubscribe_links()
    subject = str(meeting_id)
    if tamper == "forged":
        token = sign(
            LinkConfig(links.public_url, SecretStr("another")), LinkPurpose.BOOKING, subject
        )
    elif tamper == "altered":
        good = sign(links, LinkPurpose.BOOKING, subject)
        token = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    elif tamper == "expired":
        expired = LinkConfig(
            links.public_url, links.secret_key, booking_lifetime=-links.booking_lifetime
        )
        token = sign(expired, LinkPurpose.BOOKING, subject)
    elif tamper == "gone":
        token = sign(links, LinkPurpose.BOOKING, str(uuid.uuid4()))
    else:  # a good link of another page
        token = sign(links, LinkPurpose.UNSUBSCRIBE, 1)
    slot = await MeetingSlot.get(meeting_id=meeting_id)

    shown = await api.client.get(f"/book/{token}")
    posted = await api.client.post(f"/book/{token}", data={"slot": str(slot.id)})

    for response in (shown, posted):
        assert response.status_code == 404
        assert "This link does not work" in response.text
        for named in ("Acme", "Discovery", "Grace", "example.com", "Room 4"):
            assert named not in response.text
    assert (await Meeting.get(id=meeting_id)).status == "proposed"


async def test_the_booking_link_is_not_written_to_the_request_log(
    api: Api, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    _, _, meeting_id = await a_proposal(api, WINTER)
    path = path_of(settings, meeting_id)

    with caplog.at_level(logging.INFO):
        await api.client.get(path)
        await api.client.get(path[:-4] + "AAAA")

    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("crm"))
    token = path.removeprefix("/book/")
    assert token not in logged
    assert token[:-4] not in logged
    assert "GET /book/" in logged
