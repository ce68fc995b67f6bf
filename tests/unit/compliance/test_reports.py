"""Regulatory report files validate against their schemas (JSON Schema / XSD), and the numbers
in them are the ones the events imply."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
import xmlschema
from typer.testing import CliRunner

from execflow.adapters.reference import default_instruments
from execflow.adapters.store.memory import MemoryEventStore
from execflow.analytics.regulatory import files
from execflow.analytics.regulatory.bestex import Quote, classify, review
from execflow.analytics.regulatory.cat import events as cat_events
from execflow.analytics.regulatory.lifecycle import fold
from execflow.analytics.regulatory.rts22 import report as rts22_report
from execflow.analytics.regulatory.rts22 import to_bytes
from execflow.analytics.regulatory.rule605 import report as r605
from execflow.analytics.regulatory.rule606 import quarter_months
from execflow.analytics.regulatory.rule606 import report as r606
from execflow.cli.main import app
from execflow.domain.compliance.config import SurveillanceConfig
from execflow.domain.compliance.events import AUDIT_STREAM, AuditedCommand, CommandAudited
from execflow.domain.compliance.surveillance import Surveillance
from execflow.domain.enums import OrderType, Side, TimeInForce
from execflow.domain.events import (
    Event,
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderInitialized,
    OrderReplaced,
    OrderSubmitted,
)
from execflow.domain.fees import FeeLine

S = 1_000_000_000
T0 = int(datetime(2026, 11, 24, 15, 0, tzinfo=UTC).timestamp()) * S
REF = files.Reference(default_instruments())


def validator(kind: str) -> jsonschema.Draft202012Validator:
    schema = json.loads(files.schema_path(kind).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def order(
    cl: str, ins: str, side: int, qty: int, px: int | None, ts: int, **kw: object
) -> list[Event]:
    init = OrderInitialized(
        ts=ts, cl_ord_id=cl, account="ACC-1", instrument=ins, side=Side(side),
        order_type=OrderType.LIMIT if px is not None else OrderType.MARKET, quantity=qty,
        price=px, arrival_mid=19_000, **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    return [
        init,
        OrderSubmitted(ts=ts + 1000, cl_ord_id=cl, venue="PAPER"),
        OrderAccepted(ts=ts + 2000, cl_ord_id=cl, venue_order_id=f"V-{cl}"),
    ]


def fill(cl: str, x: str, qty: int, px: int, ts: int, bid: int = 18_995, ask: int = 19_005,
         fees: tuple[FeeLine, ...] = ()) -> OrderFilled:  # fmt: skip
    return OrderFilled(ts=ts, cl_ord_id=cl, exec_id=x, last_qty=qty, last_px=px, venue="PAPER",
                       bid=bid, ask=ask, fees=fees)  # fmt: skip


@pytest.fixture
def store() -> MemoryEventStore:
    s = MemoryEventStore()
    rebate = (FeeLine(name="maker", kind="rebate", amount=-30, currency="USD"),)
    streams: dict[str, list[Event]] = {
        # market buy 150 AAPL: at the ask, then 1 cent inside, then 2 cents outside
        "M1": [*order("M1", "AAPL", 1, 150, None, T0), fill("M1", "x1", 50, 19_005, T0 + 5 * S),
               fill("M1", "x2", 50, 19_004, T0 + 6 * S),
               fill("M1", "x3", 50, 19_007, T0 + 7 * S, fees=rebate)],
        # marketable IOC sell 40 AAPL (odd lot; through the bid in force), filled at the bid
        "I1": [*order("I1", "AAPL", -1, 40, 18_990, T0 + 10 * S, tif=TimeInForce.IOC),
               fill("I1", "x4", 40, 18_995, T0 + 11 * S)],
        # non-marketable limit buy MSFT, replaced then cancelled
        "L1": [*order("L1", "MSFT", 1, 200, 18_000, T0 + 3 * S),
               OrderReplaced(ts=T0 + 20 * S, cl_ord_id="L1", quantity=300, price=18_100),
               OrderCanceled(ts=T0 + 40 * S, cl_ord_id="L1")],
        # an EU instrument: sell 20 SAP.DE
        "E1": [*order("E1", "SAP.DE", -1, 20, None, T0 + 4 * S),
               fill("E1", "x5", 20, 21_890, T0 + 4 * S + 500, bid=21_890, ask=21_900)],
        # a child order of a parent
        "C1": [*order("C1", "AAPL", 1, 100, None, T0 + 50 * S, parent_id="P1"),
               fill("C1", "x6", 100, 19_005, T0 + 80 * S)],
    }  # fmt: skip
    for cl, evs in streams.items():
        s.append(f"order-{cl}", 0, evs)
    s.append(AUDIT_STREAM, 0, [
        CommandAudited(ts=T0, who="key:a", where="http:10.0.0.1",
                       commands=(AuditedCommand(command="submit", ref="M1"),)),
    ])  # fmt: skip
    return s


def test_rule605_report_validates_and_classifies(store: MemoryEventStore, tmp_path: Path) -> None:
    data = r605(fold(store.read_all()), "2026-11", "execflow-test", REF.price, REF.qty)
    validator("605").validate(data)
    files.write_json(data, tmp_path / "605.json")
    validator("605").validate(json.loads((tmp_path / "605.json").read_text()))
    cells = {(r["instrument"], r["order_type"], r["order_size"]): r for r in data["rows"]}
    # L1 (a limit below the mid that never became executable) is not a covered order
    assert set(cells) == {
        ("AAPL", "market", "20k_to_50k"),  # M1: 150 shares x 190.00 = 28,500 USD
        ("AAPL", "market", "5k_to_20k"),  # C1: 100 shares x 190.00
        ("AAPL", "marketable_ioc", "odd_lot"),  # I1: 40 shares
        ("SAP.DE", "market", "odd_lot"),
    }
    ioc = cells[("AAPL", "marketable_ioc", "odd_lot")]
    assert ioc["executed_shares_at_center"] == "40" and ioc["at_quote_shares"] == "40"
    assert ioc["avg_time_to_execution_ms"] == "1000.000"


def test_rule605_market_order_statistics(store: MemoryEventStore) -> None:
    data = r605(fold(store.read_all()), "2026-11", "execflow-test", REF.price, REF.qty)
    rows = [r for r in data["rows"] if r["instrument"] == "AAPL" and r["order_type"] == "market"]
    m1 = next(r for r in rows if r["covered_shares"] == "150")
    assert m1["order_size"] == "20k_to_50k"  # 150 shares at the 190.00 mid: 28,500 USD
    assert (m1["price_improved_shares"], m1["at_quote_shares"], m1["outside_quote_shares"]) == (
        "50", "50", "50",
    )  # fmt: skip
    assert m1["avg_price_improvement_per_share"] == "0.0100"
    assert m1["avg_amount_outside_per_share"] == "0.0200"
    # time to execution: 5, 6, 7 s, share-weighted
    assert m1["avg_time_to_execution_ms"] == "6000.000"
    assert m1["executed_shares_by_time"]["1s_to_30s"] == "150"
    # effective spread 2|P - M| with M = 190.00: (0.10 + 0.08 + 0.14) / 3
    assert Decimal(m1["avg_effective_spread"]) == Decimal("0.1067")
    # realised spread 15 s / 1 min after: the C1 fill's quote at +80 s is the first after
    # +15 s, +60 s of the first fills -> 2 D (P - M_later) with M_later = 190.00
    assert Decimal(m1["avg_realized_spread_1m"]) == Decimal("0.1067")


def test_rule606_report_validates(store: MemoryEventStore) -> None:
    assert quarter_months("2026q4") == ["2026-10", "2026-11", "2026-12"]
    book = fold(store.read_all())
    fees = files.fees_by_exec_id(store, REF)
    data = r606(book, "2026Q4", "execflow-test", REF.sp500, REF.qty, fees)
    validator("606").validate(data)
    nov = next(m for m in data["months"] if m["month"] == "2026-11")
    sp = next(s for s in nov["sections"] if s["segment"] == "sp500")
    assert sp["total_orders"] == 4  # M1, I1, L1, C1 (AAPL and MSFT)
    assert sp["market_pct"] == "50.00"
    venue = sp["venues"][0]
    assert venue["venue"] == "PAPER" and venue["non_directed_orders_pct"] == "100.00"
    assert venue["net_payment_market_usd"] == "0.30"  # the maker rebate on x3, received
    assert venue["net_payment_market_cents_per_100_shares"] == "12.0000"  # 0.30 / 250 sh


def test_cat_export_validates_and_links_the_lifecycle(
    store: MemoryEventStore, tmp_path: Path
) -> None:
    lines = list(cat_events(fold(store.read_all()), T0, T0 + 86_400 * S, REF.price, REF.qty))
    v = validator("cat")
    for line in lines:
        v.validate(line)
    types = [(e["type"], e["orderID"]) for e in lines if e["orderID"] == "L1"]
    assert types == [("MENO", "L1"), ("MEOR", "L1"), ("MEOM", "L1"), ("MEOC", "L1")]
    m1 = [e for e in lines if e["orderID"] == "M1"]
    assert [e["type"] for e in m1] == ["MENO", "MEOR", "MEOF", "MEOF", "MEOF"]
    assert m1[0]["eventSource"] == "key:a" and m1[0]["eventChannel"] == "http:10.0.0.1"
    assert {e["routedOrderID"] for e in m1[1:]} == {"M1"}
    assert [e["tradeID"] for e in m1[2:]] == ["x1", "x2", "x3"]
    child = next(e for e in lines if e["orderID"] == "C1" and e["type"] == "MENO")
    assert child["parentOrderID"] == "P1"
    with pytest.raises(jsonschema.ValidationError):
        v.validate({**m1[2], "tradeID": ""})


def test_rts22_xml_validates_against_the_xsd(store: MemoryEventStore, tmp_path: Path) -> None:
    schema = xmlschema.XMLSchema(str(files.schema_path("rts22")))
    root = rts22_report(fold(store.read_all()), T0, T0 + 86_400 * S, "529900T8BM49AURSDO55",
                        REF.price, REF.qty, REF.currency)  # fmt: skip
    path = tmp_path / "rts22.xml"
    path.write_bytes(to_bytes(root))
    schema.validate(str(path))
    doc = schema.to_dict(str(path))
    (tx,) = doc["Tx"]  # only SAP.DE has an EEA ISIN
    assert tx["FinInstrmId"] == "DE0007164600" and tx["Sellr"] == "INTC" and tx["Buyr"] == "XOFF"
    assert tx["Pric"]["$"] == Decimal("218.90") and tx["Pric"]["@Ccy"] == "EUR"
    assert tx["ShrtSellgInd"] == "UNDI"
    bad = path.read_text().replace("DE0007164600", "DE00071646")
    assert not schema.is_valid(bad)


def test_rts22_tx_ids_of_a_long_cl_ord_id_are_unique_stable_and_valid(tmp_path: Path) -> None:
    # the fills' keys differ after character 52 only: cut to 52 they were one TxId
    long_cl = "ALGO-VWAP-" + "X" * 45
    s = MemoryEventStore()
    s.append(f"order-{long_cl}", 0, [
        *order(long_cl, "SAP.DE", -1, 20, None, T0),
        fill(long_cl, "exec-1", 10, 21_890, T0 + S),
        fill(long_cl, "exec-2", 10, 21_890, T0 + 2 * S),
    ])  # fmt: skip
    s.append(
        "order-E2", 0, [*order("E2", "SAP.DE", 1, 5, None, T0), fill("E2", "x9", 5, 21_900, T0 + S)]
    )

    def tx_ids() -> list[str]:
        root = rts22_report(fold(s.read_all()), T0, T0 + 86_400 * S, "529900T8BM49AURSDO55",
                            REF.price, REF.qty, REF.currency)  # fmt: skip
        path = tmp_path / "rts22.xml"
        path.write_bytes(to_bytes(root))
        schema = xmlschema.XMLSchema(str(files.schema_path("rts22")))
        schema.validate(str(path))
        return sorted(tx["TxId"] for tx in schema.to_dict(str(path))["Tx"])

    ids = tx_ids()
    assert len(ids) == len(set(ids)) == 3
    assert "E2-x9" in ids  # a key that fits stays readable
    assert all(len(i) <= 52 for i in ids)
    assert tx_ids() == ids  # the same ids in every report of the same fills


def test_best_execution_review_and_a_replaceable_nbbo(store: MemoryEventStore) -> None:
    book = fold(store.read_all())
    data = review(book, T0, T0 + 86_400 * S, REF.price, Decimal("1"))
    validator("bestex").validate(data)
    stats = {(r["venue"], r["order_type"]): r for r in data["by_venue_and_order_type"]}
    mkt = stats[("PAPER", "market")]
    assert (mkt["shares_inside"], mkt["shares_at"], mkt["shares_outside"]) == (50, 170, 50)
    assert [e["exec_id"] for e in data["exceptions"]] == ["x3"]  # 2 cents = 1.05 bps > 1
    assert data["exceptions"][0]["outside_bps"] == "1.05"
    assert data["nbbo_source"] == "RecordedNbbo"

    class WiderNbbo:
        """A consolidated book with a better offer elsewhere (what a multi-venue NBBO adds)."""

        def nbbo(self, instrument: str, ts: int) -> Quote | None:
            return (18_990, 19_002)

        def first_at_or_after(self, instrument: str, ts: int) -> Quote | None:
            return (18_990, 19_002)

    m1 = book.orders["M1"]
    f = m1.fills[0]
    stripped = type(f)(f.ts, f.exec_id, f.qty, f.px, f.venue, f.liquidity, None, None, 0)
    assert classify(m1, stripped, WiderNbbo()).where == "outside"  # 190.05 > 190.02
    assert classify(m1, f, WiderNbbo()).where == "at"  # the fill's own quote wins


def test_best_execution_alert_on_the_live_rules() -> None:
    cfg = SurveillanceConfig(rules=("best_execution",), bestex_tolerance_bps=1)
    s = Surveillance(cfg)
    evs = [*order("B1", "AAPL", 1, 100, None, T0), fill("B1", "y1", 50, 19_005, T0 + S),
           fill("B1", "y2", 50, 19_007, T0 + 2 * S)]  # fmt: skip
    alerts = s.scan(evs)
    assert [(a.rule, a.evidence["exec_id"]) for a in alerts] == [("best_execution", "y2")]
    assert alerts[0].evidence["outside_bps_x100"] == 105  # 2 cents on 190.00: 1.05 bps


def test_cli_reports_from_a_real_engine_log(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"EXECFLOW_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    for ins, side, qty in (("AAPL", "buy", "150"), ("SAP.DE", "sell", "20"), ("MSFT", "buy", "5")):
        args = ["orders", "submit", "-i", ins, "-s", side, "-q", qty, "-t", "market"]
        r = runner.invoke(app, args, env=env)
        assert r.exit_code == 0, r.output
    now = datetime.now(UTC)
    day, month = now.strftime("%Y-%m-%d"), now.strftime("%Y-%m")
    quarter = f"{now.year}Q{(now.month - 1) // 3 + 1}"
    outs = {}
    for kind, extra in (("605", ["--month", month]), ("606", ["--quarter", quarter]),
                        ("cat", ["--date", day]), ("rts22", ["--date", day]),
                        ("bestex", ["--date", day])):  # fmt: skip
        out = tmp_path / f"report-{kind}"
        r = runner.invoke(app, ["compliance", "report", kind, "-o", str(out), *extra], env=env)
        assert r.exit_code == 0, r.output
        outs[kind] = out
    for kind in ("605", "606", "bestex"):
        validator(kind).validate(json.loads(outs[kind].read_text()))
    lines = [json.loads(x) for x in outs["cat"].read_text().splitlines()]
    assert {e["type"] for e in lines} >= {"MENO", "MEOR", "MEOF"}
    for line in lines:
        validator("cat").validate(line)
    xmlschema.XMLSchema(str(files.schema_path("rts22"))).validate(str(outs["rts22"]))
    rows = json.loads(outs["605"].read_text())["rows"]
    assert sum(int(r["covered_orders"]) for r in rows) == 3
