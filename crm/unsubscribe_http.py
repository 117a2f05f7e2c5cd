"""The unsubscribe page: `GET /unsubscribe/{token}` shows it, `POST` changes the choices.

People outside the API land here from an email, so it is a small HTML page with no scripts.
A `POST` whose body is `List-Unsubscribe=One-Click` is a mail client's RFC 8058 one-click
request: the kind of the message it came in is turned off at once, and nothing is asked. Any
other `POST` is the page's form. The token in the path is the only credential (it names the
message and is signed, see `domain.signed_links`); it is never logged, never sent on as
a referrer, and a bad one gets the same page whatever was wrong with it.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from crm.public_page_html import HEADERS, invalid_link, page_template
from domain.message_kinds import TemplateKind
from domain.message_preferences import ConsentSource
from domain.signed_links import InvalidLink, LinkConfig
from domain.unsubscribe_page import PageView, choose, page

log = logging.getLogger(__name__)

ONE_CLICK = "One-Click"
LABELS = {
    TemplateKind.SALES: "Messages from your account manager",
    TemplateKind.MARKETING: "News, offers and campaigns",
    TemplateKind.GREETINGS: "Greetings (birthdays, anniversaries, festivals)",
}
_CHOICES = page_template(
    """<h1>{{ view.agency_name }}</h1>
<p>What we send to <strong>{{ view.address }}</strong>.</p>
{% if status %}<p class="status" role="status">{{ status }}</p>{% endif %}
<form method="post">
<fieldset><legend>Keep receiving</legend>
{% for kind, label in labels.items() %}
<label><input type="checkbox" name="receives" value="{{ kind.value }}"
{%- if kind in view.receives %} checked{% endif %}> {{ label }}</label>
{% endfor %}
</fieldset>
<button type="submit" name="action" value="choose">Save my choices</button>
<button type="submit" name="action" value="everything">Unsubscribe from everything</button>
</form>
<p class="note">Messages about your account and the services you use are still sent.</p>"""
)
HINT = (
    "To stop emails, reply to one of them and ask to be removed, or use the link in a more "
    "recent one."
)


class UnsubscribePage:
    """The page's two handlers, for the links one configuration signs."""

    def __init__(self, links: LinkConfig) -> None:
        self._links = links

    def _choices(self, view: PageView, status: str = "") -> Response:
        html = _CHOICES.render(title="Email preferences", view=view, labels=LABELS, status=status)
        return HTMLResponse(html, headers=HEADERS)

    def _invalid(self, token: str) -> Response:
        return invalid_link(log, token, HINT)

    async def show(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            return self._choices(await page(self._links, token))
        except InvalidLink:
            return self._invalid(token)

    async def change(self, request: Request) -> Response:
        token = request.path_params["token"]
        form = await request.form(max_files=0, max_fields=10)
        try:
            if form.get("List-Unsubscribe") == ONE_CLICK:
                await choose(self._links, token, None, ConsentSource.ONE_CLICK)
                return PlainTextResponse("Unsubscribed.", headers=HEADERS)
            if form.get("action") == "everything":
                view = await choose(self._links, token, [], ConsentSource.LINK)
                return self._choices(view, "You are unsubscribed. We will not send these again.")
            kept = [str(value) for value in form.getlist("receives")]
            view = await choose(self._links, token, kept, ConsentSource.LINK)
            return self._choices(view, "Your choices are saved.")
        except InvalidLink:
            return self._invalid(token)
