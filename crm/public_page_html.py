"""What every page for people outside the API shares (the unsubscribe page, the booking page):
the headers (no scripts, no referrer, no framing, no caching), the layout, and the one answer
to a link that does not work, which names nobody."""

from __future__ import annotations

import logging

from jinja2 import Environment, Template, select_autoescape
from starlette.responses import HTMLResponse, Response

from domain.signed_links import fingerprint

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


def page_template(main: str) -> Template:
    """A page of the layout whose `<main>` is `main` (a Jinja2 template, autoescaped)."""
    return _PAGES.from_string(_LAYOUT.replace("{% block main %}{% endblock %}", main))


_INVALID = page_template(
    """<h1>This link does not work</h1>
<p>It may be incomplete or too old. {{ hint }}</p>"""
)


def invalid_link(log: logging.Logger, token: str, hint: str) -> Response:
    """The same 404 page for a forged, altered or expired link, or one whose record is gone;
    the log names the link by its fingerprint only."""
    log.info("link refused", extra={"link": fingerprint(token)})
    html = _INVALID.render(title="Link not valid", hint=hint)
    return HTMLResponse(html, status_code=404, headers=HEADERS)
