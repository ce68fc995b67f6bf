"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) from assets shipped in the package: the pages
work offline and load nothing from a CDN (issue 15). The assets and their licences are in
``execflow/api/static`` (see its README)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR: Final = Path(__file__).parent / "static"
ASSETS: Final = "/docs-assets"


def install(api: FastAPI, *, openapi_url: str = "/openapi.json") -> None:
    """Serve the two documentation pages and their assets; ``api`` must have been created with
    ``docs_url=None, redoc_url=None`` (FastAPI's own pages point at a CDN)."""
    api.mount(ASSETS, StaticFiles(directory=STATIC_DIR), name="docs-assets")
    title = api.title

    @api.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - Swagger UI",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
            # no badge from the public validator service: nothing leaves the machine
            swagger_ui_parameters={"validatorUrl": None},
        )

    @api.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} - ReDoc",
            redoc_js_url=f"{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS}/favicon-32x32.png",
            with_google_fonts=False,
        )
