"""WebSocket streaming: resume without gap or duplicate, heartbeats, slow consumers."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import httpx
import pytest

from execflow.api.settings import ApiSettings
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderType
from tests.api.conftest import H_A, Server, start_server, wait_for
from tests.api.wsclient import close_info, collect_until, open_stream, recv_json
from tests.timeouts import CLIENT_TIMEOUT_S, STREAM_TIMEOUT_S

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def submit_many(client: httpx.Client, n: int, tag: str, **extra: str) -> list[str]:
    ids = []
    for i in range(n):
        cl = f"{tag}-{i}"
        body = {"instrument": "AAPL", "side": "BUY" if i % 2 else "SELL", "quantity": "3",
                "cl_ord_id": cl, **extra}  # fmt: skip
        r = client.post("/v1/orders", json=body, headers=H_A)
        assert r.status_code == 201, r.text
        ids.append(cl)
    return ids


def expected_seqs(server: Server, after: int, account: str) -> list[int]:
    """What the log says the subscription must deliver: every event of the account's orders."""
    store = server.ctx.app.store
    index = server.ctx.index
    out = []
    for rec in store.read_all(after):
        cl = getattr(rec.event, "cl_ord_id", None)  # order and settlement events of an order
        if cl is not None:
            meta = index.owner(cl)
            if meta is not None and meta.account == account:
                out.append(rec.position)
    return out


def test_resume_after_disconnect_has_no_gap_and_no_duplicate(
    server: Server, client: httpx.Client
) -> None:
    start = server.ctx.app.engine.position
    tag = f"ws-{uuid.uuid4().hex[:6]}"
    ws = open_stream(server.ws, "key-a", after=start, account="A")
    hello = recv_json(ws)
    assert hello["op"] == "subscribed" and hello["after"] == start
    first = submit_many(client, 10, tag + "a")
    events, _ = collect_until(
        ws, lambda evs: any(e["cl_ord_id"] == first[-1] for e in evs), timeout=CLIENT_TIMEOUT_S
    )
    ws.close()
    last_seen = events[-1]["seq"]
    # keep trading while disconnected
    second = submit_many(client, 10, tag + "b")
    orders = server.ctx.app.engine.orders
    wait_for(lambda: all(orders[c].status == "FILLED" for c in first + second))
    head = server.ctx.app.engine.position
    ws = open_stream(server.ws, "key-a", after=last_seen, account="A")
    assert recv_json(ws)["after"] == last_seen
    want_total = expected_seqs(server, start, "A")
    want_total = [s for s in want_total if s <= head]
    more, _ = collect_until(ws, lambda evs: bool(evs) and evs[-1]["seq"] >= want_total[-1], 10)
    ws.close()
    got = [e["seq"] for e in events] + [e["seq"] for e in more if e["seq"] <= head]
    assert got == want_total  # in order, nothing missing, nothing twice
    assert len(set(got)) == len(got)
    names = {e["cl_ord_id"] for e in events + more}
    assert set(first) | set(second) <= names
    fill = next(e for e in more if e["type"] == "order.filled")
    assert fill["account"] == "A" and fill["instrument"] == "AAPL"
    assert "." in fill["data"]["last_px"]  # decimal string, not fixed-point units


def test_filters_by_type_and_order(server: Server, client: httpx.Client) -> None:
    start = server.ctx.app.engine.position
    tag = f"flt-{uuid.uuid4().hex[:6]}"
    ws = open_stream(
        server.ws, "key-a", after=start, type="order.accepted", cl_ord_id=[f"{tag}-1", f"{tag}-2"]
    )
    recv_json(ws)
    submit_many(client, 4, tag)
    events, _ = collect_until(ws, lambda evs: len(evs) >= 2, timeout=CLIENT_TIMEOUT_S)
    ws.close()
    assert {e["cl_ord_id"] for e in events} == {f"{tag}-1", f"{tag}-2"}
    assert {e["type"] for e in events} == {"order.accepted"}


def test_heartbeats_when_idle(server: Server) -> None:
    ws = open_stream(server.ws, "key-a", heartbeat="0.1", instrument="NOTHING")
    hello = recv_json(ws)
    assert hello["heartbeat_s"] == 0.1
    beats = [recv_json(ws, 2.0) for _ in range(3)]
    ws.send('{"op":"ping"}')
    msgs = [recv_json(ws, 2.0) for _ in range(3)]
    ws.close()
    assert all(b["op"] == "heartbeat" and b["head"] >= b["seq"] for b in beats)
    assert any(m["op"] == "pong" for m in msgs)


def test_slow_consumer_is_dropped_with_reason_and_others_are_not_stalled(
    tmp_path: Path,
) -> None:
    # the client that does not read cannot answer protocol pings either: on a loaded machine
    # producing the backlog can outlast a ping timeout, which would close it (1011) before the
    # feed drops it; this test is about the feed's drop, so pings are far apart. The same for
    # the send timeout (2 x heartbeat): with a 5 s heartbeat, a blocked send timed out (also a
    # drop, "send timed out") before the backlog filled the queue on a loaded machine
    settings = ApiSettings(
        rate_per_s=1e6, burst=1e6, stream_queue=20_000, heartbeat_s=600.0,
        ws_ping_interval_s=3600.0, ws_ping_timeout_s=3600.0,
    )  # fmt: skip
    # the test trades as fast as it can until the drop: the default order-rate limit
    # (2,000/s per account) would refuse orders before that on a fast or a slow machine alike
    risk = tmp_path / "risk.toml"
    risk.write_text("limits = [{ max_orders_per_second = 100000000 }]\n")
    srv = start_server(tmp_path, settings=settings, sndbuf=4096, risk_config=risk)
    try:
        if True:
            slow = open_stream(srv.ws, "key-a", rcvbuf=2048, after=0)
            assert recv_json(slow)["op"] == "subscribed"
            fast = open_stream(srv.ws, "key-admin", after=0)
            assert recv_json(fast)["op"] == "subscribed"
            fast_events: list[dict[str, object]] = []
            stop = threading.Event()

            def read_fast() -> None:
                while not stop.is_set():
                    try:
                        msg = recv_json(fast, 0.2)
                    except TimeoutError:
                        continue
                    if msg["op"] == "events":
                        fast_events.extend(msg["events"])  # type: ignore[arg-type]

            reader = threading.Thread(target=read_fast, daemon=True)
            reader.start()
            runner = srv.ctx.runner
            feed = srv.ctx.feed
            n = 0
            # trade until the feed drops the client that does not read (bounded)
            # (a generous count: the stopped client's message queue and the socket buffers absorb
            # whole batches of events before the subscription's own queue starts to fill)
            while feed.dropped == 0 and n < 200_000:  # bounded by the order count, not by time
                tickets = [
                    runner.send(
                        SubmitOrder(
                            cl_ord_id=f"slow-{n + i}", account="A", instrument="AAPL",
                            side=1 - 2 * (i % 2), order_type=OrderType.MARKET, quantity=50,
                        )
                    )
                    for i in range(50)
                ]  # fmt: skip
                n += 50
                results = [t.wait(CLIENT_TIMEOUT_S) for t in tickets]
                assert all(r.ok for r in results), [r for r in results if not r.ok][:3]
            assert feed.dropped == 1
            head = srv.ctx.app.engine.position
            code, reason, slow_events = close_info(slow)
            assert code == 1013, (code, reason)
            assert "slow consumer" in reason and "resume after=" in reason
            resume = int(reason.rsplit("after=", 1)[1])
            assert resume == (slow_events[-1]["seq"] if slow_events else 0)
            wait_for(lambda: bool(fast_events) and fast_events[-1]["seq"] >= head, STREAM_TIMEOUT_S)
            stop.set()
            reader.join(2)
            seqs = [e["seq"] for e in fast_events]
            assert seqs == list(range(1, len(seqs) + 1))  # the fast client missed nothing
            # the dropped client resumes where it was cut off
            again = open_stream(srv.ws, "key-a", after=resume)
            recv_json(again)
            want_a = [p for p in expected_seqs(srv, 0, "A") if p <= head]
            rest, _ = collect_until(
                again, lambda evs: bool(evs) and evs[-1]["seq"] >= want_a[-1], STREAM_TIMEOUT_S
            )
            again.close()
            fast.close()
            got = [e["seq"] for e in slow_events] + [e["seq"] for e in rest if e["seq"] <= head]
            # key-a sees account A's events (not, e.g., settlement journals without an order)
            assert got == want_a
    finally:
        srv.stop()
