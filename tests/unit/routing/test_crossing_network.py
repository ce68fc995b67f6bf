"""The internal crossing network: opposite client orders of accounts that allow crossing meet
at the NBBO midpoint, with a compliance record per cross."""

from __future__ import annotations

from pathlib import Path

import pytest

from execflow.adapters.clock import SimulatedClock
from execflow.adapters.venues.crossing import CrossingNetwork, CrossRecord
from execflow.bootstrap import build
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import Liquidity, OrderType, Side, TimeInForce
from execflow.domain.errors import RejectCode
from execflow.domain.events import OrderFilled
from execflow.domain.reports import Fill, Reject, VenueReport
from execflow.settings import Settings
from tests.unit.routing.test_consolidated import T0, S
from tests.unit.routing.test_dark_pool import ACME, MS, Ref, order


def network(ref: Ref) -> tuple[CrossingNetwork, list[VenueReport], list[CrossRecord]]:
    audit: list[CrossRecord] = []
    n = CrossingNetwork([ACME], ref, {"PENSION", "HEDGE"}, on_cross=audit.append)
    out: list[VenueReport] = []
    n.connect(out.append)
    return n, out, audit


def test_opposite_client_orders_cross_at_the_mid_with_a_compliance_record() -> None:
    n, out, audit = network(Ref(9_990, 10_010))
    n.submit(order("P1", Side.BUY, 300, 10_010, account="PENSION"))  # rests, hidden
    n.poll(MS)
    assert not [r for r in out if isinstance(r, Fill)]
    n.submit(order("H1", Side.SELL, 200, None, TimeInForce.IOC, account="HEDGE"))
    n.poll(2 * MS)
    fills = [(r.cl_ord_id, r.last_qty, r.last_px, r.liquidity) for r in out if isinstance(r, Fill)]
    assert fills == [("H1", 200, 10_000, Liquidity.TAKER), ("P1", 200, 10_000, Liquidity.MAKER)]
    (rec,) = n.crosses
    assert rec == audit[0]
    assert (rec.buy_cl_ord_id, rec.buy_account, rec.sell_cl_ord_id, rec.sell_account) == (
        "P1", "PENSION", "H1", "HEDGE",
    )  # fmt: skip
    assert (rec.quantity, rec.price, rec.bid, rec.ask, rec.within_nbbo) == (
        200, 10_000, 9_990, 10_010, True,
    )  # fmt: skip


def test_only_accounts_that_allow_crossing_and_never_one_account_with_itself() -> None:
    n, out, _ = network(Ref(9_995, 10_000))
    n.submit(order("R1", Side.BUY, 100, 10_000, account="RETAIL"))
    n.submit(order("P1", Side.BUY, 100, 10_000, account="PENSION"))
    n.submit(order("P2", Side.SELL, 100, 9_995, account="PENSION"))  # same account: no cross
    n.poll(MS)
    (rej,) = [r for r in out if isinstance(r, Reject)]
    assert (rej.cl_ord_id, rej.code) == ("R1", RejectCode.UNKNOWN_ACCOUNT)
    assert "does not allow cross-trading" in rej.reason
    assert n.crosses == []
    n.submit(order("H1", Side.SELL, 100, 9_995, account="HEDGE"))
    n.poll(2 * MS)
    # an odd spread: the mid 9,997.5 rounds down to 9,997, inside 9,995 - 10,000
    assert [(c.buy_cl_ord_id, c.price, c.within_nbbo) for c in n.crosses] == [("P1", 9_997, True)]


def test_no_cross_without_a_two_sided_nbbo() -> None:
    ref = Ref(10_000, 10_000)  # locked
    n, _, _ = network(ref)
    n.submit(order("P1", Side.BUY, 100, 10_010, account="PENSION"))
    n.submit(order("H1", Side.SELL, 100, 9_990, account="HEDGE"))
    n.poll(MS)
    assert n.crosses == []
    assert not CrossRecord(1, "ACME", 1, 10_000, None, 10_010, "a", "A", "b", "B").within_nbbo
    with pytest.raises(ValueError):
        CrossingNetwork([ACME], ref, {"PENSION"}, contra_rate=1.0)


def test_a_crossing_venue_from_a_config_file_crosses_two_client_orders(tmp_path: Path) -> None:
    cfg = tmp_path / "venues.toml"
    cfg.write_text(
        f'[engine]\nstore = "memory"\ndata_dir = "{tmp_path}"\n\n'
        '[[venues]]\ntype = "paper"\nvenue_id = "LIT"\n\n'
        '[[venues]]\ntype = "cross"\nvenue_id = "XCROSS"\naccounts = ["PENSION", "HEDGE"]\n',
        encoding="utf-8",
    )
    clock = SimulatedClock(T0)
    with build(Settings.load(cfg, environ={}), clock=clock, settlement=False) as app:
        x = app.venues["XCROSS"]
        assert isinstance(x, CrossingNetwork)
        for k in range(1, 11):  # the lit venue quotes: an NBBO to cross at
            clock.set(T0 + k * S // 10)
            app.engine.run_until_idle()
        bid, ask = app.engine.market.bbo("AAPL")
        assert bid is not None and ask is not None and bid < ask
        for cl, acct, side, px in (
            ("P1", "PENSION", Side.BUY, ask),
            ("H1", "HEDGE", Side.SELL, bid),
        ):
            r = app.engine.execute(
                SubmitOrder(cl_ord_id=cl, account=acct, instrument="AAPL", side=side,
                            order_type=OrderType.LIMIT, quantity=100, price=px, venue="XCROSS")
            )  # fmt: skip
            assert r.ok, r
            clock.advance(S // 100)
            app.engine.run_until_idle()
        (rec,) = x.crosses
        assert (rec.buy_account, rec.sell_account, rec.quantity) == ("PENSION", "HEDGE", 100)
        assert rec.within_nbbo and rec.price == (rec.bid + rec.ask) // 2  # type: ignore[operator]
        fills = [e.event for e in app.store.read_all() if isinstance(e.event, OrderFilled)]
        assert sorted((f.cl_ord_id, f.last_px) for f in fills) == [
            ("H1", rec.price),
            ("P1", rec.price),
        ]
        assert all(f.venue == "XCROSS" for f in fills)
