"""Fails and settlement discipline, hand-computed: CSDR cash penalties per late day (partial
settlement included), buy-in candidates, netting per counterparty, prioritisation when short,
and the reports (CSV/HTML)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from execflow.analytics.settlement_discipline import (
    custodian_breaks,
    netting_frame,
    penalties_frame,
    to_html,
)
from execflow.analytics.settlement_report import fail_report, write_report
from execflow.application.ports import RecordedEvent
from execflow.application.settlement.optimise import settle_prioritised
from execflow.application.settlement.service import SettlementService
from execflow.domain.enums import Side
from execflow.domain.events import Event
from execflow.domain.settlement.discipline import (
    buy_in_candidates,
    net_by_counterparty,
    prioritise,
)
from execflow.domain.settlement.ledger import PositionView
from execflow.domain.settlement.obligations import SettlementError, SettlementStatus
from tests.unit.settlement.support import AAPL, INSTRUMENTS, SAP, Blotter, calendar, make_service

D = date
PRICES = {
    D(2026, 10, 7): 12340,
    D(2026, 10, 8): 12350,
    D(2026, 10, 9): 12400,
    D(2026, 10, 12): 12290,
}


def _feed(svc: SettlementService, events: list[Event]) -> None:
    svc.handle([RecordedEvent(i + 1, "x", i + 1, e) for i, e in enumerate(events)])


def _ready(svc: SettlementService, oid: str, day: date) -> None:
    svc.match(oid, day)
    svc.affirm(oid, day)


def _price(instrument: str, day: date) -> int:
    return PRICES[day]


def _eu_business(d: date) -> bool:
    return calendar().is_business_day(d, "EU")


# -- CSDR penalties -----------------------------------------------------------------------------
def test_csdr_securities_penalty_per_late_day_with_a_partial_delivery() -> None:
    """Sell 1,000 SAP traded Mon 2026-10-05, intended settlement (T+2) Wed 10-07. Fails 10-07
    and 10-08; 400 settle on Fri 10-09, the other 600 fail 10-09 and Mon 10-12 and settle Tue
    10-13. Penalty 1 bp (liquid shares) of each day's failing quantity at that day's reference
    price: 1,000 x 123.40 = 123,400.00 -> 12.34; 1,000 x 123.50 -> 12.35; 600 x 124.00 =
    74,400.00 -> 7.44; 600 x 122.90 = 73,740.00 -> 7.374. Sum 39.504 -> 39.50 EUR."""
    svc = make_service()
    _feed(svc, Blotter().trade(SAP, Side.SELL, 1000, 12345, D(2026, 10, 5)))
    oid = "O1/E1"
    assert svc.obligation(oid).intended_settle_date == D(2026, 10, 7)
    _ready(svc, oid, D(2026, 10, 6))
    svc.fail(oid, "insufficient securities", D(2026, 10, 7))
    for day in (D(2026, 10, 8), D(2026, 10, 9)):
        svc.retry(oid, day)
        if day == D(2026, 10, 9):
            svc.settle(oid, day, quantity=400)
        svc.fail(oid, "insufficient securities", day)
    # still failing on 10-08: two days, 12.34 + 12.35 = 24.69
    (early,) = svc.penalties(D(2026, 10, 8), _price)
    assert [d.day for d in early.days] == [D(2026, 10, 7), D(2026, 10, 8)]
    svc.retry(oid, D(2026, 10, 12))
    svc.fail(oid, "insufficient securities", D(2026, 10, 12))
    svc.retry(oid, D(2026, 10, 13))
    svc.settle(oid, D(2026, 10, 13))
    assert svc.settlement_history(oid) == [(D(2026, 10, 9), 400), (D(2026, 10, 13), 600)]
    (p,) = svc.penalties(D(2026, 10, 20), _price)
    assert [(d.day, d.quantity) for d in p.days] == [
        (D(2026, 10, 7), 1000), (D(2026, 10, 8), 1000), (D(2026, 10, 9), 600),
        (D(2026, 10, 12), 600),
    ]  # fmt: skip
    assert sum((d.amount for d in p.days), Fraction(0)) == Fraction(39504, 10)  # 3,950.4 cents
    assert (p.kind, p.payer, p.currency, p.amount) == ("securities", "account", "EUR", 3950)
    # an illiquid share: 0.5 bp -> 19.752 -> 19.75
    (half,) = svc.penalties(D(2026, 10, 20), _price, instrument_class=lambda _: "illiquid_shares")
    assert half.amount == 1975


def test_csdr_cash_penalty_and_a_counterparty_fail() -> None:
    """Buy 100 SAP @ 100.00 = 10,000.00 EUR, intended 10-07; no cash 10-07 and 10-08, settles
    10-09: 2 days x 10,000.00 x 3.65 % / 365 = 2 x 1.00 = 2.00 EUR. A buy the counterparty
    fails to deliver: the securities penalty is ours to receive (negative)."""
    svc = make_service()
    blotter = Blotter()
    _feed(svc, blotter.trade(SAP, Side.BUY, 100, 10000, D(2026, 10, 5)))
    _feed(svc, blotter.trade(SAP, Side.BUY, 10, 10000, D(2026, 10, 5)))
    _feed(svc, blotter.trade(AAPL, Side.BUY, 10, 10000, D(2026, 10, 5)))  # US: no CSDR
    for oid in ("O1/E1", "O2/E2", "O3/E3"):
        _ready(svc, oid, D(2026, 10, 6))
    svc.fail("O1/E1", "insufficient cash", D(2026, 10, 7))
    svc.fail("O2/E2", "counterparty failed to deliver", D(2026, 10, 7))
    svc.fail("O3/E3", "insufficient cash", D(2026, 10, 7))
    svc.retry("O1/E1", D(2026, 10, 9))
    svc.settle("O1/E1", D(2026, 10, 9))
    cash_rate = {"EUR": Decimal("0.0365")}
    got = svc.penalties(D(2026, 10, 8), _price, cash_rate=lambda c: cash_rate.get(c, Decimal(0)))
    by_id = {p.obligation_id: p for p in got}
    assert set(by_id) == {"O1/E1", "O2/E2"}
    assert (by_id["O1/E1"].kind, by_id["O1/E1"].amount) == ("cash", 200)
    # 10 x 123.40 = 1,234.00 -> 0.1234 + 10 x 123.50 -> 0.1235 = 0.2469 -> 0.25 received
    assert (by_id["O2/E2"].payer, by_id["O2/E2"].amount) == ("counterparty", -25)
    frame = penalties_frame(got)
    assert frame["amount"].to_list() == ["2.00", "-0.25"]


def test_buy_in_candidates_after_the_extension_period() -> None:
    svc = make_service()
    blotter = Blotter()
    _feed(svc, blotter.trade(SAP, Side.BUY, 10, 10000, D(2026, 10, 5)))  # intended 10-07
    _feed(svc, blotter.trade(SAP, Side.SELL, 10, 10000, D(2026, 10, 5)))  # our delivery
    for oid in ("O1/E1", "O2/E2"):
        _ready(svc, oid, D(2026, 10, 6))
        svc.fail(oid, "counterparty failed to deliver", D(2026, 10, 7))
    obs = svc.obligations()
    # age on Mon 10-12: 10-07, 08, 09, 12 = 4 business days: not past the 4-day extension
    assert buy_in_candidates(obs, D(2026, 10, 12), _eu_business) == []
    ((ob, age),) = buy_in_candidates(obs, D(2026, 10, 13), _eu_business)
    assert (ob.obligation_id, age) == ("O1/E1", 5)
    assert buy_in_candidates(obs, D(2026, 10, 13), _eu_business, lambda _: "illiquid_shares") == []


# -- netting ------------------------------------------------------------------------------------
def test_netting_per_counterparty() -> None:
    """XNAS: ACC1 buys 100 @ 190.00 (-19,000.00), ACC2 sells 60 @ 191.00 (+11,460.00): net
    RECEIVE 40 against -7,540.00. ARCA: ACC1 sells 30 @ 189.00: DELIVER 30 for +5,670.00."""
    svc = make_service()
    blotter = Blotter()
    _feed(svc, blotter.trade(AAPL, Side.BUY, 100, 19000, D(2026, 10, 5), "ACC1", "XNAS"))
    _feed(svc, blotter.trade(AAPL, Side.SELL, 60, 19100, D(2026, 10, 5), "ACC2", "XNAS"))
    _feed(svc, blotter.trade(AAPL, Side.SELL, 30, 18900, D(2026, 10, 5), "ACC1", "ARCA"))
    nets = net_by_counterparty(svc.obligations())
    assert [(n.counterparty, n.quantity, n.cash, len(n.obligations)) for n in nets] == [
        ("ARCA", -30, 567_000, 1),
        ("XNAS", 40, -754_000, 2),
    ]
    frame = netting_frame(nets, INSTRUMENTS.get)
    assert frame.select("movement", "net_quantity", "net_cash").rows() == [
        ("DELIVER", "-30", "5670.00"),
        ("RECEIVE", "40", "-7540.00"),
    ]


# -- prioritisation -----------------------------------------------------------------------------
def test_prioritisation_keeps_currencies_apart() -> None:
    """A has 10,000.00 USD; B has 110 AAPL, no cash. B's purchase of 100 SAP @ 200.00 EUR
    cannot use the dollars its AAPL sales bring in: it fails; the USD legs settle as in the
    next test (A's 20-share purchase: 2 shares for A's 500.00 left). With 20,000.00 EUR, B's
    purchase settles."""
    svc = make_service()
    blotter = Blotter()
    trades = [
        (Side.BUY, 100, 20000, "B", SAP),
        (Side.SELL, 100, 19000, "B", AAPL),
        (Side.BUY, 50, 19000, "A", AAPL),
        (Side.BUY, 20, 19000, "A", AAPL),
        (Side.SELL, 10, 19000, "B", AAPL),
    ]
    for side, qty, px, acct, ins in trades:
        _feed(svc, blotter.trade(ins, side, qty, px, D(2026, 10, 5), acct))
    obs = svc.obligations()
    securities = {("B", "AAPL"): 110}
    plan = prioritise(obs, securities, {("A", "USD"): 1_000_000})
    got = {p.obligation_id: (p.quantity, p.reason) for p in plan}
    assert got == {
        "O1/E1": (0, "insufficient cash"),
        "O2/E2": (100, ""),
        "O3/E3": (50, ""),
        "O4/E4": (2, "insufficient cash"),
        "O5/E5": (10, ""),
    }
    euros = {("A", "USD"): 1_000_000, ("B", "EUR"): 2_000_000}
    assert {p.obligation_id: p.quantity for p in prioritise(obs, securities, euros)}["O1/E1"] == 100


def test_prioritisation_second_pass_uses_proceeds() -> None:
    """Same currency throughout: B's 20,000.00 purchase is funded by its two sales in the
    first pass (19,000.00 + 1,900.00) and settles in the second."""
    svc = make_service()
    blotter = Blotter()
    msft_like = AAPL  # one USD instrument is enough: B buys 100 @ 200.00 of it
    trades = [
        (Side.BUY, 100, 20000, "B"),
        (Side.SELL, 100, 19000, "B"),
        (Side.BUY, 50, 19000, "A"),
        (Side.BUY, 20, 19000, "A"),
        (Side.SELL, 10, 19000, "B"),
    ]
    for side, qty, px, acct in trades:
        _feed(svc, blotter.trade(msft_like, side, qty, px, D(2026, 10, 5), acct))
    for ob in svc.obligations():
        _ready(svc, ob.obligation_id, D(2026, 10, 5))
    plan, _ = settle_prioritised(
        svc, D(2026, 10, 6), {("B", "AAPL"): 110}, {("A", "USD"): 1_000_000}
    )
    assert [(p.obligation_id, p.quantity, p.reason) for p in plan] == [
        ("O1/E1", 100, ""),
        ("O2/E2", 100, ""),
        ("O3/E3", 50, ""),
        ("O4/E4", 2, "insufficient cash"),
        ("O5/E5", 10, ""),
    ]
    assert svc.obligation("O1/E1").status is SettlementStatus.SETTLED
    o4 = svc.obligation("O4/E4")
    assert (o4.status, o4.settled_quantity, o4.settled_cash) == (SettlementStatus.FAILED, 2, 38_000)
    settled = sum(ob.settled_cash for ob in svc.obligations())
    assert settled == 5_078_000  # 20,000 + 19,000 + 9,500 + 380 + 1,900
    # without partial settlement the 2 shares wait too
    assert prioritise(svc.obligations(), {}, {}, allow_partial=False)[0].quantity == 0


# -- reports --------------------------------------------------------------------------------------
def test_reports_csv_and_html(tmp_path: Path) -> None:
    svc = make_service()
    blotter = Blotter()
    _feed(svc, blotter.trade(SAP, Side.SELL, 10, 12345, D(2026, 10, 5), "<ACC&1>"))
    _ready(svc, "O1/E1", D(2026, 10, 6))
    svc.fail("O1/E1", "insufficient securities", D(2026, 10, 7))
    fails = fail_report(svc.obligations(), D(2026, 10, 9), calendar().is_business_day)
    assert fails["age_days"].to_list() == [3] and fails["age_bucket"].to_list() == ["2-3"]
    html_path = write_report(fails, tmp_path / "fails_ageing.html")
    text = html_path.read_text()
    assert "<title>fails ageing</title>" in text and "&lt;ACC&amp;1&gt;" in text
    assert "<ACC&1>" not in text
    csv_path = write_report(
        penalties_frame(svc.penalties(D(2026, 10, 9), _price)), tmp_path / "p.csv"
    )
    lines = csv_path.read_text().splitlines()
    # 3 days: 10 x (123.40 + 123.50 + 124.00) x 1 bp = 0.3709 -> 0.37 EUR
    assert lines[1].endswith(",EUR,0.37,37")
    breaks = custodian_breaks(
        {("ACC1", "AAPL"): 100, ("ACC1", "USD"): 5}, {("ACC1", "AAPL"): 90, ("ACC2", "SAP"): 1},
        D(2026, 10, 9),
    )  # fmt: skip
    assert breaks.select("account", "item", "difference").rows() == [
        ("ACC1", "AAPL", -10), ("ACC1", "USD", -5), ("ACC2", "SAP", 1),
    ]  # fmt: skip
    assert "<td>-10</td>" in to_html(breaks, "breaks")


def test_a_canceled_obligation_has_no_penalty() -> None:
    svc = make_service()
    _feed(svc, Blotter().trade(SAP, Side.SELL, 10, 12345, D(2026, 10, 5)))
    _ready(svc, "O1/E1", D(2026, 10, 6))
    svc.fail("O1/E1", "insufficient securities", D(2026, 10, 7))
    assert len(svc.penalties(D(2026, 10, 8), _price)) == 1
    svc.cancel("O1/E1", "trade bust", D(2026, 10, 8))
    assert svc.penalties(D(2026, 10, 8), _price) == []


def test_a_settled_trade_is_reversed_by_a_new_opposite_obligation() -> None:
    """Bought 10 AAPL @ 190.00 on Mon 2026-10-05, settled Tue 10-06; busted on Thu 10-08: a
    sale of 10 for 1,900.00 traded 10-08 settling 10-09 (T+1). Once it settles, position and
    cash are back to zero and the realised P&L is 0.00."""
    svc = make_service()
    _feed(svc, Blotter().trade(AAPL, Side.BUY, 10, 19000, D(2026, 10, 5)))
    with pytest.raises(SettlementError) as err:
        svc.reverse_settled("O1/E1", "bust", D(2026, 10, 5))
    assert err.value.code == "NOT_SETTLED"
    _ready(svc, "O1/E1", D(2026, 10, 6))
    svc.settle("O1/E1", D(2026, 10, 6))
    svc.reverse_settled("O1/E1", "trade busted by the venue", D(2026, 10, 8))
    r = svc.obligation("O1/E1/R1")
    assert (r.side, r.quantity, r.cash_amount, r.corrects) == (Side.SELL, 10, 190_000, "O1/E1")
    assert (r.trade_date, r.intended_settle_date) == (D(2026, 10, 8), D(2026, 10, 9))
    assert svc.position("ACC1", "AAPL") == 0
    _ready(svc, r.obligation_id, D(2026, 10, 9))
    svc.settle(r.obligation_id, D(2026, 10, 9))
    assert svc.position("ACC1", "AAPL", PositionView.SETTLE_DATE) == 0
    assert svc.cash_balances("ACC1")["USD"].amount == 0
    assert svc.realised_pnl("ACC1", "AAPL").amount == 0
