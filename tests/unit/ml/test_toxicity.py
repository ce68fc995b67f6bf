"""Toxic flow by markouts: a venue whose fills are followed by adverse moves raises an alert
event, a venue with random markouts does not; the alert is an event the log can hold."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

from execflow.domain.enums import OrderType, Side
from execflow.domain.events import OrderFilled, OrderInitialized, decode_event, encode_event
from execflow.domain.marketdata import Quote
from execflow.domain.ml.toxicity import ToxicFlowAlert, assess

pytest.importorskip("polars")

NS = 1_000_000_000
T0 = 1_795_530_600 * NS


def _day() -> tuple[list[SimpleNamespace], list[Quote]]:
    """Fills alternate between two venues every 10 s; 5 s after each fill the mid moves:
    against the fill on TOXIC (by 2 ticks), randomly on FAIR."""
    rng = random.Random(1)
    recs: list[SimpleNamespace] = []
    tape: list[Quote] = []
    mid2 = 20_000  # bid + ask, in ticks of 1
    for i in range(200):
        t = T0 + i * 10 * NS
        venue = "TOXIC" if i % 2 else "FAIR"
        side = 1 if rng.random() < 0.5 else -1
        tape.append(Quote(instrument="AAPL", ts=t - NS, bid=mid2 // 2 - 1, bid_size=100,
                          ask=mid2 // 2 + 1, ask_size=100))  # fmt: skip
        px = mid2 // 2 + side  # crossed the spread
        cl = f"O{i}"
        recs.append(SimpleNamespace(event=OrderInitialized(
            ts=t, cl_ord_id=cl, account="ACC-T" if venue == "TOXIC" else "ACC-F",
            instrument="AAPL", side=Side(side), order_type=OrderType.MARKET, quantity=100,
        )))  # fmt: skip
        recs.append(SimpleNamespace(event=OrderFilled(
            ts=t, cl_ord_id=cl, exec_id=f"E{i}", last_qty=100, last_px=px, venue=venue,
        )))  # fmt: skip
        move = -side * 4 if venue == "TOXIC" else rng.choice((-4, 4))
        mid2 += move
        tape.append(Quote(instrument="AAPL", ts=t + 2 * NS, bid=mid2 // 2 - 1, bid_size=100,
                          ask=mid2 // 2 + 1, ask_size=100))  # fmt: skip
    return recs, tape


def test_the_adversely_selected_venue_and_account_raise_alerts() -> None:
    from execflow.ml.toxicity import markouts, toxic_flow

    recs, tape = _day()
    m = markouts(recs, tape, horizon_s=5.0)  # type: ignore[arg-type]
    assert m.height == 199  # the last fill's t + 5 s is past the tape: left out
    alerts, table = toxic_flow(m, horizon_s=5.0, min_fills=30, threshold_bps=0.5)
    assert {(a.scope, a.key) for a in alerts} == {("venue", "TOXIC"), ("account", "ACC-T")}
    a = next(a for a in alerts if a.scope == "venue")
    assert a.fills == 99 and a.horizon_ms == 5_000 and a.mean_adverse_cbps > 50
    assert decode_event(encode_event(a)) == a  # an event the log can hold
    fair = table.filter(table["key"] == "FAIR").row(0, named=True)
    assert not fair["alert"] and abs(fair["mean_adverse_bps"]) < 1.5


def test_assess_needs_enough_fills_a_mean_above_threshold_and_significance() -> None:
    assert assess("venue", "V", [2.0] * 10, ts=0, horizon_ms=1, min_fills=30) is None
    assert assess("venue", "V", [0.4] * 50, ts=0, horizon_ms=1, threshold_bps=0.5) is None
    noisy = [5.0, -4.0] * 20  # mean 0.5: above nothing
    assert assess("venue", "V", noisy, ts=0, horizon_ms=1, threshold_bps=0.2) is None
    a = assess("venue", "V", [1.0, 1.2] * 20, ts=7, horizon_ms=1_000)
    assert isinstance(a, ToxicFlowAlert) and a.mean_adverse_cbps == 110 and a.ts == 7
