"""The settlement snapshot's order facts, settled fills and ledger entry ids stay encoded after
a restore until first needed (application/settlement/snapshot.py, ledger_lazy.py): what they
hold then equals the service that folded every event, a fill settled before the snapshot is
still recognised, and a snapshot taken before they are decoded restores the same state."""

from __future__ import annotations

from datetime import date

from execflow.application.settlement import snapshot
from execflow.application.settlement.ledger_lazy import RestoredLedger
from execflow.application.settlement.service import SettlementService
from execflow.domain.enums import OrderType, Side
from execflow.domain.events import Event, OrderInitialized, OrderSubmitted
from tests.unit.settlement.support import AAPL, SAP, Blotter, make_service
from tests.unit.settlement.test_service import recorded

D = date(2026, 10, 9)


def facts(svc: SettlementService) -> tuple[object, ...]:
    ledger = svc.ledger
    assert isinstance(ledger, RestoredLedger)
    return (
        {k: (v.account, v.instrument, v.side, v.venue) for k, v in svc._orders.items()},
        set(svc._seen_fills),
        [e.entry_id for e in ledger],
    )


def traded(blotter: Blotter, n: int) -> tuple[SettlementService, list[Event]]:
    svc = make_service()
    events: list[Event] = []
    for i in range(n):
        events += blotter.trade(AAPL if i % 2 else SAP, Side.BUY, 10 + i, 15000, D)
    svc.handle(recorded(events))
    return svc, events


def restored(svc: SettlementService) -> SettlementService:
    out = make_service()
    snapshot.load(snapshot.dump(svc), out)
    return out


def test_restored_facts_are_decoded_on_first_use_and_equal_the_folded_ones() -> None:
    blotter = Blotter()
    plain, events = traded(blotter, 6)
    lazy = restored(plain)
    assert lazy._cold_facts is not None  # nothing decoded by the restore
    ledger = lazy.ledger
    assert isinstance(ledger, RestoredLedger) and ledger._cold_sets is None
    # a new order and its fill: facts of a new order need no decode
    new = blotter.trade(AAPL, Side.SELL, 5, 15100, D)
    for svc in (plain, lazy):
        svc.handle(recorded(new[:1]))
    assert lazy._cold_facts is not None
    # a snapshot now copies the encoded chunks and adds what came since
    again = restored(lazy)
    assert again._cold_facts is not None
    for svc in (plain, lazy, again):
        assert svc.handle(recorded(new[1:]))  # settles
    # a fill settled before the snapshot is recognised (decodes the settled fills)
    for svc in (plain, lazy, again):
        assert svc.handle(recorded(events[1:2])) == []
    assert lazy._cold_facts is None and again._cold_facts is None
    assert facts(lazy) == facts(plain) == facts(again)


def test_a_submit_of_a_restored_order_updates_its_facts() -> None:
    plain = make_service()
    init = OrderInitialized(
        ts=1, cl_ord_id="X1", account="ACC9", instrument=AAPL.id, side=Side.BUY,
        order_type=OrderType.LIMIT,
        quantity=10, price=15000,
    )  # fmt: skip
    plain.handle(recorded([init]))
    lazy = restored(plain)
    sub = OrderSubmitted(ts=2, cl_ord_id="X1", venue="XNAS")
    for svc in (plain, lazy):
        svc.handle(recorded([sub]))
    assert lazy._cold_facts is None  # an order before the snapshot: its facts decoded
    assert lazy._order_info("X1") == plain._order_info("X1")
    assert restored(lazy)._order_info("X1") == plain._order_info("X1")
