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

from jinja2 import Environment, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from domain.message_kinds import TemplateKind
from domain.message_preferences import ConsentSource
from domain.signed_links import InvalidLink, LinkConfig, fingerprint
from domain.unsubscribe_page import PageView, choose, page

log = logging.getLogger(__name__)

ONE_CLICK = "One-Click"
LABELS = {
    TemplateKind.SALES: "Messages from your account manager",
    TemplateKind.MARKETING: "News, offers and campaigns",
    TemplateKind.GREETINGS: "Greetings (birthdays, anniversaries, festivals)",
}
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}

_PAGES = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_LAYOUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{ title }}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#222}
fieldset{border:1px solid #ccc;border-radius:6px;margin:1rem 0}
label{display:block;margin:.5rem 0}
button{margin:.25rem .5rem .25rem 0;padding:.5rem 1rem}
.status{background:#eef6ee;border-radius:6px;padding:.75rem}
.note{color:#666;font-size:.9rem}
</style></head><body><main>{% block main %}{% endblock %}</main></body></html>"""
_CHOICES = _PAGES.from_string(
    _LAYOUT.replace(
        "{% block main %}{% endblock %}",
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
<p class="note">Messages about your account and the services you use are still sent.</p>""",
    )
)
_INVALID = _PAGES.from_string(
    _LAYOUT.replace(
        "{% block main %}{% endblock %}",
        """<h1>This link does not work</h1>
<p>It may be incomplete or too old. To stop emails, reply to one of them and ask to be
removed, or use the link in a more recent one.</p>""",
    )
)


class UnsubscribePage:
    """The page's two handlers, for the links one configuration signs."""

    def __init__(self, links: LinkConfig) -> None:
        self._links = links

    def _choices(self, view: PageView, status: str = "") -> Response:
        html = _CHOICES.render(title="Email preferences", view=view, labels=LABELS, status=status)
        return HTMLResponse(html, headers=HEADERS)

    def _invalid(self, token: str) -> Response:
        log.info("unsubscribe link refused", extra={"link": fingerprint(token)})
        html = _INVALID.render(title="Link not valid")
        return HTMLResponse(html, status_code=404, headers=HEADERS)

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
