"""Public campaigns over HTTP: `GET /c/{agency}/{code}` (the page), `GET .../widget` (the document
the widget frames), `POST .../like`, `POST .../sign-up`, and `GET /widget.js`, the one-line
embeddable script that puts the widget's iframe after itself:

    <script src="https://crm.example/widget.js" data-campaign="<agency>/<code>" async></script>

Anyone on the web reaches these, so they are hardened like the unsubscribe and booking pages
(`crm.public_page_html`: escaped templates, no referrer, no caching) and more:
- the documents carry no script at all (the like and the sign-up are plain forms), so the
  Content-Security-Policy allows none; only the widget may be framed, and only by the origins
  the campaign's owner allows (`frame-ancestors`; no origin allowed: no framing);
- per-address limits on views and on posts, and a per-campaign limit on sign-ups, counted in
  the database (`domain.rate_limits.DatabaseCounters`) so they hold across API processes, and
  answered 429 with `Retry-After`; each is taken before the campaign is looked up, so an
  unknown code costs what a known one does;
- a honeypot field (a bot that fills it is thanked and nothing is kept) and a signed form
  token carrying when the form was served (sent back sooner than
  `CRM_CAMPAIGN_FORM_MIN_SECONDS`: the form again, nothing kept);
- the same 404 for an unknown code and for a private, internal or inactive campaign.

A like is counted once per browser: the browser gets a random id in a cookie (path `/c/`,
HttpOnly; `SameSite=None; Secure; Partitioned` when the CRM is served over https, as a
cross-site iframe needs) and the database keeps one like per campaign and id.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, field

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from crm.public_page_html import HEADERS, page_template
from domain.campaign_page import (
    CampaignNotFound,
    CampaignView,
    FormCheck,
    PublicLimits,
    check_form_token,
    find_campaign,
    form_token,
    like,
    parse_sign_up,
    record_view,
    sign_up,
)
from domain.errors import DomainError, DomainErrors
from domain.public_pages import (
    CAMPAIGN_LIKE_PATH,
    CAMPAIGN_SIGN_UP_PATH,
    campaign_path,
)
from domain.rate_limits import RateCounters, RateLimit, take
from domain.referral_codes import MAX_CODE_LENGTH
from domain.signed_links import LinkConfig

log = logging.getLogger(__name__)

BROWSER_COOKIE = "crm_browser"
_BROWSER_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
BROWSER_COOKIE_DAYS = 365
# What the form's fields may hold before validation says more (longer is cut, then refused).
_ECHO_LIMIT = 300
WIDGET = "widget"

_CAMPAIGN = page_template(
    """<style>.hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}
.error{color:#a00;margin:.1rem 0 .5rem}.like{display:inline}
input:not([type=checkbox]){width:100%;box-sizing:border-box;padding:.4rem}</style>
<h1>{{ view.title }}</h1>
<p class="note">{{ view.agency_name }}</p>
{% if view.description %}<p>{{ view.description }}</p>{% endif %}
{% if status %}<p class="status" role="status">{{ status }}</p>{% endif %}
<form class="like" method="post" action="{{ like_path }}">
<input type="hidden" name="in" value="{{ place }}">
<input type="hidden" name="ref" value="{{ values.ref }}">
<button type="submit">{{ "Liked" if liked else "Like" }}</button>
</form>
{% if not signed_up %}
<form method="post" action="{{ sign_up_path }}">
<fieldset><legend>Sign up</legend>
<input type="hidden" name="in" value="{{ place }}">
<input type="hidden" name="token" value="{{ token }}">
<label>Name <input name="name" required maxlength="200" autocomplete="name"
 value="{{ values.name }}"></label>
{% if errors.name %}<p class="error">{{ errors.name }}</p>{% endif %}
<label>Email <input type="email" name="email" maxlength="254" autocomplete="email"
 value="{{ values.email }}"></label>
{% if errors.email %}<p class="error">{{ errors.email }}</p>{% endif %}
<label>Phone <input type="tel" name="phone" maxlength="40" autocomplete="tel"
 placeholder="+44 20 7946 0958" value="{{ values.phone }}"></label>
{% if errors.phone %}<p class="error">{{ errors.phone }}</p>{% endif %}
<label><input type="checkbox" name="consent" value="yes"
{%- if values.consent %} checked{% endif %}> Send me news and offers from
{{ view.agency_name }}</label>
<label>Referral code <input name="ref" maxlength="16" autocomplete="off"
 value="{{ values.ref }}"></label>
{% if errors.referral_code %}<p class="error">{{ errors.referral_code }}</p>{% endif %}
<div class="hp" aria-hidden="true"><label>Leave this empty
<input name="website" tabindex="-1" autocomplete="off"></label></div>
<button type="submit">Sign up</button>
</fieldset>
</form>
{% endif %}"""
)
_NOT_FOUND = page_template(
    """<h1>This campaign is not available</h1>
<p>It may have ended, or the address is not complete.</p>"""
)
_TOO_MANY = page_template(
    """<h1>Too many requests</h1>
<p>Please try again in {{ seconds }} seconds.</p>"""
)

# The embeddable script: no framework, no cookies, nothing read from the host page but the
# script's own attributes and a `ref` in the page's address (a shared referral link).
WIDGET_SCRIPT = """(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var parts = (script.getAttribute("data-campaign") || "").split("/");
  if (parts.length !== 2 || !parts[0] || !parts[1]) { return; }
  var url = new URL("/c/" + encodeURIComponent(parts[0]) + "/" +
    encodeURIComponent(parts[1]) + "/widget", script.src);
  var ref = new URLSearchParams(window.location.search).get("ref");
  if (ref) { url.searchParams.set("ref", ref.slice(0, 16)); }
  var frame = document.createElement("iframe");
  frame.src = url.href;
  frame.title = script.getAttribute("data-title") || "Campaign";
  frame.setAttribute("sandbox", "allow-forms allow-same-origin");
  frame.setAttribute("referrerpolicy", "no-referrer");
  frame.style.border = "0";
  frame.style.width = "100%";
  frame.style.maxWidth = "36rem";
  frame.style.height = script.getAttribute("data-height") || "640px";
  script.parentNode.insertBefore(frame, script.nextSibling);
})();
"""
SCRIPT_HEADERS = {
    "Cache-Control": "public, max-age=3600",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "cross-origin",
}


def frame_ancestors(view: CampaignView | None, in_widget: bool) -> str:
    """Who may frame the document: the widget, the owner's origins; anything else, nobody."""
    if view is None or not in_widget:
        return "'none'"
    origins = [o for o in view.embed_origins if _ORIGIN.match(o)]
    return " ".join(origins) if origins else "'none'"


def headers(view: CampaignView | None = None, in_widget: bool = False) -> dict[str, str]:
    policy = (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; "
        f"frame-ancestors {frame_ancestors(view, in_widget)}"
    )
    found = {**HEADERS, "Content-Security-Policy": policy}
    if in_widget:
        # frame-ancestors decides; X-Frame-Options cannot name several origins.
        del found["X-Frame-Options"]
    return found


@dataclass
class FormState:
    """What the sign-up form shows: the values sent (to correct), and each field's error."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value[:_ECHO_LIMIT] if isinstance(value, str) else ""


class CampaignPages:
    """The public handlers, for the links one configuration signs and the limits it sets."""

    def __init__(
        self,
        links: LinkConfig,
        limits: PublicLimits,
        counters: RateCounters,
        secure_cookies: bool,
    ) -> None:
        self._links = links
        self._limits = limits
        self._counters = counters
        self._secure_cookies = secure_cookies

    async def _refused(self, limit: RateLimit, subject: str) -> Response | None:
        decision = await take(self._counters, limit, subject)
        if decision.allowed:
            return None
        html = _TOO_MANY.render(title="Too many requests", seconds=decision.retry_after)
        return HTMLResponse(
            html,
            status_code=429,
            headers={**headers(), "Retry-After": str(decision.retry_after)},
        )

    def _not_found(self) -> Response:
        html = _NOT_FOUND.render(title="Not available")
        return HTMLResponse(html, status_code=404, headers=headers())

    def _render(
        self,
        view: CampaignView,
        in_widget: bool,
        *,
        state: FormState | None = None,
        status: str = "",
        signed_up: bool = False,
        liked: bool = False,
        status_code: int = 200,
    ) -> HTMLResponse:
        state = state or FormState()
        slug, code = view.agency_slug, view.code
        html = _CAMPAIGN.render(
            title=view.title,
            view=view,
            status=status,
            place=WIDGET if in_widget else "page",
            like_path=campaign_path(slug, code, CAMPAIGN_LIKE_PATH),
            sign_up_path=campaign_path(slug, code, CAMPAIGN_SIGN_UP_PATH),
            token=form_token(self._links, view),
            values=state.values,
            errors=state.errors,
            signed_up=signed_up,
            liked=liked,
        )
        return HTMLResponse(html, status_code=status_code, headers=headers(view, in_widget))

    @staticmethod
    def _address(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    async def _admit(
        self, request: Request, *limits: tuple[RateLimit, str]
    ) -> CampaignView | Response:
        """The campaign, once the request is within each limit (taken before the lookup, so an
        unknown code costs what a known one does); else the answer to give (429 or 404)."""
        for limit, subject in limits:
            refused = await self._refused(limit, subject)
            if refused is not None:
                return refused
        try:
            return await find_campaign(request.path_params["agency"], request.path_params["code"])
        except CampaignNotFound:
            return self._not_found()

    async def _show(self, request: Request, in_widget: bool) -> Response:
        view = await self._admit(request, (self._limits.views_per_address, self._address(request)))
        if isinstance(view, Response):
            return view
        await record_view(view)
        referral = request.query_params.get("ref", "")[:MAX_CODE_LENGTH]
        return self._render(view, in_widget, state=FormState(values={"ref": referral}))

    async def page(self, request: Request) -> Response:
        return await self._show(request, in_widget=False)

    async def widget(self, request: Request) -> Response:
        return await self._show(request, in_widget=True)

    async def like(self, request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=5)
        in_widget = form.get("in") == WIDGET
        view = await self._admit(request, (self._limits.posts_per_address, self._address(request)))
        if isinstance(view, Response):
            return view
        browser = request.cookies.get(BROWSER_COOKIE, "")
        known = bool(_BROWSER_ID.match(browser))
        if not known:
            browser = secrets.token_urlsafe(24)
        counted = await like(view, browser)
        status = "Thank you for your like!" if counted else "You like this already."
        # The referral code the page was opened with stays in the form for the sign-up.
        state = FormState(values={"ref": _text(form, "ref")[:MAX_CODE_LENGTH]})
        response = self._render(view, in_widget, state=state, status=status, liked=True)
        if not known:
            response.raw_headers.append((b"set-cookie", self._browser_cookie(browser)))
        return response

    def _browser_cookie(self, browser: str) -> bytes:
        """The like cookie. Over https it is `SameSite=None; Secure; Partitioned`, which a
        cross-site iframe needs: written here, as Starlette writes `Partitioned` only on
        Python 3.14 and later (it raises before)."""
        # The id is URL-safe base64 (checked by _BROWSER_ID when it comes back): no quoting.
        parts = [
            f"{BROWSER_COOKIE}={browser}",
            f"Max-Age={BROWSER_COOKIE_DAYS * 86_400}",
            "Path=/c/",
            "HttpOnly",
        ]
        parts += (
            ["Secure", "SameSite=None", "Partitioned"] if self._secure_cookies else ["SameSite=Lax"]
        )
        return "; ".join(parts).encode("latin-1")

    async def sign_up(self, request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=10)
        in_widget = form.get("in") == WIDGET
        view = await self._admit(
            request,
            (self._limits.posts_per_address, self._address(request)),
            (
                self._limits.sign_ups_per_campaign,
                f"{request.path_params['agency']}/{request.path_params['code']}",
            ),
        )
        if isinstance(view, Response):
            return view
        values = {name: _text(form, name) for name in ("name", "email", "phone", "ref")}
        values["consent"] = "yes" if form.get("consent") == "yes" else ""
        state = FormState(values=values)
        if _text(form, "website"):
            # A bot filled the field people never see: thanked, nothing kept.
            log.info("campaign sign-up refused: honeypot", extra={"campaign": str(view.code)})
            return self._thanks(view, in_widget)
        check = check_form_token(self._links, view, _text(form, "token"), self._limits.min_fill)
        if check is not FormCheck.GOOD:
            log.info("campaign sign-up refused: %s form", check, extra={"campaign": view.code})
            status = "Please check your details, then send the form again."
            return self._render(view, in_widget, state=state, status=status, status_code=400)
        try:
            await sign_up(
                view,
                parse_sign_up(
                    {
                        "name": values["name"],
                        "email": values["email"],
                        "phone": values["phone"],
                        "consent": bool(values["consent"]),
                        "referral_code": values["ref"],
                    }
                ),
            )
        except (DomainError, DomainErrors) as failure:
            found = failure.errors if isinstance(failure, DomainErrors) else [failure]
            state.errors = {(e.field or "name").split(".")[0]: e.message for e in found}
            status = "Please correct the form."
            return self._render(view, in_widget, state=state, status=status, status_code=422)
        return self._thanks(view, in_widget)

    def _thanks(self, view: CampaignView, in_widget: bool) -> Response:
        """The same answer for a new person, a known one, and a bot."""
        status = "Thank you for signing up! We will be in touch."
        return self._render(view, in_widget, status=status, signed_up=True)

    async def script(self, _: Request) -> Response:
        return Response(WIDGET_SCRIPT, media_type="text/javascript", headers=SCRIPT_HEADERS)
