"""The password reset page: `GET /reset-password/{token}` asks for a new password, `POST`
sets it.

A person lands here from the reset email. Like the other public pages (`crm.public_page_html`
holds their layout and headers), it is a small HTML form with no scripts, a strict
Content-Security-Policy, no referrer and no caching. The token in the path is the only
credential (signed, naming one reset request: `domain.password_resets`); it is never logged,
and a link that cannot be used (forged, altered, expired, used) gets the same page, which
names nobody. The password is never logged or echoed back.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from crm.public_page_html import HEADERS, invalid_link, page_template
from domain.errors import DomainError
from domain.password_resets import check_reset_link, reset_password
from domain.passwords import MAX_LENGTH, MIN_LENGTH
from domain.signed_links import InvalidLink, LinkConfig

log = logging.getLogger(__name__)

_FORM = page_template(
    """<h1>Choose a new password</h1>
{% if problem %}<p class="status" role="alert">{{ problem }}</p>{% endif %}
<form method="post">
<label>New password
<input type="password" name="password" autocomplete="new-password" required
 minlength="{{ min }}" maxlength="{{ max }}"></label>
<label>The same again
<input type="password" name="confirm" autocomplete="new-password" required
 minlength="{{ min }}" maxlength="{{ max }}"></label>
<button type="submit">Set my password</button>
</form>
<p class="note">{{ min }} to {{ max }} characters. Every device signed in to your account
will be signed out.</p>"""
)
_DONE = page_template(
    """<h1>Your password is changed</h1>
<p class="status" role="status">Sign in with your new password.</p>"""
)
HINT = "Ask for a new link from the sign-in screen: each link works once, for a short while."


class PasswordResetPage:
    """The page's two handlers, for the links one configuration signs."""

    def __init__(self, links: LinkConfig) -> None:
        self._links = links

    def _form(self, problem: str = "", status_code: int = 200) -> Response:
        html = _FORM.render(title="New password", problem=problem, min=MIN_LENGTH, max=MAX_LENGTH)
        return HTMLResponse(html, status_code=status_code, headers=HEADERS)

    async def show(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            await check_reset_link(self._links, token)
        except InvalidLink:
            return invalid_link(log, token, HINT)
        return self._form()

    async def reset(self, request: Request) -> Response:
        token = request.path_params["token"]
        form = await request.form(max_files=0, max_fields=5)
        password = str(form.get("password") or "")
        if password != str(form.get("confirm") or ""):
            try:
                await check_reset_link(self._links, token)
            except InvalidLink:
                return invalid_link(log, token, HINT)
            return self._form("The two passwords differ: type the same one twice.", 400)
        try:
            await reset_password(self._links, token, password)
        except InvalidLink:
            return invalid_link(log, token, HINT)
        except DomainError as problem:
            return self._form(problem.message, 400)
        html = _DONE.render(title="Password changed")
        return HTMLResponse(html, headers=HEADERS)
