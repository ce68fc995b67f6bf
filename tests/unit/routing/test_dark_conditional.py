"""Conditional orders in the dark pool (adapters/venues/conditional.py): a potential match
invites the holder to firm up within a bounded time, then a firm-up trades at the mid or the
invitation lapses; two conditional block orders cross when both firm up; events for each step
through the engine."""

from __future__ import annotations

from pathlib import Path

from execflow.adapters.clock import SimulatedClock
from execflow.bootstrap import build
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import Liquidity, OrderType, Side, TimeInForce
from execflow.domain.events import OrderFilled, event_type_name
from execflow.domain.instructions import OrderInstructions
from execflow.domain.reports import (
    Canceled,
    Fill,
    FirmUpInvite,
    FirmUpLapsed,
    VenueOrder,
    VenueReport,
)
from execflow.settings import Settings
from tests.unit.routing.test_consolidated import T0
from tests.unit.routing.test_dark_pool import MS, Ref, pool

NS = 1_000_000_000

S = 1_000 * MS
COND = OrderInstructions(conditional=True)


def cond(cl: str, side: int, qty: int, account: str = "ACC", **ins: object) -> VenueOrder:
    return VenueOrder(
        cl_ord_id=cl, account=account, instrument="ACME", side=side, order_type=OrderType.LIMIT,
        quantity=qty, price=10_100 if side > 0 else 9_900,
        instructions=OrderInstructions(conditional=True, **ins),  # type: ignore[arg-type]
    )  # fmt: skip


def firm(cl: str, of: str, side: int, qty: int, account: str = "ACC") -> VenueOrder:
    return VenueOrder(
        cl_ord_id=cl, account=account, instrument="ACME", side=side, order_type=OrderType.LIMIT,
        quantity=qty, price=10_100 if side > 0 else 9_900, tif=TimeInForce.IOC,
        instructions=OrderInstructions(firm_up_of=of),
    )  # fmt: skip


def kinds(out: list[VenueReport], cl: str) -> list[str]:
    return [type(r).__name__ for r in out if r.cl_ord_id == cl]


def test_a_conditional_never_trades_itself_is_invited_then_its_firm_up_trades_at_the_mid() -> None:
    p, out = pool(Ref(9_990, 10_010))
    p.submit(cond("C1", Side.BUY, 500))
    p.poll(MS)
    assert kinds(out, "C1") == ["Ack"]  # nothing to match yet
    p.contra("ACME", Side.SELL, 300)
    p.poll(2 * MS)
    (inv,) = [r for r in out if isinstance(r, FirmUpInvite)]
    assert (inv.cl_ord_id, inv.quantity, inv.price, inv.expires_at) == (
        "C1",
        300,
        10_000,
        2 * MS + 2 * S,
    )
    assert p.hidden_qty("ACME", Side.SELL) == 300  # the conditional did not trade
    p.submit(firm("F1", "C1", Side.BUY, 300))
    p.poll(3 * MS)
    (fill,) = [r for r in out if isinstance(r, Fill)]
    assert (fill.cl_ord_id, fill.last_qty, fill.last_px, fill.liquidity) == (
        "F1", 300, 10_000, Liquidity.TAKER,
    )  # fmt: skip
    (c1,) = [r for r in out if isinstance(r, Canceled) and r.cl_ord_id == "C1"]
    assert c1.reason == "firmed up by F1"
    assert kinds(out, "F1") == ["Ack", "Fill"]


def test_no_firm_up_in_time_lapses_and_the_conditional_waits_a_window_before_the_next() -> None:
    p, out = pool(Ref(9_990, 10_010), firm_up_s=1.0)
    p.submit(cond("C1", Side.BUY, 500))
    p.contra("ACME", Side.SELL, 300)
    p.poll(MS)
    assert kinds(out, "C1") == ["Ack", "FirmUpInvite"]  # invited at 0, when it arrived
    p.poll(S - 1)
    assert kinds(out, "C1") == ["Ack", "FirmUpInvite"]
    p.poll(S)
    (lapsed,) = [r for r in out if isinstance(r, FirmUpLapsed)]
    assert (lapsed.cl_ord_id, lapsed.ts, lapsed.reason) == ("C1", S, "no firm-up in time")
    p.poll(2 * S - 1)  # cooling down: not invited again yet
    assert kinds(out, "C1").count("FirmUpInvite") == 1
    p.poll(2 * S)
    assert kinds(out, "C1").count("FirmUpInvite") == 2
    # a late firm-up (after the lapse) without an open invitation is canceled at once
    p.submit(firm("F9", "C2", Side.BUY, 300))
    p.poll(2 * S + 1)
    (c,) = [r for r in out if isinstance(r, Canceled) and r.cl_ord_id == "F9"]
    assert c.reason == "no open invitation to firm up C2"


def test_two_conditional_blocks_cross_when_both_firm_up() -> None:
    p, out = pool(Ref(9_990, 10_010))
    p.submit(cond("BUYBLK", Side.BUY, 20_000, account="PENSION", min_qty=10_000))
    p.submit(cond("SMALL", Side.SELL, 5_000, account="HEDGE"))  # below the buyer's block size
    p.poll(MS)
    assert not [r for r in out if isinstance(r, FirmUpInvite)]
    p.submit(cond("SELLBLK", Side.SELL, 15_000, account="FUND", min_qty=10_000))
    p.poll(2 * MS)
    invs = {r.cl_ord_id: r for r in out if isinstance(r, FirmUpInvite)}
    assert set(invs) == {"BUYBLK", "SELLBLK"}
    assert invs["BUYBLK"].quantity == invs["SELLBLK"].quantity == 15_000
    p.submit(firm("FB", "BUYBLK", Side.BUY, 15_000, account="PENSION"))
    p.poll(3 * MS)
    assert not [r for r in out if isinstance(r, Fill)]  # waits for the contra's firm-up
    p.submit(firm("FS", "SELLBLK", Side.SELL, 15_000, account="FUND"))
    p.poll(4 * MS)
    fills = {r.cl_ord_id: r for r in out if isinstance(r, Fill)}
    assert (fills["FB"].last_qty, fills["FB"].last_px, fills["FB"].liquidity) == (
        15_000, 10_000, Liquidity.MAKER,
    )  # fmt: skip
    assert (fills["FS"].last_qty, fills["FS"].liquidity) == (15_000, Liquidity.TAKER)
    canceled = {r.cl_ord_id: r.reason for r in out if isinstance(r, Canceled)}
    assert canceled == {"BUYBLK": "firmed up by FB", "SELLBLK": "firmed up by FS"}


def test_a_firm_up_whose_contra_does_not_firm_up_is_canceled_at_the_deadline() -> None:
    p, out = pool(Ref(9_990, 10_010), firm_up_s=1.0)
    p.submit(cond("A", Side.BUY, 1_000, account="X"))
    p.submit(cond("B", Side.SELL, 1_000, account="Y"))
    p.poll(MS)
    p.submit(firm("FA", "A", Side.BUY, 1_000, account="X"))
    p.poll(2 * MS)
    p.poll(MS + S)
    canceled = {r.cl_ord_id: r.reason for r in out if isinstance(r, Canceled)}
    assert canceled == {"FA": "the contra did not firm up in time"}
    lapsed = {r.cl_ord_id: r.reason for r in out if isinstance(r, FirmUpLapsed)}
    assert lapsed == {"A": "the contra did not firm up", "B": "no firm-up in time"}
    assert not [r for r in out if isinstance(r, Fill)]


def test_conditional_block_orders_through_the_engine_event_by_event(tmp_path: Path) -> None:
    cfg = tmp_path / "venues.toml"
    cfg.write_text(
        f'[engine]\nstore = "memory"\ndata_dir = "{tmp_path}"\n\n'
        '[[venues]]\ntype = "paper"\nvenue_id = "LIT"\n\n'
        '[[venues]]\ntype = "dark"\nvenue_id = "DARK"\ncontra_rate = 0\nfirm_up_s = 5\n',
        encoding="utf-8",
    )
    clock = SimulatedClock(T0)
    with build(Settings.load(cfg, environ={}), clock=clock, settlement=False) as app:
        for k in range(1, 11):  # the lit venue quotes: an NBBO for the pool's midpoint
            clock.set(T0 + k * NS // 10)
            app.engine.run_until_idle()

        def send(cmd: SubmitOrder) -> None:
            assert app.engine.execute(cmd).ok
            clock.advance(NS // 100)
            app.engine.run_until_idle()

        blk = OrderInstructions(conditional=True, min_qty=5_000)
        for cl, acct, side in (("PB", "PENSION", Side.BUY), ("HS", "HEDGE", Side.SELL)):
            send(SubmitOrder(cl_ord_id=cl, account=acct, instrument="AAPL", side=side,
                             order_type=OrderType.LIMIT, quantity=8_000,
                             price=30_000 if side > 0 else 10_000, venue="DARK",
                             instructions=blk))  # fmt: skip
        for cl, acct, side, of in (("PBF", "PENSION", Side.BUY, "PB"),
                                   ("HSF", "HEDGE", Side.SELL, "HS")):  # fmt: skip
            send(SubmitOrder(cl_ord_id=cl, account=acct, instrument="AAPL", side=side,
                             order_type=OrderType.LIMIT, quantity=8_000,
                             price=30_000 if side > 0 else 10_000, tif=TimeInForce.IOC,
                             venue="DARK",
                             instructions=OrderInstructions(firm_up_of=of)))  # fmt: skip
        streams: dict[str, list[str]] = {}
        for rec in app.store.read_all():
            ev = rec.event
            cl = getattr(ev, "cl_ord_id", None)
            if cl in ("PB", "HS", "PBF", "HSF"):
                streams.setdefault(cl, []).append(event_type_name(ev))
        head = ["order.initialized", "order.submitted", "order.accepted"]
        for c in ("PB", "HS"):
            assert streams[c] == [*head, "order.firm_up_requested", "order.canceled"], streams[c]
        for f in ("PBF", "HSF"):
            assert streams[f] == [*head, "order.filled"], streams[f]
        fills = [r.event for r in app.store.read_all() if isinstance(r.event, OrderFilled)]
        assert {f.last_qty for f in fills} == {8_000} and len({f.last_px for f in fills}) == 1
        assert app.engine.orders["PB"].status == "CANCELED"


def test_a_firm_up_that_finds_the_contra_gone_keeps_the_conditional() -> None:
    p, out = pool(Ref(9_990, 10_010), firm_up_s=1.0)
    p.submit(cond("C1", Side.BUY, 500))
    contra = p.contra("ACME", Side.SELL, 300)
    p.poll(MS)
    assert kinds(out, "C1") == ["Ack", "FirmUpInvite"]
    p._contra_leaves(contra, MS)  # the contra leaves before the firm-up arrives
    p.submit(firm("F1", "C1", Side.BUY, 300))
    p.poll(2 * MS)
    assert kinds(out, "F1") == ["Ack", "Canceled"]
    assert kinds(out, "C1") == ["Ack", "FirmUpInvite", "FirmUpLapsed"]
    (lapsed,) = [r for r in out if isinstance(r, FirmUpLapsed)]
    assert lapsed.reason == "the contra was gone"
    assert p.order_state("C1") == "OPEN"
