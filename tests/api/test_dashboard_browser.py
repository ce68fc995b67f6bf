"""The dashboard (/ui) in a real browser: Debian's chromium driven by Playwright.

Playwright is pointed at ``/usr/bin/chromium`` (``executable_path``): no browser is ever
downloaded (never ``playwright install``). ``make test`` installs chromium
(scripts/install-system-deps.sh); these tests skip, saying so, only when it is absent.
Each view is photographed (ui-*.png); `make screenshots` writes them into docs/img, which
docs/dashboard.md shows.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.api.conftest import H_A, H_ADMIN, H_B, JWT_SECRET, Server, start_server, wait_for
from tests.timeouts import CLIENT_TIMEOUT_S

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (scripts/install-system-deps.sh installs it; "
    "`make test` runs that first)",
)
# screenshots of every view: into docs/img (the pictures of docs/dashboard.md) only when asked
# (`make screenshots`), else into a temporary directory, so a test run leaves the tree as it was
IMG = (
    Path(os.environ["EXECFLOW_UI_SCREENSHOTS"])
    if os.environ.get("EXECFLOW_UI_SCREENSHOTS")
    else Path(tempfile.mkdtemp(prefix="execflow-ui-shots-"))
)
WAIT_MS = CLIENT_TIMEOUT_S * 1000
EXPECTED_4XX = "Failed to load resource: the server responded with a status of 4"


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tmp_path_factory.mktemp("ui"))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield b
        b.close()


class Page:
    """A logged-in tab that records every request it makes and every page error."""

    def __init__(self, browser: Any, server: Server, key: str) -> None:
        self.server = server
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.ctx = browser.new_context(viewport={"width": 1400, "height": 820})
        self.page = self.ctx.new_page()
        self.page.set_default_timeout(WAIT_MS)
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", self._console)
        self.page.goto(f"{server.base}/ui/")
        self.page.fill("#login-key", key)
        self.page.click("#login-form button[type=submit]")
        self.page.wait_for_selector("body[data-ready='1']")
        self.page.wait_for_selector("#conn.live")

    def _console(self, m: Any) -> None:
        # the browser logs every 4xx answer; the tests provoke some (validation) on purpose
        if m.type == "error" and not m.text.startswith(EXPECTED_4XX):
            self.errors.append(m.text)

    def go(self, view: str) -> None:
        self.page.evaluate("(h) => { location.hash = h; }", f"#/{view}")
        self.page.wait_for_selector(f"#view[data-view='{view.split('/', maxsplit=1)[0]}']")

    def shot(self, name: str) -> None:
        IMG.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(IMG / f"ui-{name}.png"))

    def submit(self, **fields: str) -> str:
        """Fill the ticket (select fields by value) and submit; the result line's text."""
        self.go("ticket")
        for name, value in fields.items():
            el = self.page.locator(f"#f-{name}")
            if el.evaluate("e => e.tagName") == "SELECT":
                el.select_option(value)
            else:
                el.fill(value)
        self.page.evaluate("document.getElementById('ticket-result').textContent = ''")
        self.page.click("#ticket-submit")
        self.page.wait_for_selector("#ticket-result:not(:empty)")
        text: str = self.page.inner_text("#ticket-result")
        return text

    def order_row(self, cl: str, status: str) -> None:
        """Filter the blotter to ``cl`` and wait until its row shows ``status``."""
        self.go("blotter")
        self.page.fill("#blotter-filter", cl)
        self.page.wait_for_selector(
            f".grid-row[data-id='{cl}'] [data-col=status]:text-is('{status}')"
        )

    def close(self) -> None:
        self.ctx.close()
        foreign = [
            u for u in self.requests if urlsplit(u).netloc != urlsplit(self.server.base).netloc
        ]
        assert not foreign, f"the page loaded from elsewhere: {foreign}"
        assert not self.errors, self.errors


@pytest.fixture
def tab_a(browser: Any, ui_server: Server) -> Iterator[Page]:
    p = Page(browser, ui_server, "key-a")
    yield p
    p.close()


def test_login_submit_market_order_and_see_it_fill_in_the_blotter(tab_a: Page) -> None:
    tab_a.shot("login-done")
    result = tab_a.submit(order_type="MARKET", side="BUY", quantity="100", cl_ord_id="ui-mkt-1")
    assert result == "order ui-mkt-1 SUBMITTED"
    tab_a.shot("ticket")
    tab_a.order_row("ui-mkt-1", "FILLED")
    row = tab_a.page.locator(".grid-row[data-id='ui-mkt-1']")
    assert row.locator("[data-col=filled_quantity]").inner_text() == "100"
    assert row.locator("[data-col=leaves_quantity]").inner_text() == "0"
    # the average price the blotter computed from the stream's fills is the API's
    with tab_a.server.client() as c:
        api = c.get("/v1/orders/ui-mkt-1", headers=H_A).json()
    wait_for(lambda: row.locator("[data-col=average_price]").inner_text() == api["average_price"])
    tab_a.page.fill("#blotter-filter", "")
    tab_a.shot("blotter")
    tab_a.page.click("#tab-fills")
    tab_a.page.fill("#blotter-filter", "ui-mkt-1")
    tab_a.page.wait_for_selector("#grid-fills .grid-row[data-id]")
    fills = tab_a.page.locator("#grid-fills .grid-row[data-id]").count()
    with tab_a.server.client() as c:
        assert fills == len(c.get("/v1/orders/ui-mkt-1/executions", headers=H_A).json()["items"])
    tab_a.shot("fills")
    tab_a.page.click("#tab-positions")
    tab_a.page.fill("#blotter-filter", "")
    tab_a.page.wait_for_selector("#grid-positions .grid-row[data-id='A/AAPL']")
    tab_a.shot("positions")


def test_login_with_a_jwt_sees_that_token_s_accounts(browser: Any, ui_server: Server) -> None:
    from execflow.api.auth import make_jwt

    with ui_server.client() as c:
        body = {"instrument": "AAPL", "side": "BUY", "quantity": "3", "cl_ord_id": "ui-jwt-b"}
        assert c.post("/v1/orders", json=body, headers=H_B).status_code == 201
    token = make_jwt(JWT_SECRET, "bob", ["read", "trade"], ["B"])
    tab = Page(browser, ui_server, token)  # REST with the token, the stream in the subprotocol
    assert tab.page.inner_text("#who") == "jwt:bob · B"
    tab.order_row("ui-jwt-b", "FILLED")
    accounts = tab.page.evaluate(
        "[...new Set(window.__execflow.store.orderRows.map(o => o.account))]"
    )
    assert accounts == ["B"]
    tab.close()


def test_the_ticket_shows_the_api_s_validation_messages(tab_a: Page) -> None:
    body = {"instrument": "AAPL", "side": "BUY", "quantity": "1.5", "order_type": "MARKET"}
    with tab_a.server.client() as c:
        problem = c.post("/v1/orders", json=body, headers=H_A).json()
    text = tab_a.submit(order_type="MARKET", quantity="1.5", cl_ord_id="")
    assert text.splitlines()[0] == f"{problem['code']}: {problem['detail']}"
    # a body the schema refuses (422): the per-field messages are shown too
    text = tab_a.submit(order_type="LIMIT", quantity="abc", price="190.00")
    assert text.startswith("VALIDATION_ERROR: ")
    assert "quantity" in text
    tab_a.shot("ticket-validation")


def test_a_user_sees_only_their_accounts(tab_a: Page) -> None:
    with tab_a.server.client() as c:
        r = c.post(
            "/v1/orders",
            json={"instrument": "AAPL", "side": "SELL", "quantity": "5", "cl_ord_id": "ui-b-only"},
            headers=H_B,
        )
        assert r.status_code == 201, r.text
        # one of A's own after B's: once it shows, B's has been streamed past A's page
        r = c.post(
            "/v1/orders",
            json={"instrument": "AAPL", "side": "BUY", "quantity": "5", "cl_ord_id": "ui-a-after"},
            headers=H_A,
        )
        assert r.status_code == 201, r.text
    tab_a.order_row("ui-a-after", "FILLED")
    store_has_b = tab_a.page.evaluate("window.__execflow.store.orders.has('ui-b-only')")
    assert store_has_b is False
    accounts = tab_a.page.evaluate(
        "[...new Set(window.__execflow.store.orderRows.map(o => o.account))]"
    )
    assert accounts == ["A"]
    tab_a.page.fill("#blotter-filter", "ui-b-only")
    tab_a.page.wait_for_selector("#blotter-status:text-matches('^0 of ')")


def test_cancel_and_replace_from_the_blotter(tab_a: Page) -> None:
    text = tab_a.submit(
        order_type="LIMIT", side="SELL", quantity="50", price="500.00", cl_ord_id="ui-rest-1"
    )
    assert text == "order ui-rest-1 SUBMITTED"
    tab_a.order_row("ui-rest-1", "ACCEPTED")
    row = tab_a.page.locator(".grid-row[data-id='ui-rest-1']")
    row.locator("button[data-action=replace]").click()
    tab_a.page.fill("dialog #f-quantity", "40")
    tab_a.page.fill("dialog #f-price", "499.50")
    tab_a.shot("replace")
    tab_a.page.click("#dlg-ok")
    wait_for(lambda: row.locator("[data-col=quantity]").inner_text() == "40")
    assert row.locator("[data-col=price]").inner_text() == "499.50"
    row.locator("button[data-action=cancel]").click()
    tab_a.page.wait_for_selector(
        ".grid-row[data-id='ui-rest-1'] [data-col=status]:text-is('CANCELED')"
    )
    with tab_a.server.client() as c:
        assert c.get("/v1/orders/ui-rest-1", headers=H_A).json()["status"] == "CANCELED"


def test_execution_flow_shows_the_lifecycle_and_the_parent_children_tree(tab_a: Page) -> None:
    text = tab_a.submit(
        kind="bracket", order_type="LIMIT", side="BUY", quantity="10", price="100.00",
        take_profit="600.00", stop_loss="50.00", cl_ord_id="",
    )  # fmt: skip
    assert "ACCEPTED" in text, text
    members = [m.split(" ")[0] for m in text.split(": ", 1)[1].split(", ")]
    entry = members[0]
    tab_a.go(f"flow/{entry}")
    tab_a.page.wait_for_selector("#flow-timeline li[data-type='order.accepted']")
    types = tab_a.page.eval_on_selector_all(
        "#flow-timeline li", "els => els.map(e => e.dataset.type)"
    )
    with tab_a.server.client() as c:
        api = c.get(f"/v1/orders/{entry}/events", headers=H_A).json()["items"]
    assert types == [e["type"] for e in api][: len(types)]
    assert types[0] == "order.initialized"
    for m in members:
        tab_a.page.wait_for_selector(f"#flow-tree a:text-is('{m}')")
    tab_a.shot("flow")


def test_an_algo_parent_from_the_ticket_and_its_decisions_in_the_flow_view(tab_a: Page) -> None:
    text = tab_a.submit(
        kind="algo", strategy="TWAP", side="BUY", quantity="300", duration="60",
        cl_ord_id="ui-algo-1",
    )  # fmt: skip
    assert text == "algo ui-algo-1 RUNNING", text
    tab_a.go("flow/ui-algo-1")
    tab_a.page.wait_for_selector("#flow-timeline li[data-type='order.initialized']")
    tab_a.page.wait_for_selector("#flow-decisions tbody tr")
    with tab_a.server.client() as c:
        decisions = c.get("/v1/algos/ui-algo-1/events", headers=H_A).json()["items"]
    assert tab_a.page.locator("#flow-decisions tbody tr").count() <= len(decisions)
    tab_a.page.wait_for_selector("#flow-tree a:text-is('ui-algo-1')")
    tab_a.shot("flow-algo")
    with tab_a.server.client() as c:
        c.delete("/v1/algos/ui-algo-1", headers=H_A)


def test_the_risk_view_and_the_admin_kill_switch_with_confirmation(
    browser: Any, ui_server: Server
) -> None:
    ro = Page(browser, ui_server, "key-a")
    ro.go("risk")
    ro.page.wait_for_selector("#kill-state")
    assert ro.page.locator("#kill-engage").count() == 0  # not an admin key
    ro.close()
    admin = Page(browser, ui_server, "key-admin")
    admin.go("risk")
    admin.page.wait_for_selector("#kill-state:text-is('not engaged')")
    admin.page.click("#stress-run")  # firm-wide historical scenarios (admin: every account)
    admin.page.wait_for_selector("#stress-worst")
    with ui_server.client() as c:
        api = c.post("/v1/risk/stress", json={"historical": True}, headers=H_ADMIN).json()
    # (the marks move between the two runs: compare the shape, not the amounts)
    assert re.fullmatch(
        rf"-?\d+(\.\d+)? {api['base_currency']}", admin.page.inner_text("#stress-worst")
    )
    rows = admin.page.locator("#risk-stress tbody tr").count()
    assert rows == len(api["scenarios"]) >= 3
    admin.shot("risk")
    # a confirmation that does not say KILL does nothing
    admin.page.click("#kill-engage")
    admin.page.fill("dialog #f-account", "B")
    admin.page.fill("dialog #f-why", "browser test")
    admin.page.fill("dialog #f-confirm", "no")
    admin.page.click("#dlg-ok")
    admin.page.wait_for_selector("#risk-message:text-is('not confirmed: nothing done')")
    admin.page.click("#kill-engage")
    admin.page.fill("dialog #f-account", "B")
    admin.page.fill("dialog #f-why", "browser test")
    admin.page.fill("dialog #f-confirm", "KILL")
    admin.shot("kill-switch-confirm")
    admin.page.click("#dlg-ok")
    admin.page.wait_for_selector("#kill-state:text-is('ENGAGED: B')")
    with ui_server.client() as c:
        r = c.post(
            "/v1/orders",
            json={"instrument": "AAPL", "side": "BUY", "quantity": "1"},
            headers=H_B,
        )
        assert r.json()["code"] == "KILL_SWITCH", r.text
    admin.shot("risk-killed")
    admin.page.click("#kill-release")
    admin.page.fill("dialog #f-account", "B")
    admin.page.fill("dialog #f-why", "done")
    admin.page.fill("dialog #f-confirm", "RELEASE")
    admin.page.click("#dlg-ok")
    admin.page.wait_for_selector("#kill-state:text-is('not engaged')")
    admin.close()


def test_settlement_and_performance_views(tab_a: Page) -> None:
    tab_a.submit(order_type="MARKET", side="SELL", quantity="20", cl_ord_id="ui-perf-1")
    tab_a.order_row("ui-perf-1", "FILLED")
    tab_a.go("performance")
    tab_a.page.wait_for_selector("#chart-slippage")
    for chart in ("#chart-slippage", "#chart-ack"):
        wait_for(lambda c=chart: "(n=0)" not in (tab_a.page.text_content(c) or ""))  # type: ignore[misc]
    tab_a.page.wait_for_selector("#perf-venues td:text-is('PAPER')")
    tab_a.page.wait_for_selector("#perf-tca td:text-is('USD')")
    with tab_a.page.expect_download() as dl:
        tab_a.page.click("#tca-report")
    report = Path(dl.value.path()).read_text(encoding="utf-8")
    assert dl.value.suggested_filename == "tca-report.html"
    assert report.lstrip().lower().startswith("<!doctype html") or "<html" in report[:500].lower()
    tab_a.shot("performance")
    tab_a.go("settlement")
    tab_a.page.wait_for_selector("#settlement-counts, #settlement-message:not(:empty)")
    tab_a.shot("settlement")


def test_the_blotter_virtualises_tens_of_thousands_of_rows(tab_a: Page) -> None:
    """50,000 orders in the blotter's store: the page keeps a few dozen row elements, and
    sorting and filtering cover every row."""
    tab_a.go("blotter")
    n = tab_a.page.evaluate(
        """() => {
        const s = window.__execflow.store;
        for (let i = 0; i < 50000; i++) {
          s.putOrder({cl_ord_id: `synth-${String(i).padStart(5, "0")}`, account: "A",
            instrument: i % 2 ? "AAPL" : "MSFT", side: i % 3 ? "BUY" : "SELL",
            order_type: "LIMIT", quantity: String(1 + (i % 997)), price: "100.00",
            status: i % 5 ? "FILLED" : "CANCELED", filled_quantity: "0",
            leaves_quantity: "0", created_at: "2026-01-01T00:00:00Z", version: 1});
        }
        s.emit("orders");
        return s.orderRows.length;
    }"""
    )
    assert n >= 50_000
    tab_a.page.fill("#blotter-filter", "synth-")
    tab_a.page.wait_for_selector("#blotter-status:text-matches('^50000 of ')")
    rows_in_dom = tab_a.page.locator("#grid-orders .grid-row").count()
    assert rows_in_dom < 200
    tab_a.page.fill("#blotter-filter", "synth- status:canceled instrument:msft")
    # every 5th is CANCELED, every 2nd MSFT: i % 10 == 0
    tab_a.page.wait_for_selector("#blotter-status:text-matches('^5000 of ')")
    tab_a.page.click("#grid-orders .grid-head .cell[data-key=quantity]")
    first = tab_a.page.locator("#grid-orders .grid-row[data-id]").first
    wait_for(lambda: first.locator("[data-col=quantity]").inner_text() == "1")
    # scroll to the end: the last rows are painted, still only a window of elements
    tab_a.page.eval_on_selector("#grid-orders .grid-body", "b => { b.scrollTop = b.scrollHeight; }")
    wait_for(
        lambda: (
            tab_a.page.locator(
                "#grid-orders .grid-row[data-id] [data-col=quantity]"
            ).all_inner_texts()[-1:]
            == ["997"]
        )
    )
    assert tab_a.page.locator("#grid-orders .grid-row").count() < 200
    tab_a.shot("blotter-50k")


def test_ui_is_served_with_a_same_origin_policy(ui_server: Server) -> None:
    with httpx.Client(base_url=ui_server.base, timeout=CLIENT_TIMEOUT_S) as c:
        r = c.get("/ui/")
        assert r.status_code == 200
        assert "default-src 'self'" in r.headers["content-security-policy"]
        assert c.get("/ui/assets/js/main.js").status_code == 200
