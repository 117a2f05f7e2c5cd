"""GraphiQL from the package itself: the page `/graphql` shows to a browser and its pinned
assets (GraphiQL, React, the explorer plugin, from their npm releases) at `/graphiql/<file>`,
so the IDE works offline. Versions, sources and licences: `crm/static/graphiql/README.md`."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response

ASSETS_DIR = Path(__file__).parent / "static" / "graphiql"
ASSETS_PATH = "/graphiql"
# Every served name carries its version (ours a content hash), so a cached copy never goes stale.
CACHE_FOREVER = "public, max-age=31536000, immutable"
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".LICENSE": "text/plain; charset=utf-8",
}
# The page may load and call nothing but the API's own origin (websockets included).
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _integrity(content: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()


def render_page(directory: Path = ASSETS_DIR) -> str:
    """`page.html` with the version and integrity of our own script and stylesheet."""
    page = (directory / "page.html").read_text()
    for name, marker in (("crm-graphiql.js", "CRM_JS"), ("crm-graphiql.css", "CRM_CSS")):
        content = (directory / name).read_bytes()
        page = page.replace(f"{marker}_VERSION", hashlib.sha256(content).hexdigest()[:12])
        page = page.replace(f"{marker}_INTEGRITY", _integrity(content))
    return page


class GraphiQLPage:
    """The page and the files it loads, read from the package once."""

    def __init__(self, directory: Path = ASSETS_DIR) -> None:
        self.html = render_page(directory)
        self.files = {
            path.name: path
            for path in directory.iterdir()
            if path.is_file() and path.suffix in MEDIA_TYPES
        }

    def page(self) -> HTMLResponse:
        return HTMLResponse(self.html, headers=PAGE_HEADERS)

    async def asset(self, request: Request) -> Response:
        path = self.files.get(request.path_params["name"])
        if path is None:
            return PlainTextResponse("Not found", status_code=404)
        return FileResponse(
            path,
            media_type=MEDIA_TYPES[path.suffix],
            headers={"Cache-Control": CACHE_FOREVER, "X-Content-Type-Options": "nosniff"},
        )
