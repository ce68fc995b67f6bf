"""``/docs`` and ``/redoc`` work without internet (issue 15): the pages name no URL outside the
server, and every script, style sheet and icon they load is served by execflow itself from
the package."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.api.conftest import Server
from tests.timeouts import CLIENT_TIMEOUT_S

# any absolute or protocol-relative URL: the pages must name none
EXTERNAL = re.compile(r"""(?:https?:)?//[a-z0-9.-]+""", re.IGNORECASE)
# what the page loads: src/href attributes and the string arguments of the UI's constructors
ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


@pytest.fixture(scope="module")
def plain_client(server: Server) -> Iterator[httpx.Client]:
    """No API key: a browser opening the page has none."""
    with httpx.Client(base_url=server.base, timeout=CLIENT_TIMEOUT_S) as c:
        yield c


@pytest.mark.parametrize(
    ("page", "needed"),
    [
        ("/docs", {"swagger-ui-bundle.js", "swagger-ui.css"}),
        ("/redoc", {"redoc.standalone.js"}),
    ],
)
def test_docs_page_loads_only_local_assets(
    plain_client: httpx.Client, page: str, needed: set[str]
) -> None:
    r = plain_client.get(page)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    assert not EXTERNAL.findall(html), EXTERNAL.findall(html)
    assert "/openapi.json" in html
    assets = set(ASSET.findall(html))
    assert {a.rsplit("/", 1)[-1] for a in assets} >= needed, assets
    for url in assets:
        assert url.startswith("/"), url  # served by us
        got = plain_client.get(url)
        assert got.status_code == 200, (url, got.status_code)
        assert len(got.content) > 500, url  # the real file, not an empty placeholder
    # and the document the page renders is there too
    doc = plain_client.get("/openapi.json")
    assert doc.status_code == 200 and doc.json()["info"]["title"] == "execflow API"


def test_assets_carry_their_licences(plain_client: httpx.Client) -> None:
    """Vendored with their licences (Apache-2.0 Swagger UI, MIT ReDoc)."""
    lic = plain_client.get("/docs-assets/swagger-ui.LICENSE.txt")
    assert lic.status_code == 200 and "Apache License" in lic.text
    lic = plain_client.get("/docs-assets/redoc.LICENSE.txt")
    assert lic.status_code == 200 and "MIT License" in lic.text
    js = plain_client.get("/docs-assets/swagger-ui-bundle.js")
    assert "javascript" in js.headers["content-type"]
    assert plain_client.get("/docs-assets/nope.js").status_code == 404
