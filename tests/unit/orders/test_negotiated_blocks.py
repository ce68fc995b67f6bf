"""Negotiated blocks (issue 25, docs/settlement.md "Negotiated blocks"): offer, counter-offers
in turns, accept (our firm order at the agreed size and price through the order path with
pre-trade risk), reject, expiry on the engine's Clock, the state after a restart, clear
refusals. The engine is the composition root's, on the FakeVenue and a memory store."""

from __future__ import annotations

from typing import Any

from execflow.adapters.store.memory import MemoryEventStore
from execflow.application.blocks import BlockDesk, block_view
from execflow.application.feed_filter import EventFilter
from execflow.domain.blocks import (
    BLOCK_STREAM_PREFIX,
    BlockAccepted,
    BlockAcceptRefused,
    BlockCountered,
    BlockEvent,
    BlockExpired,
    BlockOpened,
    BlockRejected,
    BlockStatus,
    Party,
)
from execflow.domain.commands import AcceptBlock, CounterBlock, OpenBlock, RejectBlock
from execflow.domain.enums import OrderStatus, OrderType, TimeInForce
from tests.unit.risk.helpers import AAPL, Rig

S = 10**9


def limits(**kw: Any) -> dict[str, Any]:
    return {"limits": [kw]}


def open_block(nid: str = "BLK1", *, by: str = "US", qty: int = 10_000, price: int = 15_000,
               limit: int | None = 15_100, ttl_s: int = 30, **kw: Any) -> OpenBlock:  # fmt: skip
    return OpenBlock(negotiation_id=nid, account="A", instrument="AAPL", side=1,
                     counterparty="BROKER-X", quantity=qty, price=price, ttl_ns=ttl_s * S,
                     by=by, limit_price=limit, who="os:alice", why="pension fund rebalance",
                     venue="FAKE", **kw)  # fmt: skip


def counter(by: str, qty: int, price: int, nid: str = "BLK1", why: str = "") -> CounterBlock:
    return CounterBlock(negotiation_id=nid, by=by, quantity=qty, price=price, who="os:alice",
                        why=why)  # fmt: skip


def steps(rig: Rig, nid: str = "BLK1") -> list[BlockEvent]:
    return [
        r.event for r in rig.store.read_stream(BLOCK_STREAM_PREFIX + nid)
        if isinstance(r.event, BlockEvent)
    ]  # fmt: skip


def test_happy_path_becomes_our_firm_order_at_the_agreed_size_and_price() -> None:
    rig = Rig()
    e = rig.engine
    res = e.execute(open_block())
    assert (res.ok, res.cl_ord_id, res.status) == (True, "BLK1", "OPEN")
    assert e.execute(counter("THEM", 8_000, 15_080, why="8k is what they have")).ok
    res = e.execute(AcceptBlock(negotiation_id="BLK1", by="US", who="os:alice", why="fair"))
    assert (res.ok, res.status) == (True, "ACCEPTED")
    e.run_until_idle()
    order = e.orders["BLK1.F1"]
    assert (order.order_type, order.side, order.quantity, order.price, order.tif) == (
        OrderType.LIMIT, 1, 8_000, 15_080, TimeInForce.DAY,
    )  # fmt: skip
    assert order.account == "A" and order.instructions is not None
    assert order.instructions.ioi_id == "BLK1"
    assert order.status is not OrderStatus.DENIED
    evs = steps(rig)
    assert [type(x) for x in evs] == [BlockOpened, BlockCountered, BlockAccepted]
    assert [(x.who, x.why) for x in evs] == [
        ("os:alice", "pension fund rebalance"), ("os:alice", "8k is what they have"),
        ("os:alice", "fair"),
    ]  # fmt: skip
    acc = evs[2]
    assert isinstance(acc, BlockAccepted)
    assert (acc.by, acc.quantity, acc.price, acc.cl_ord_id) == (Party.US, 8_000, 15_080,
                                                                "BLK1.F1")  # fmt: skip
    view = block_view(e.blocks.negotiations["BLK1"], AAPL)
    assert (view["status"], view["quantity"], view["price"], view["firm_order"]) == (
        "ACCEPTED", "8000", "150.80", "BLK1.F1",
    )  # fmt: skip
    assert [o["by"] for o in view["offers"]] == ["US", "THEM"] and view["turn"] is None


def test_counter_chain_takes_turns_and_stays_within_our_limits() -> None:
    rig = Rig()
    e = rig.engine
    assert e.execute(open_block(min_qty=5_000)).ok
    # our own offer is on the table: we cannot counter or accept it ourselves
    res = e.execute(counter("US", 9_000, 15_010))
    assert (res.ok, res.code) == (False, "NOT_YOUR_TURN")
    assert "only THEM may counter" in (res.reason or "")
    res = e.execute(AcceptBlock(negotiation_id="BLK1", by="US"))
    assert (res.ok, res.code) == (False, "NOT_YOUR_TURN")
    # counters outside our limits: price above our limit, size above the block or below min
    # in people's numbers: AAPL prices in dollars (the log's integers are cents)
    for qty, px, words in ((10_000, 15_200, "a counter-offer at 152.00 is above our limit "
                                            "price 151.00"),
                           (12_000, 15_050, "of 12000 is outside our size limits 5000..10000"),
                           (4_000, 15_050, "outside our size limits 5000..10000")):  # fmt: skip
        res = e.execute(counter("THEM", qty, px))
        assert (res.ok, res.code) == (False, "COUNTER_OUTSIDE_LIMITS"), res
        assert words in (res.reason or "")
    chain = [("THEM", 10_000, 15_090), ("US", 10_000, 15_040), ("THEM", 9_000, 15_070),
             ("US", 9_000, 15_060)]  # fmt: skip
    for by, qty, px in chain:
        assert e.execute(counter(by, qty, px)).ok
    res = e.execute(counter("US", 9_000, 15_061))
    assert res.code == "NOT_YOUR_TURN"
    st = e.blocks.negotiations["BLK1"]
    assert [(o.by, o.quantity, o.price) for o in st.offers] == [
        (Party.US, 10_000, 15_000), *((Party(b), q, p) for b, q, p in chain),
    ]  # fmt: skip
    res = e.execute(AcceptBlock(negotiation_id="BLK1", by="THEM"))
    assert res.ok
    e.run_until_idle()
    assert (e.orders["BLK1.F1"].quantity, e.orders["BLK1.F1"].price) == (9_000, 15_060)
    # nothing refused was recorded: open + 4 counters + accept
    assert len(steps(rig)) == 6


def test_reject_closes_and_bad_input_is_refused_clearly() -> None:
    rig = Rig()
    e = rig.engine
    assert e.execute(open_block(by="THEM")).ok  # their offer, as the desk received it
    res = e.execute(RejectBlock(negotiation_id="BLK1", by="US", who="os:bob", why="too big"))
    assert (res.ok, res.status) == (True, "REJECTED")
    for cmd in (counter("THEM", 5_000, 15_000), AcceptBlock(negotiation_id="BLK1", by="US"),
                RejectBlock(negotiation_id="BLK1", by="THEM")):  # fmt: skip
        res = e.execute(cmd)
        assert (res.ok, res.code) == (False, "NEGOTIATION_CLOSED")
        assert res.reason == "block negotiation BLK1 is already REJECTED by US"
    res = e.execute(counter("THEM", 5_000, 15_000, nid="NOPE"))
    assert (res.ok, res.code, res.reason) == (
        False, "UNKNOWN_NEGOTIATION", "no block negotiation 'NOPE'",
    )  # fmt: skip
    assert e.execute(open_block()).code == "DUPLICATE_NEGOTIATION"
    assert e.execute(open_block("B2", price=15_200)).code == "COUNTER_OUTSIDE_LIMITS"
    assert e.execute(open_block("B3", ttl_s=0)).code == "INVALID_TTL"
    assert e.execute(open_block("B4", by="ME")).code == "INVALID_PARTY"
    bad = OpenBlock(negotiation_id="B5", account="A", instrument="ZZZ", side=1,
                    counterparty="X", quantity=1, price=1, ttl_ns=S)  # fmt: skip
    assert e.execute(bad).code == "UNKNOWN_INSTRUMENT"
    rej = steps(rig)[-1]
    assert isinstance(rej, BlockRejected) and (rej.by, rej.who, rej.why) == (
        Party.US, "os:bob", "too big",
    )  # fmt: skip
    assert [s for s in e.blocks.negotiations] == ["BLK1"]  # refusals recorded nothing


def test_an_unanswered_offer_expires_on_the_engine_clock() -> None:
    rig = Rig()
    e = rig.engine
    assert e.execute(open_block(ttl_s=30)).ok
    rig.clock.advance(20 * S)
    assert e.execute(counter("THEM", 10_000, 15_050)).ok  # their counter stands 30 s from now
    rig.clock.advance(29 * S)
    e.process()
    assert e.blocks.negotiations["BLK1"].status is BlockStatus.OPEN
    rig.clock.advance(1 * S)
    assert e.process() == 1
    st = e.blocks.negotiations["BLK1"]
    assert (st.status, st.closed_by) == (BlockStatus.EXPIRED, Party.THEM)
    exp = steps(rig)[-1]
    assert isinstance(exp, BlockExpired) and exp.ts == rig.clock.now_ns() and exp.who == "engine"
    res = e.execute(AcceptBlock(negotiation_id="BLK1", by="US"))
    assert (res.ok, res.code) == (False, "NEGOTIATION_CLOSED")
    assert "already EXPIRED by THEM" in (res.reason or "")
    assert e.blocks.due_ns is None and "BLK1.F1" not in e.orders


def test_restart_mid_negotiation_restores_it_and_it_goes_on() -> None:
    store = MemoryEventStore()
    rig = Rig(store=store)
    assert rig.engine.execute(open_block(ttl_s=60)).ok
    assert rig.engine.execute(counter("THEM", 9_000, 15_070)).ok
    before = rig.engine.blocks.negotiations["BLK1"]
    # a new process on the same log (no snapshot: the fold of the block- stream)
    again = Rig(store=store, clock=rig.clock, recover=True)
    assert again.engine.blocks.negotiations["BLK1"] == before
    assert again.engine.blocks.due_ns == before.offer.expire_at
    # a snapshot restores the same state without the log
    desk = BlockDesk(lambda: 0, lambda s, ev: None, lambda c: None, lambda i: None)  # type: ignore[arg-type,return-value]
    data = again.engine.blocks.snapshot()
    assert data is not None and desk.restore(data) == 0
    assert desk.negotiations == {"BLK1": before} and desk.due_ns == before.offer.expire_at
    # it goes on: a counter, then their offer expires on the restarted engine's clock
    assert again.engine.execute(counter("US", 9_000, 15_060)).ok
    again.clock.advance(60 * S)
    again.engine.process()
    assert again.engine.blocks.negotiations["BLK1"].status is BlockStatus.EXPIRED
    assert [type(x) for x in steps(again)] == [
        BlockOpened, BlockCountered, BlockCountered, BlockExpired,
    ]  # fmt: skip


def test_pre_trade_risk_refusing_the_firm_order_keeps_the_negotiation_open() -> None:
    rig = Rig(limits(max_order_qty="5000"))
    e = rig.engine
    assert e.execute(open_block()).ok
    assert e.execute(counter("THEM", 8_000, 15_080)).ok
    res = e.execute(AcceptBlock(negotiation_id="BLK1", by="US", who="os:alice"))
    assert not res.ok and res.status == "OPEN" and res.code
    assert "BLK1.F1" in (res.reason or "") and "stays open" in (res.reason or "")
    assert e.orders["BLK1.F1"].status is OrderStatus.DENIED  # the order path denied it
    refused = steps(rig)[-1]
    assert isinstance(refused, BlockAcceptRefused)
    assert (refused.cl_ord_id, refused.code) == ("BLK1.F1", res.code)
    st = e.blocks.negotiations["BLK1"]
    assert st.is_open and st.offer.by is Party.THEM and st.refused_orders == ("BLK1.F1",)
    # we counter at a size risk allows; they accept: the second firm order goes through
    assert e.execute(counter("US", 5_000, 15_080)).ok
    res = e.execute(AcceptBlock(negotiation_id="BLK1", by="THEM"))
    assert res.ok, res
    e.run_until_idle()
    assert e.orders["BLK1.F2"].quantity == 5_000
    assert e.orders["BLK1.F2"].status is not OrderStatus.DENIED


def test_every_step_names_the_account_for_account_filtered_feeds() -> None:
    rig = Rig(limits(max_order_qty="5000"))
    e = rig.engine
    assert e.execute(open_block(ttl_s=5)).ok
    assert e.execute(counter("THEM", 8_000, 15_080)).ok
    assert not e.execute(AcceptBlock(negotiation_id="BLK1", by="US")).ok  # refused by risk
    assert e.execute(open_block("BLK2")).ok
    assert e.execute(RejectBlock(negotiation_id="BLK2", by="THEM")).ok
    rig.clock.advance(5 * S)
    e.process()  # BLK1 expires
    streams = [BLOCK_STREAM_PREFIX + "BLK1", BLOCK_STREAM_PREFIX + "BLK2"]
    recs = [r for s in streams for r in rig.store.read_stream(s)]
    assert len(recs) == 6
    mine = EventFilter.of(accounts=["A"], instruments=["AAPL"])
    other = EventFilter.of(accounts=["B"])
    assert all(mine.matches(r, lambda _: None) for r in recs)
    assert not any(other.matches(r, lambda _: None) for r in recs)


def test_an_answer_after_the_deadline_finds_the_offer_expired() -> None:
    """Commands are handled before the engine's timers in a batch: an acceptance that arrives
    after the deadline, before the expiry was recorded, must not trade the lapsed offer."""
    rig = Rig()
    e = rig.engine
    assert e.execute(open_block(by="THEM", ttl_s=10)).ok
    rig.clock.advance(10 * S)  # no batch in between: the timer has not fired
    res = e.execute(AcceptBlock(negotiation_id="BLK1", by="US"))
    assert (res.ok, res.code) == (False, "NEGOTIATION_CLOSED")
    assert res.reason == "block negotiation BLK1 is already EXPIRED by THEM"
    assert [type(x) for x in steps(rig)] == [BlockOpened, BlockExpired]
    assert "BLK1.F1" not in e.orders
