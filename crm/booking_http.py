"""The booking page: `GET /book/{token}` lists the open time slots, `POST` books the one picked.

Like the unsubscribe page (`crm.public_page_html` holds their layout and headers), it is
a small HTML page with no scripts (a plain form), a strict Content-Security-Policy and no
referrer. The token in the path is the only credential (it names the meeting and is signed,
see `domain.signed_links`); it is never logged, and a bad one gets the same page, which names
nobody, whatever was wrong with it.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from crm.public_page_html import HEADERS, invalid_link, page_template
from domain.booking_page import BookingView, PageState, choose, page
from domain.signed_links import InvalidLink, LinkConfig

log = logging.getLogger(__name__)

_BOOKING = page_template(
    """<h1>{{ view.title }}</h1>
<p>With {{ view.owner_name }} ({{ view.agency_name }}).
{%- if view.location %} Where: {{ view.location }}{% endif %}</p>
{% if status %}<p class="status" role="status">{{ status }}</p>{% endif %}
{% if view.state == "choosing" %}
<form method="post">
<fieldset><legend>Pick a time (times in {{ view.time_zone }})</legend>
{% for slot in view.slots %}
<label><input type="radio" name="slot" value="{{ slot.id }}" required> {{ slot.label }}</label>
{% endfor %}
</fieldset>
<button type="submit">Book this time</button>
</form>
{% elif view.state == "booked" %}
<p class="status" role="status">Your meeting is booked: {{ view.booked }}.</p>
<p class="note">An invitation is on its way to your calendar.</p>
{% elif view.state == "no_times_left" %}
<h2>None of these times is available any more</h2>
<p>They have passed or been taken. Reply to the email to ask
{{ view.owner_name }} for new times.</p>
{% elif view.state == "cancelled" %}
<h2>This meeting was cancelled</h2>
{% else %}
<h2>This meeting has taken place</h2>
{% endif %}"""
)
HINT = "Use the link in the most recent email about this meeting, or reply to it."
STATUS_CODES = {PageState.NO_TIMES_LEFT: 410, PageState.CANCELLED: 410}


class BookingPage:
    """The page's two handlers, for the links one configuration signs."""

    def __init__(self, links: LinkConfig) -> None:
        self._links = links

    def _render(self, view: BookingView, status: str = "") -> Response:
        html = _BOOKING.render(title=view.title, view=view, status=status)
        code = STATUS_CODES.get(view.state, 200)
        return HTMLResponse(html, status_code=code, headers=HEADERS)

    def _invalid(self, token: str) -> Response:
        return invalid_link(log, token, HINT)

    async def show(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            return self._render(await page(self._links, token))
        except InvalidLink:
            return self._invalid(token)

    async def book(self, request: Request) -> Response:
        token = request.path_params["token"]
        form = await request.form(max_files=0, max_fields=5)
        try:
            view, booked = await choose(self._links, token, str(form.get("slot") or ""))
        except InvalidLink:
            return self._invalid(token)
        if booked or view.state is not PageState.CHOOSING:
            return self._render(view)
        return self._render(view, "That time is no longer available: pick another.")
