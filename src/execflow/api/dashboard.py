"""The browser dashboard at ``/ui`` (issue 23): plain ES modules, a stylesheet and an HTML shell
shipped in ``execflow/api/webui``, served by the API's own process on its port. No build step,
no CDN, no font or script from anywhere else: the page's Content-Security-Policy allows only
this origin, so a page that tried to load from elsewhere would fail its browser tests.

The page logs in with an API key (kept in the tab's sessionStorage), reads the REST API and
follows the WebSocket stream with the same key: it sees exactly what the key may see.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

WEBUI_DIR: Final = Path(__file__).parent / "webui"
ASSETS: Final = "/ui/assets"
CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class _Assets(StaticFiles):
    """Static files with the dashboard's security headers (and revalidation on every load)."""

    def file_response(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = super().file_response(*args, **kwargs)
        response.headers.update(HEADERS)
        return response


def install(api: FastAPI) -> None:
    api.mount(ASSETS, _Assets(directory=WEBUI_DIR), name="ui-assets")

    @api.get("/ui", include_in_schema=False)
    def ui_redirect() -> RedirectResponse:
        return RedirectResponse("/ui/")

    @api.get("/ui/", include_in_schema=False)
    def ui_index() -> FileResponse:
        return FileResponse(WEBUI_DIR / "index.html", media_type="text/html", headers=HEADERS)
