"""The satisfaction survey page: `GET /survey/{token}` asks, `POST` stores the answer once.

Like the booking page (`crm.public_page_html` holds their layout and headers): no scripts,
a strict Content-Security-Policy, no referrer; the token is the only credential, never
logged, and a bad or used one gets the page that names nobody.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from crm.public_page_html import HEADERS, invalid_link, page_template
from domain.signed_links import InvalidLink, LinkConfig
from domain.survey_page import SurveyView, answer, page

log = logging.getLogger(__name__)

_SURVEY = page_template(
    """<h1>How did we do?</h1>
<p>About \u201c{{ view.subject }}\u201d ({{ view.agency_name }}).</p>
{% if status %}<p class="status" role="status">{{ status }}</p>{% endif %}
<form method="post">
<fieldset><legend>Your score, from 1 (poor) to 5 (excellent)</legend>
{% for score in range(1, 6) %}
<label><input type="radio" name="score" value="{{ score }}" required> {{ score }}</label>
{% endfor %}
</fieldset>
<label>Anything to add? <textarea name="comment" maxlength="2000" rows="4"></textarea></label>
<button type="submit">Send</button>
</form>"""
)
_THANKS = page_template(
    """<h1>Thank you</h1>
<p class="status" role="status">Your answer is recorded.</p>"""
)
HINT = "Each survey link works once."


class SurveyPage:
    def __init__(self, links: LinkConfig) -> None:
        self._links = links

    def _ask(self, view: SurveyView, status: str = "") -> Response:
        html = _SURVEY.render(title="How did we do?", view=view, status=status)
        return HTMLResponse(html, headers=HEADERS)

    async def show(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            return self._ask(await page(self._links, token))
        except InvalidLink:
            return invalid_link(log, token, HINT)

    async def rate(self, request: Request) -> Response:
        token = request.path_params["token"]
        form = await request.form(max_files=0, max_fields=5)
        try:
            stored = await answer(
                self._links, token, str(form.get("score") or ""), str(form.get("comment") or "")
            )
            if not stored:
                return self._ask(await page(self._links, token), "Pick a score from 1 to 5.")
        except InvalidLink:
            return invalid_link(log, token, HINT)
        return HTMLResponse(_THANKS.render(title="Thank you"), headers=HEADERS)
