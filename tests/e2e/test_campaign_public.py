"""A public campaign as anyone on the web uses it, over HTTP: its page and widget (counted as
views), a like counted once per browser, and a sign-up that becomes one contact of the agency
(found again by email or phone), attributed to the campaign and its referrer, with the consent
it gave; bots, floods, framing by other sites, and campaigns that are not public."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from strawberry import relay

from crm.flow_files import load_default_flows
from crm.settings import Settings
from db.campaigns import Campaign, CampaignAttribution
from db.contacts import Contact
from db.events import Event
from db.message_preferences import ConsentChange, MessagePreference
from db.outbox import OutboxMessage
from db.users import User
from domain.campaign_counters import totals
from domain.campaign_page import find_campaign, form_token
from domain.flows.service import seed_default_flows
from tests.e2e.conftest import ADMIN_EMAIL, Api, make_settings, open_api
from tests.fixtures.flows import DEFAULT_FLOWS

ORIGINS = ["https://shop.example", "https://blog.example:8443"]


async def a_campaign(code: str = "spring", **fields: Any) -> Campaign:
    """A public, active referral campaign of Acme owned by its admin (unless `fields` say
    otherwise)."""
    admin = await User.get(email=ADMIN_EMAIL)
    values: dict[str, Any] = {
        "agency_id": admin.agency_id,
        "title": "Spring referral",
        "code": code,
        "description": "Bring a friend, both get a month free.",
        "visibility": "public",
        "campaign_type": "referral",
        "owner_id": admin.id,
        "status": "active",
        "embed_origins": ORIGINS,
        "created_by": f"user:{admin.id}",
        **fields,
    }
    return await Campaign.create(**values)


async def counts(campaign: Campaign) -> tuple[int, int, int]:
    found = (await totals([campaign.id]))[campaign.id]
    return found.views, found.likes, found.enrolments


async def form(settings: Settings, campaign: Campaign, **fields: str) -> dict[str, str]:
    """The form as a person sends it, served a minute ago."""
    view = await find_campaign("acme", campaign.code)
    served = datetime.now(UTC) - timedelta(minutes=1)
    return {
        "in": "widget",
        "token": form_token(settings.unsubscribe_links(), view, served),
        "name": "Grace Hopper",
        "email": "grace@example.com",
        "phone": "",
        "consent": "yes",
        "ref": "",
        "website": "",
        **fields,
    }


SIGN_UP = "/c/acme/spring/sign-up"


REFERRAL_LINKS = """
query($contact: ID!) {
  me { referralLink(campaignCode: "spring") promotion: referralLink(campaignCode: "promo") }
  contact(id: $contact) { referralLink(campaignCode: "spring") }
}"""


async def test_sign_ups_through_referral_links_become_contacts_attributed_and_counted(
    api: Api, settings: Settings
) -> None:
    campaign = await a_campaign()
    await a_campaign("promo", campaign_type="promotion")
    admin = await User.get(email=ADMIN_EMAIL)
    await seed_default_flows(admin.agency_id, load_default_flows(DEFAULT_FLOWS))
    ada_id = await api.created(
        "CreateContactInput", "createContact", "contact", {"firstName": "Ada"}
    )

    links = await api.graphql(REFERRAL_LINKS, {"contact": ada_id})
    again = await api.graphql(REFERRAL_LINKS, {"contact": ada_id})
    mine, adas = links["me"]["referralLink"], links["contact"]["referralLink"]
    my_code, adas_code = mine.rpartition("ref=")[2], adas.rpartition("ref=")[2]
    shown = await api.client.get(mine.removeprefix(settings.public_url))
    signed = await api.client.post(
        SIGN_UP, data=await form(settings, campaign, phone="+44 20 7946 0958", ref=my_code)
    )
    referred = await api.client.post(
        SIGN_UP,
        data=await form(
            settings, campaign, name="Alan", email="alan@example.com", ref=adas_code.lower()
        ),
    )

    assert links == again  # one code per referrer, made once
    assert mine.startswith(f"{settings.public_url}/c/acme/spring?ref=")
    assert my_code != adas_code
    assert links["me"]["promotion"] is None  # not a referral campaign
    assert shown.status_code == 200
    assert "Spring referral" in shown.text
    assert f'value="{my_code}"' in shown.text
    assert signed.status_code == 200, signed.text
    assert "Thank you for signing up!" in signed.text
    assert referred.status_code == 200, referred.text
    grace = await Contact.get(agency_id=admin.agency_id, source="campaign", first_name="Grace")
    assert grace.last_name == "Hopper"
    assert (grace.emails, grace.phones) == (["grace@example.com"], ["+442079460958"])
    assert grace.owner_id == campaign.owner_id
    alan = await Contact.get(agency_id=admin.agency_id, source="campaign", first_name="Alan")
    attributions = await CampaignAttribution.filter(campaign_id=campaign.id).order_by("id")
    assert [(a.contact_id, a.referrer_user_id, a.referrer_contact_id) for a in attributions] == [
        (grace.id, admin.id, None),
        (alan.id, None, relay_uuid(ada_id)),
    ]
    # A new contact like any other: its event, and the contact flow it starts.
    assert await Event.filter(type="contact.created", aggregate_id=str(grace.id)).exists()
    [start] = await OutboxMessage.filter(workflow_id__contains=f"contact:{grace.id}")
    assert start.workflow_id.startswith("flow:contact-nurture:contact:")
    [consent] = await ConsentChange.filter(record_id=str(grace.id))
    assert (consent.source, consent.opted_in, consent.opted_out) == ("campaign", ["marketing"], [])
    assert await counts(campaign) == (1, 0, 2)


def relay_uuid(global_id: str) -> UUID:
    return UUID(relay.GlobalID.from_id(global_id).node_id)


async def test_a_known_person_signing_up_by_email_or_phone_is_not_a_second_contact(
    api: Api, settings: Settings
) -> None:
    campaign = await a_campaign()
    admin = await User.get(email=ADMIN_EMAIL)
    known = await Contact.create(
        agency_id=admin.agency_id,
        first_name="Ada",
        last_name="Lovelace",
        emails=["ada@example.com"],
        phones=["+442079460958"],
        owner_id=admin.id,
    )

    by_email = await api.client.post(
        SIGN_UP, data=await form(settings, campaign, name="A. L.", email="ADA@example.com")
    )
    by_phone = await api.client.post(
        SIGN_UP,
        data=await form(settings, campaign, email="", phone="020 7946 0958", consent=""),
    )
    by_phone_intl = await api.client.post(
        SIGN_UP, data=await form(settings, campaign, email="", phone="+44 20 7946 0958")
    )
    newcomer = await api.client.post(
        SIGN_UP, data=await form(settings, campaign, email="new@example.com", consent="")
    )

    assert by_email.status_code == 200, by_email.text
    assert by_phone.status_code == 422  # a phone must carry its country code
    assert "international" in by_phone.text
    assert by_phone_intl.status_code == 200
    assert newcomer.status_code == 200
    new = await Contact.get(source="campaign")
    assert await Contact.filter(agency_id=admin.agency_id).count() == 2
    attributions = await CampaignAttribution.filter(campaign_id=campaign.id).order_by("id")
    assert [a.contact_id for a in attributions] == [known.id, new.id]
    # One enrolment per person, each consent kept as proof.
    assert await counts(campaign) == (0, 0, 2)
    assert await ConsentChange.filter(record_id=str(known.id), source="campaign").count() == 2
    # A new person who left the box empty gets no marketing.
    preference = await MessagePreference.get(record_id=str(new.id))
    assert preference.opted_out_kinds == ["marketing"]

    # The campaign's owner has left: a sign-up still works, the contact is left unowned.
    await User.filter(id=admin.id).update(is_active=False)
    later = await api.client.post(
        SIGN_UP, data=await form(settings, campaign, name="Lee Late", email="lee@example.com")
    )
    assert later.status_code == 200, later.text
    assert (await Contact.get(first_name="Lee")).owner_id is None


async def test_bots_and_bad_forms_are_not_taken(api: Api, settings: Settings) -> None:
    campaign = await a_campaign()
    shown = await api.client.get("/c/acme/spring/widget")
    match = re.search(r'name="token" value="([^"]+)"', shown.text)
    assert match is not None
    good = await form(settings, campaign)
    bots = {
        "honeypot": {**good, "website": "https://spam.example"},
        "too fast": {**good, "token": match.group(1)},  # the form just served
        "forged token": {**good, "token": good["token"][:-4] + "AAAA"},
        "no token": {**good, "token": ""},
    }

    answers = {bot: await api.client.post(SIGN_UP, data=data) for bot, data in bots.items()}
    invalid = await api.client.post(
        SIGN_UP,
        data=await form(
            settings, campaign, name="x" * 201, email="not-an-address", ref="NOSUCHCODE"
        ),
    )
    neither = await api.client.post(
        SIGN_UP, data=await form(settings, campaign, email="", phone="")
    )
    unknown_code = await api.client.post(
        SIGN_UP, data=await form(settings, campaign, ref="NOSUCHCODE")
    )

    # The honeypot's bot is thanked; a person who was too quick gets the form back to send.
    assert {bot: answer.status_code for bot, answer in answers.items()} == {
        "honeypot": 200,
        "too fast": 400,
        "forged token": 400,
        "no token": 400,
    }
    assert "Thank you for signing up!" in answers["honeypot"].text
    assert 'value="Grace Hopper"' in answers["too fast"].text
    # Each bad field is named, the values come back to be corrected.
    assert invalid.status_code == 422
    assert "at most 200 characters" in invalid.text
    assert "not-an-address" in invalid.text
    assert neither.status_code == 422
    assert "email address or a phone" in neither.text
    assert unknown_code.status_code == 422
    assert "No one has the referral code NOSUCHCODE." in unknown_code.text
    assert not await Contact.filter(source="campaign").exists()
    assert (await counts(campaign))[2] == 0


async def test_a_like_counts_once_per_browser(api: Api) -> None:
    campaign = await a_campaign()
    transport = httpx.ASGITransport(app=api.app)

    async with (
        httpx.AsyncClient(transport=transport, base_url="http://crm.test") as one,
        httpx.AsyncClient(transport=transport, base_url="http://crm.test") as other,
    ):
        first = await one.post("/c/acme/spring/like", data={"in": "widget"})
        again = await asyncio.gather(
            *(one.post("/c/acme/spring/like", data={"in": "widget"}) for _ in range(5))
        )
        elsewhere = await other.post("/c/acme/spring/like", data={"in": "page"})

    assert "Thank you for your like!" in first.text
    assert "crm_browser=" in first.headers["set-cookie"]
    assert "httponly" in first.headers["set-cookie"].lower()
    assert all("You like this already." in answer.text for answer in again)
    assert "Thank you for your like!" in elsewhere.text
    assert await counts(campaign) == (0, 2, 0)


async def test_what_is_not_a_public_active_campaign_is_the_same_404(
    api: Api, settings: Settings
) -> None:
    hidden = [
        await a_campaign("private", visibility="private"),
        await a_campaign("internal", visibility="internal"),
        await a_campaign("draft", status="draft"),
        await a_campaign("inactive", status="inactive"),
        await a_campaign("discarded", status="discarded"),
    ]
    await a_campaign("spring")
    data = await form(settings, await a_campaign("valid"))
    bases = [f"/c/acme/{c.code}" for c in hidden] + ["/c/acme/unknown", "/c/nobody/spring"]

    answers = []
    for base in bases:
        answers += [
            await api.client.get(base),
            await api.client.get(base + "/widget"),
            await api.client.post(base + "/like", data={"in": "widget"}),
            await api.client.post(base + "/sign-up", data=data),
        ]

    assert [a.status_code for a in answers] == [404] * len(answers)
    assert len({a.text for a in answers}) == 1
    assert "Spring" not in answers[0].text
    assert all(
        a.headers["content-security-policy"].endswith("frame-ancestors 'none'") for a in answers
    )
    assert [await counts(c) for c in hidden] == [(0, 0, 0)] * len(hidden)
    assert not await Contact.filter(source="campaign").exists()


async def test_only_the_owners_origins_may_frame_the_widget_and_all_is_text(api: Api) -> None:
    await a_campaign()
    await a_campaign(
        "closed",
        embed_origins=[],
        title='<img src=x onerror="alert(1)">',
        description="<b>bold</b>",
    )

    widget = await api.client.get("/c/acme/spring/widget")
    page = await api.client.get("/c/acme/spring")
    closed = await api.client.get("/c/acme/closed/widget")
    script = await api.client.get("/widget.js")

    policy = widget.headers["content-security-policy"]
    assert "frame-ancestors https://shop.example https://blog.example:8443" in policy
    assert "script-src" not in policy
    assert policy.startswith("default-src 'none'")
    assert "x-frame-options" not in widget.headers
    assert page.headers["content-security-policy"].endswith("frame-ancestors 'none'")
    assert page.headers["x-frame-options"] == "DENY"
    assert closed.headers["content-security-policy"].endswith("frame-ancestors 'none'")
    assert "<script" not in widget.text
    assert script.headers["content-type"].startswith("text/javascript")
    assert "data-campaign" in script.text
    # What the owner wrote is shown as text, never as markup.
    assert "<img" not in closed.text
    assert "&lt;img src=x" in closed.text
    assert "<b>" not in closed.text
    assert "&lt;b&gt;bold" in closed.text


async def test_floods_are_refused_per_address_and_per_campaign(
    database_url: str, tmp_path: Any
) -> None:
    settings = make_settings(
        database_url,
        tmp_path,
        public_url="https://crm.example",
        campaign_posts_per_address_per_hour=2,
        campaign_views_per_address_per_minute=2,
    )
    async with open_api(settings) as api:
        await a_campaign()
        views = [await api.client.get("/c/acme/spring") for _ in range(3)]
        likes = [await api.client.post("/c/acme/spring/like", data={}) for _ in range(3)]

    assert [v.status_code for v in views] == [200, 200, 429]
    assert [like.status_code for like in likes] == [200, 200, 429]
    assert 0 < int(likes[2].headers["retry-after"]) <= 3600
    assert int(views[2].headers["retry-after"]) <= 60
    # Served over https, the like cookie is one a cross-site iframe keeps (in its partition).
    cookie = likes[0].headers["set-cookie"].lower()
    assert all(part in cookie for part in ("samesite=none", "secure", "partitioned", "path=/c/"))

    settings = make_settings(database_url, tmp_path, campaign_sign_ups_per_campaign_per_minute=1)
    async with open_api(settings) as api:
        campaign = await Campaign.get(code="spring")
        first = await api.client.post(SIGN_UP, data=await form(settings, campaign))
        second = await api.client.post(
            SIGN_UP, data=await form(settings, campaign, email="other@example.com")
        )
        assert await Contact.filter(source="campaign").count() == 1
    assert (first.status_code, second.status_code) == (200, 429)
