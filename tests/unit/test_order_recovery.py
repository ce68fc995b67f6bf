"""Order recovery on primary loss (issue 24): each venue's policy applied after a takeover's
recovery, recorded per venue; orders in flight listed with how they are resolved (never resent).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from execflow.adapters.clock import SimulatedClock
from execflow.application.order_recovery import (
    OrderRecoveryPolicy,
    apply_order_recovery,
    parse_policies,
)
from execflow.bootstrap import App, build_app
from execflow.config import Config
from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import OrderStatus, OrderType
from execflow.domain.events import ORDER_RECOVERY_STREAM, OrderRecoveryApplied
from execflow.dr.standby import recover_orders

START = 1_796_464_800 * 10**9  # a weekday, in the US session


def _limit(cl: str, price: int = 15_000) -> SubmitOrder:
    return SubmitOrder(cl_ord_id=cl, account="A", instrument="AAPL", side=1,
                       order_type=OrderType.LIMIT, quantity=5, price=price)  # fmt: skip


def _app(tmp_path: Path, **cfg: object) -> App:
    config = Config(data_dir=tmp_path, sqlite_synchronous="OFF", **cfg)  # type: ignore[arg-type]
    return build_app(config, clock=SimulatedClock(START), trading_sessions=False)


def _recorded(app: App) -> list[OrderRecoveryApplied]:
    return [
        r.event  # type: ignore[misc]
        for r in app.store.read_stream(ORDER_RECOVERY_STREAM)
    ]


def test_parse_policies() -> None:
    assert parse_policies("") == {}
    assert parse_policies("PAPER=mass_cancel, *=Leave") == {
        "PAPER": OrderRecoveryPolicy.MASS_CANCEL, "*": OrderRecoveryPolicy.LEAVE,
    }  # fmt: skip
    with pytest.raises(ValueError, match="not VENUE=POLICY"):
        parse_policies("PAPER")
    with pytest.raises(ValueError, match="'nuke' for PAPER is not one of leave"):
        parse_policies("PAPER=nuke")


def test_leave_keeps_orders_working_and_records_them(tmp_path: Path) -> None:
    with _app(tmp_path) as app:
        for i in range(3):
            app.engine.execute(_limit(f"L{i}"))
        app.engine.run_until_idle()
        events = apply_order_recovery(app.engine, {}, restored={"PAPER"}, reason="test",
                                      now_ns=START)  # fmt: skip
        assert [e.policy for e in events] == ["leave"]
        assert sorted(events[0].open_orders) == ["L0", "L1", "L2"] and events[0].cancels == []
        assert all(app.engine.orders[f"L{i}"].status is OrderStatus.ACCEPTED for i in range(3))
        assert _recorded(app) == events


@pytest.mark.parametrize("policy", ["mass_cancel", "cancel_on_disconnect"])
def test_cancel_policies_cancel_every_open_order_at_a_venue_without_a_session(
    tmp_path: Path, policy: str
) -> None:
    with _app(tmp_path) as app:
        for i in range(3):
            app.engine.execute(_limit(f"C{i}"))
        app.engine.run_until_idle()
    # the next writer on the log: its paper venue is restored from the snapshot
    with _app(tmp_path, order_recovery=f"PAPER={policy}") as app:
        assert app.restored_venues == {"PAPER"}
        events = recover_orders(app, epoch=7)
        assert sorted(events[0].cancels) == ["C0", "C1", "C2"]
        assert "lease epoch 7" in events[0].reason
        if policy == "cancel_on_disconnect":
            assert "no session of its own" in events[0].reason
        app.engine.run_until_idle()
        assert all(app.engine.orders[f"C{i}"].status is OrderStatus.CANCELED for i in range(3))
        assert _recorded(app)[-1].policy == policy


def test_cancel_on_disconnect_at_a_venue_with_a_session_sends_nothing(tmp_path: Path) -> None:
    """A venue that cancels on disconnect itself: the writer only learns the cancels (status
    requests of the recovery pass), it requests none."""
    with _app(tmp_path) as app:
        app.engine.execute(_limit("S0"))
        app.engine.run_until_idle()
        events = apply_order_recovery(
            app.engine, {"*": OrderRecoveryPolicy.CANCEL_ON_DISCONNECT}, restored=(),
            reason="test", now_ns=START,
        )  # fmt: skip
        assert events[0].cancels == [] and events[0].open_orders == ["S0"]
        assert app.engine.orders["S0"].status is OrderStatus.ACCEPTED


def test_orders_in_flight_are_listed_with_how_they_are_resolved(tmp_path: Path) -> None:
    with _app(tmp_path, venue_latency_ns=10**9) as app:  # the venue answers a second later
        app.engine.send(_limit("F0"))
        app.engine.process()  # committed and sent; the venue has not answered
        assert app.engine.orders["F0"].status is OrderStatus.SUBMITTED
        restored = apply_order_recovery(app.engine, {}, restored={"PAPER"}, reason="t",
                                        now_ns=START)  # fmt: skip
        assert restored[0].in_flight == ["F0"] and restored[0].resolved_by == "replay"
        asked = apply_order_recovery(app.engine, {}, restored=(), reason="t", now_ns=START)
        assert asked[0].resolved_by == "status_request"
