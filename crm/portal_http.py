"""The customer portal page: a contact asks for a sign-in link on their agency's portal
(`/portal/{agency}/sign-in`), follows the emailed link (`/portal/link/{token}`: a button
spends it, so a mail scanner fetching the link does not), and then sees their customer's
tickets (`/portal/tickets`), opens one, replies and opens new ones.

Like the other public pages (`crm.public_page_html`): plain forms, no scripts, a strict
Content-Security-Policy, no referrer, no caching. The session is the portal session token
(`domain.portal`) in an HttpOnly, SameSite=Strict cookie scoped to `/portal`: another site
can neither read it nor make the browser send it with a form post. The emailed link's token
is never logged (its path is among the signed ones) and an unusable link gets the page that
names nobody.
"""

from __future__ import annotations

import logging
from uuid import UUID

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from crm.public_page_html import HEADERS, invalid_link, page_template
from db.agencies import Agency
from domain import portal
from domain.actors import Actor
from domain.errors import DomainError, DomainErrors, errors_of
from domain.portal import PortalErrorCode, PortalLimits
from domain.public_pages import PORTAL_SIGN_OUT_PATH, PORTAL_TICKETS_PATH
from domain.signed_links import InvalidLink, LinkConfig

log = logging.getLogger(__name__)

SESSION_COOKIE = "crm_portal"
COOKIE_PATH = "/portal"
HINT = "Ask for a new link on your support portal: each link works once, for a short while."
PAGE_SIZE = 50

_SIGN_IN = page_template(
    """<h1>{{ agency }} support portal</h1>
{% if status %}<p class="status" role="status">{{ status }}</p>{% endif %}
<form method="post">
<label>Your email address <input type="email" name="email" required maxlength="254"
 autocomplete="email"></label>
<button type="submit">Email me a sign-in link</button>
</form>
<p class="note">We email you a link that signs you in once, for a few minutes. No password.</p>"""
)
_LINK = page_template(
    """<h1>Sign in to the support portal</h1>
<form method="post"><button type="submit">Sign in</button></form>
<p class="note">This link works once.</p>"""
)
_SIGNED_OUT = page_template(
    """<h1>You are signed out</h1>
<p>Ask for a new sign-in link on your support portal.</p>"""
)
_NAV = """<p class="note">{{ me.contact_name }}, {{ me.customer_name }}
 (support by {{ me.agency_name }})</p>
<form method="post" action="{{ sign_out }}"><button type="submit">Sign out</button></form>"""
_TICKETS = page_template(
    _NAV
    + """<h1>Your tickets</h1>
{% if status %}<p class="status" role="alert">{{ status }}</p>{% endif %}
{% if tickets %}<ul>
{% for t in tickets %}<li><a href="{{ tickets_path }}/{{ t.id }}">{{ t.subject }}</a>
 <span class="note">{{ t.status }}</span></li>
{% endfor %}</ul>{% else %}<p>No tickets yet.</p>{% endif %}
<h2>Open a ticket</h2>
<form method="post">
<label>Subject <input name="subject" required maxlength="200"></label>
<label>What happened? <textarea name="description" rows="4" maxlength="20000"></textarea></label>
<button type="submit">Open the ticket</button>
</form>
{% if articles %}<h2>Help articles</h2>
{% for a in articles %}<details><summary>{{ a.title }}</summary><p>{{ a.body }}</p></details>
{% endfor %}{% endif %}"""
)
_TICKET = page_template(
    _NAV
    + """<p><a href="{{ tickets_path }}">All tickets</a></p>
<h1>{{ ticket.subject }}</h1>
<p class="note" id="status">Status: {{ ticket.status }}</p>
{% if ticket.description %}<p>{{ ticket.description }}</p>{% endif %}
<h2>Conversation</h2>
{% for entry in conversation %}<article>
<p class="note">{{ "You" if entry.from_customer else "Support" }},
 {{ entry.at.strftime("%Y-%m-%d %H:%M") }} UTC</p>
<p style="white-space:pre-wrap">{{ entry.body }}</p></article>
{% else %}<p>No replies yet.</p>{% endfor %}
{% if status %}<p class="status" role="alert">{{ status }}</p>{% endif %}
{% if ticket.status != "closed" %}<form method="post">
<label>Your reply <textarea name="body" rows="4" required maxlength="20000"></textarea></label>
<button type="submit">Send the reply</button>
</form>{% else %}<p>This ticket is closed: open a new one.</p>{% endif %}"""
)
_NO_TICKET = page_template(
    """<h1>No such ticket</h1>
<p><a href="{{ tickets_path }}">All tickets</a></p>"""
)


def _first_problem(exc: DomainError | DomainErrors) -> str:
    return errors_of(exc)[0].message


class PortalPage:
    """The portal's handlers, for the links one configuration signs."""

    def __init__(
        self, links: LinkConfig, limits: PortalLimits | None = None, secure_cookies: bool = False
    ) -> None:
        self._links = links
        self._limits = limits or PortalLimits()
        self._secure_cookies = secure_cookies

    @staticmethod
    def _html(html: str, status_code: int = 200) -> Response:
        return HTMLResponse(html, status_code=status_code, headers=HEADERS)

    # --- signing in ---------------------------------------------------------------------------

    async def _agency_name(self, request: Request) -> str | None:
        agency = await Agency.get_or_none(slug=str(request.path_params["agency"])[:60].lower())
        return agency.name if agency is not None else None

    async def sign_in_form(self, request: Request) -> Response:
        name = await self._agency_name(request)
        if name is None:
            return self._html(_SIGNED_OUT.render(title="Support portal"), 404)
        return self._html(_SIGN_IN.render(title="Support portal", agency=name, status=""))

    async def request_link(self, request: Request) -> Response:
        name = await self._agency_name(request)
        if name is None:
            return self._html(_SIGNED_OUT.render(title="Support portal"), 404)
        form = await request.form(max_files=0, max_fields=3)
        status = "If this address is known to us, a sign-in link is on its way: check your email."
        status_code = 200
        try:
            await portal.request_sign_in_link(
                self._links,
                self._limits,
                str(request.path_params["agency"]),
                str(form.get("email") or ""),
                request.client.host if request.client else "",
            )
        except DomainError as refused:
            status = refused.message
            status_code = 429 if refused.code == PortalErrorCode.TOO_MANY_ATTEMPTS else 400
        html = _SIGN_IN.render(title="Support portal", agency=name, status=status)
        return self._html(html, status_code)

    async def show_link(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            await portal.check_sign_in_link(self._links, token)
        except InvalidLink:
            return invalid_link(log, token, HINT)
        return self._html(_LINK.render(title="Sign in"))

    async def use_link(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            session = await portal.sign_in(self._links, token)
        except InvalidLink:
            return invalid_link(log, token, HINT)
        response = RedirectResponse(PORTAL_TICKETS_PATH, status_code=303, headers=HEADERS)
        response.set_cookie(
            SESSION_COOKIE,
            session.token,
            max_age=int(self._links.portal_session_lifetime.total_seconds()),
            path=COOKIE_PATH,
            secure=self._secure_cookies,
            httponly=True,
            samesite="strict",
        )
        return response

    async def sign_out(self, request: Request) -> Response:
        actor = await self._actor(request)
        if actor is not None:
            await portal.sign_out(actor)
        response = self._html(_SIGNED_OUT.render(title="Signed out"))
        response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
        return response

    # --- signed in ----------------------------------------------------------------------------

    async def _actor(self, request: Request) -> Actor | None:
        token = request.cookies.get(SESSION_COOKIE, "")
        if not token:
            return None
        try:
            return await portal.portal_actor(self._links, token)
        except DomainError:
            return None

    def _signed_out(self) -> Response:
        response = self._html(_SIGNED_OUT.render(title="Signed out"), 401)
        response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
        return response

    async def _tickets_page(self, actor: Actor, status: str = "", code: int = 200) -> Response:
        page = await portal.list_tickets(actor, PAGE_SIZE)
        articles = await portal.list_articles(actor, PAGE_SIZE)
        html = _TICKETS.render(
            title="Your tickets",
            me=await portal.whoami(actor),
            tickets=page.items,
            articles=articles.items,
            status=status,
            tickets_path=PORTAL_TICKETS_PATH,
            sign_out=PORTAL_SIGN_OUT_PATH,
        )
        return self._html(html, code)

    async def tickets(self, request: Request) -> Response:
        actor = await self._actor(request)
        if actor is None:
            return self._signed_out()
        return await self._tickets_page(actor)

    async def open_ticket(self, request: Request) -> Response:
        actor = await self._actor(request)
        if actor is None:
            return self._signed_out()
        form = await request.form(max_files=0, max_fields=5)
        try:
            ticket = await portal.open_ticket(
                actor, str(form.get("subject") or ""), str(form.get("description") or "")
            )
        except (DomainError, DomainErrors) as refused:
            return await self._tickets_page(actor, _first_problem(refused), 400)
        return RedirectResponse(f"{PORTAL_TICKETS_PATH}/{ticket.id}", 303, headers=HEADERS)

    async def _ticket_page(
        self, actor: Actor, ticket_id: UUID, status: str = "", code: int = 200
    ) -> Response:
        try:
            ticket = await portal.get_ticket(actor, ticket_id)
        except DomainError:
            html = _NO_TICKET.render(title="No such ticket", tickets_path=PORTAL_TICKETS_PATH)
            return self._html(html, 404)
        html = _TICKET.render(
            title=ticket.subject,
            me=await portal.whoami(actor),
            ticket=ticket,
            conversation=await portal.conversation(actor, ticket),
            status=status,
            tickets_path=PORTAL_TICKETS_PATH,
            sign_out=PORTAL_SIGN_OUT_PATH,
        )
        return self._html(html, code)

    async def ticket(self, request: Request) -> Response:
        actor = await self._actor(request)
        if actor is None:
            return self._signed_out()
        return await self._ticket_page(actor, request.path_params["id"])

    async def reply(self, request: Request) -> Response:
        actor = await self._actor(request)
        if actor is None:
            return self._signed_out()
        ticket_id: UUID = request.path_params["id"]
        form = await request.form(max_files=0, max_fields=3)
        try:
            await portal.reply(actor, ticket_id, str(form.get("body") or ""))
        except (DomainError, DomainErrors) as refused:
            return await self._ticket_page(actor, ticket_id, _first_problem(refused), 400)
        return RedirectResponse(f"{PORTAL_TICKETS_PATH}/{ticket_id}", 303, headers=HEADERS)
