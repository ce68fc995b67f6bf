"""Surveillance rules over the event log: each finding is a :class:`ComplianceAlert`.

Pure: events in (position order, each with its own ``ts``), alerts out; no clock, no I/O. The
same rules run live (``execflow.application.compliance``, a bus subscriber of the engine) and
over a stored log (``execflow compliance scan``), and give the same alerts for the same events.

Rules (thresholds in :class:`SurveillanceConfig`; quantities in instrument units, prices in
price units, times in ns):

* ``wash_trade``: two fills in one instrument on opposite sides by accounts of one beneficial
  owner (``owners``; an account is its own owner otherwise), within ``wash_window_ns`` and
  ``wash_price_tolerance`` of each other (a self-match when it is one account);
* ``spoofing`` / ``layering``: a large limit order (``spoof_min_qty``) placed near the touch
  (within ``spoof_near_touch_bps`` of the mid at arrival), cancelled within
  ``spoof_max_life_ns`` with at most ``spoof_max_fill_bps`` of it filled, while the same owner
  traded the other side; ``layering`` when ``layering_min_orders`` or more such orders at
  different prices were cancelled around the same opposite trades;
* ``marking_the_close``: an account's fills on one side in the last ``close_window_ns`` before
  the close reach ``close_min_qty`` and ``close_share_bps`` of its volume in the instrument
  that day;
* ``order_to_trade_ratio``: an account's order messages (new, replace, cancel) in an instrument
  per day reach ``otr_min_orders`` and exceed ``otr_max_ratio`` times its fills;
* ``restricted_list``: an order in an instrument on the restricted list;
* ``outside_hours``: an order entered outside the trading hours (local time of ``timezone``,
  weekdays; holidays are not known here);
* ``best_execution``: a fill outside the NBBO recorded with it (``OrderFilled.quote``: the
  consolidated NBBO with several lit venues, else the venue's own quote) by more than
  ``bestex_tolerance_bps``.

The thresholds and their loading are in :mod:`execflow.domain.compliance.config`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import msgspec

from execflow.domain.compliance.config import SECOND, SurveillanceConfig
from execflow.domain.compliance.events import ComplianceAlert
from execflow.domain.enums import OrderType
from execflow.domain.events import (
    Event,
    OrderCanceled,
    OrderFilled,
    OrderInitialized,
    OrderReplaced,
)


@dataclass(slots=True)
class _Order:
    cl_ord_id: str
    account: str
    owner: str
    instrument: str
    side: int
    order_type: OrderType
    quantity: int
    price: int | None
    mid: int | None
    placed_ns: int
    cum_qty: int = 0


@dataclass(slots=True)
class _Fill:
    ts: int
    cl_ord_id: str
    exec_id: str
    account: str
    owner: str
    instrument: str
    side: int
    qty: int
    px: int


@dataclass(frozen=True, slots=True)
class _Session:
    date: date
    start_ns: int
    end_ns: int
    open_ns: int
    close_ns: int
    weekday: bool


@dataclass(slots=True)
class _Day:
    """One account's activity in one instrument on one trading day."""

    orders: int = 0
    fills: int = 0
    qty: int = 0
    close_qty: dict[int, int] = field(default_factory=dict)  # side -> qty in the close window
    close_fills: dict[int, list[str]] = field(default_factory=dict)


class Surveillance:
    """The rules' state; :meth:`on_event` returns the alerts an event raises (once each)."""

    def __init__(self, config: SurveillanceConfig | None = None) -> None:
        self.config = config or SurveillanceConfig()
        c = self.config
        self._rules = frozenset(c.rules)
        self._tz = ZoneInfo(c.timezone)
        self._open = time.fromisoformat(c.open_time)
        self._close = time.fromisoformat(c.close_time)
        self._orders: dict[str, _Order] = {}
        self._fills: deque[_Fill] = deque()
        self._days: dict[tuple[str, str, date], _Day] = {}
        self._spoof_candidates: deque[tuple[int, _Order]] = deque()  # (cancel ts, order)
        self.raised: set[str] = set()
        self._current: _Session | None = None
        self._keep_ns = max(c.wash_window_ns, c.spoof_max_life_ns, c.close_window_ns) * 2

    # -- entry ---------------------------------------------------------------------------------
    def on_event(self, event: Event) -> list[ComplianceAlert]:
        t = type(event)
        if t is OrderInitialized:
            return self._on_new(event)  # type: ignore[arg-type]
        if t is OrderFilled:
            return self._on_fill(event)  # type: ignore[arg-type]
        if t is OrderCanceled:
            return self._on_cancel(event)  # type: ignore[arg-type]
        if t is OrderReplaced:
            return self._on_replace(event)  # type: ignore[arg-type]
        if t is ComplianceAlert:
            self.raised.add(event.alert_id)  # type: ignore[attr-defined]
        return []

    def scan(self, events: Iterable[Event]) -> list[ComplianceAlert]:
        out: list[ComplianceAlert] = []
        for ev in events:
            out += self.on_event(ev)
        return out

    def _raise(self, alerts: list[ComplianceAlert], alert: ComplianceAlert) -> None:
        if alert.rule in self._rules and alert.alert_id not in self.raised:
            self.raised.add(alert.alert_id)
            alerts.append(alert)

    # -- sessions ------------------------------------------------------------------------------
    def _local(self, ts: int) -> datetime:
        return datetime.fromtimestamp(ts / SECOND, UTC).astimezone(self._tz)

    def _session(self, ts: int) -> _Session:
        """The local trading day of ``ts`` (cached: one calendar computation per day)."""
        s = self._current
        if s is not None and s.start_ns <= ts < s.end_ns:
            return s
        d = self._local(ts).date()
        tz = self._tz

        def at(day: date, t: time) -> int:
            return int(datetime.combine(day, t, tz).timestamp()) * SECOND

        s = _Session(
            d, at(d, time(0)), at(d + timedelta(days=1), time(0)), at(d, self._open),
            at(d, self._close), d.weekday() < 5,
        )  # fmt: skip
        self._current = s
        return s

    def _in_hours(self, ts: int) -> bool:
        s = self._session(ts)
        return s.weekday and s.open_ns <= ts < s.close_ns

    def _close_ns(self, ts: int) -> int:
        return self._session(ts).close_ns

    def _day(self, account: str, instrument: str, ts: int) -> _Day:
        key = (account, instrument, self._session(ts).date)
        day = self._days.get(key)
        if day is None:
            day = self._days[key] = _Day()
        return day

    # -- events --------------------------------------------------------------------------------
    def _on_new(self, ev: OrderInitialized) -> list[ComplianceAlert]:
        c = self.config
        alerts: list[ComplianceAlert] = []
        o = _Order(
            ev.cl_ord_id, ev.account, c.owner(ev.account), ev.instrument, int(ev.side),
            ev.order_type, ev.quantity, ev.price, ev.arrival_mid, ev.ts,
        )  # fmt: skip
        self._orders[ev.cl_ord_id] = o
        if ev.is_parent:
            return alerts
        base = {"cl_ord_id": ev.cl_ord_id, "side": "BUY" if o.side > 0 else "SELL"}
        why = c.restricted.get(ev.instrument)
        if why is not None:
            self._raise(
                alerts,
                _alert(
                    ev.ts, f"restricted:{ev.cl_ord_id}", "restricted_list", "high", o,
                    f"order {ev.cl_ord_id} in restricted instrument {ev.instrument}: {why}",
                    {**base, "quantity": ev.quantity, "list_reason": why},
                ),
            )  # fmt: skip
        if not self._in_hours(ev.ts):
            local = self._local(ev.ts)
            self._raise(
                alerts,
                _alert(
                    ev.ts, f"hours:{ev.cl_ord_id}", "outside_hours", "medium", o,
                    f"order {ev.cl_ord_id} entered at {local.isoformat(timespec='seconds')},"
                    f" outside {c.open_time}-{c.close_time} {c.timezone} on weekdays",
                    {**base, "local_time": local.isoformat(timespec="seconds")},
                ),
            )  # fmt: skip
        self._count_order(alerts, o, ev.ts)
        return alerts

    def _count_order(self, alerts: list[ComplianceAlert], o: _Order, ts: int) -> None:
        c = self.config
        day = self._day(o.account, o.instrument, ts)
        day.orders += 1
        if day.orders >= c.otr_min_orders and day.orders > c.otr_max_ratio * max(day.fills, 1):
            d = self._session(ts).date.isoformat()
            self._raise(
                alerts,
                _alert(
                    ts, f"otr:{o.account}:{o.instrument}:{d}", "order_to_trade_ratio", "medium",
                    o,
                    f"account {o.account} sent {day.orders} order messages for {day.fills}"
                    f" fills in {o.instrument} on {d} (limit {c.otr_max_ratio}:1)",
                    {"orders": day.orders, "fills": day.fills, "date": d,
                     "max_ratio": c.otr_max_ratio, "min_orders": c.otr_min_orders},
                ),
            )  # fmt: skip

    def _on_replace(self, ev: OrderReplaced) -> list[ComplianceAlert]:
        o = self._orders.get(ev.cl_ord_id)
        alerts: list[ComplianceAlert] = []
        if o is not None:
            o.quantity, o.price = ev.quantity, ev.price if ev.price is not None else o.price
            self._count_order(alerts, o, ev.ts)
        return alerts

    def _on_fill(self, ev: OrderFilled) -> list[ComplianceAlert]:
        c = self.config
        alerts: list[ComplianceAlert] = []
        o = self._orders.get(ev.cl_ord_id)
        if o is None:
            return alerts
        o.cum_qty += ev.last_qty
        if o.cum_qty >= o.quantity:
            del self._orders[o.cl_ord_id]  # done: a cancel can no longer come
        f = _Fill(ev.ts, o.cl_ord_id, ev.exec_id, o.account, o.owner, o.instrument, o.side,
                  ev.last_qty, ev.last_px)  # fmt: skip
        self._prune(ev.ts)
        if "wash_trade" in self._rules:
            for g in self._fills:
                if (
                    g.instrument == f.instrument
                    and g.side == -f.side
                    and g.owner == f.owner
                    and g.cl_ord_id != f.cl_ord_id
                    and abs(g.ts - f.ts) <= c.wash_window_ns
                    and abs(g.px - f.px) <= c.wash_price_tolerance
                ):
                    a, b = sorted((g.cl_ord_id, f.cl_ord_id))
                    same = g.account == f.account
                    self._raise(
                        alerts,
                        _alert(
                            ev.ts, f"wash:{a}:{b}", "wash_trade", "high", o,
                            f"{'self-match' if same else 'wash trade'}: {g.cl_ord_id}"
                            f" ({g.account}) and {f.cl_ord_id} ({f.account}), one owner"
                            f" {f.owner}, traded {f.instrument} against each other's side"
                            f" {abs(f.ts - g.ts) / SECOND:.3f}s apart at {g.px} / {f.px}",
                            {"orders": [g.cl_ord_id, f.cl_ord_id],
                             "accounts": [g.account, f.account], "owner": f.owner,
                             "exec_ids": [g.exec_id, f.exec_id], "prices": [str(g.px), str(f.px)],
                             "quantities": [str(g.qty), str(f.qty)], "same_account": same,
                             "window_ns": c.wash_window_ns},
                        ),
                    )  # fmt: skip
                    break
        self._fills.append(f)
        day = self._day(o.account, o.instrument, ev.ts)
        day.fills += 1
        day.qty += ev.last_qty
        close = self._close_ns(ev.ts)
        if close - c.close_window_ns <= ev.ts < close:
            day.close_qty[o.side] = day.close_qty.get(o.side, 0) + ev.last_qty
            day.close_fills.setdefault(o.side, []).append(ev.exec_id)
            side_qty = day.close_qty[o.side]
            if side_qty >= c.close_min_qty and side_qty * 10_000 >= c.close_share_bps * day.qty:
                d = self._session(ev.ts).date.isoformat()
                side = "BUY" if o.side > 0 else "SELL"
                self._raise(
                    alerts,
                    _alert(
                        ev.ts, f"close:{o.account}:{o.instrument}:{d}:{side}",
                        "marking_the_close", "high", o,
                        f"account {o.account} {side} {side_qty} {o.instrument} in the last"
                        f" {c.close_window_ns // (60 * SECOND)} min before the close, "
                        f"{side_qty * 100 // max(day.qty, 1)}% of its {day.qty} that day",
                        {"side": side, "close_window_qty": side_qty, "day_qty": day.qty,
                         "exec_ids": list(day.close_fills[o.side][-20:]), "date": d,
                         "last_px": str(ev.last_px)},
                    ),
                )  # fmt: skip
        if self._spoof_candidates:
            alerts += self._spoof_check_fill(f)
        if "best_execution" in self._rules:
            self._check_nbbo(alerts, o, ev)
        return alerts

    def _check_nbbo(self, alerts: list[ComplianceAlert], o: _Order, ev: OrderFilled) -> None:
        """A fill outside the NBBO in force by more than the tolerance: the consolidated NBBO
        recorded with the fill when several lit venues quote the instrument, else the BBO the
        venue reported with it (one lit venue: that is the NBBO)."""
        bid, ask = ev.quote
        ref = ask if o.side > 0 else bid
        if ref is None or bid is None or ask is None:
            return
        worse = (ev.last_px - ref) * o.side
        mid2 = bid + ask
        if worse <= 0 or mid2 <= 0:
            return
        bps_x100 = worse * 2 * 1_000_000 // mid2  # hundredths of a bp
        if bps_x100 <= self.config.bestex_tolerance_bps * 100:
            return
        self._raise(
            alerts,
            _alert(
                ev.ts, f"bestex:{ev.exec_id}", "best_execution", "medium", o,
                f"fill {ev.exec_id} of {o.cl_ord_id} at {ev.last_px} is outside the NBBO"
                f" {bid}/{ask} by {bps_x100 / 100:.2f} bps (tolerance"
                f" {self.config.bestex_tolerance_bps} bps)",
                {"cl_ord_id": o.cl_ord_id, "exec_id": ev.exec_id, "price": str(ev.last_px),
                 "bid": str(bid), "ask": str(ask), "outside_bps_x100": bps_x100,
                 "venue": ev.venue, "venue_bid": str(ev.bid), "venue_ask": str(ev.ask)},
            ),
        )  # fmt: skip

    def _on_cancel(self, ev: OrderCanceled) -> list[ComplianceAlert]:
        alerts: list[ComplianceAlert] = []
        o = self._orders.pop(ev.cl_ord_id, None)
        if o is None:
            return alerts
        self._count_order(alerts, o, ev.ts)
        if not self._spoof_rules_on() or not self._is_spoof_candidate(o, ev.ts):
            return alerts
        self._spoof_candidates.append((ev.ts, o))
        opposite = [
            g
            for g in self._fills
            if g.owner == o.owner
            and g.instrument == o.instrument
            and g.side == -o.side
            and o.placed_ns <= g.ts <= ev.ts
        ]
        if opposite:
            alerts += self._spoof_alert(ev.ts, o, opposite)
        return alerts

    # -- spoofing / layering -------------------------------------------------------------------
    def _spoof_rules_on(self) -> bool:
        return "spoofing" in self._rules or "layering" in self._rules

    def _is_spoof_candidate(self, o: _Order, cancel_ns: int) -> bool:
        c = self.config
        if o.order_type is not OrderType.LIMIT or o.price is None or o.mid is None or o.mid <= 0:
            return False
        if o.quantity < c.spoof_min_qty or cancel_ns - o.placed_ns > c.spoof_max_life_ns:
            return False
        if o.cum_qty * 10_000 > c.spoof_max_fill_bps * o.quantity:
            return False
        distance = (o.mid - o.price) * o.side  # >= 0: passive side of the mid
        return abs(distance) * 10_000 <= c.spoof_near_touch_bps * o.mid

    def _spoof_check_fill(self, f: _Fill) -> list[ComplianceAlert]:
        """An opposite trade right after large orders were pulled (within their lifetime)."""
        out: list[ComplianceAlert] = []
        for cancel_ns, o in self._spoof_candidates:
            if (
                o.owner == f.owner
                and o.instrument == f.instrument
                and o.side == -f.side
                and f.ts - cancel_ns <= self.config.spoof_max_life_ns
                and f.ts >= o.placed_ns
            ):
                out += self._spoof_alert(f.ts, o, [f])
        return out

    def _spoof_alert(self, ts: int, o: _Order, opposite: list[_Fill]) -> list[ComplianceAlert]:
        c = self.config
        alerts: list[ComplianceAlert] = []

        def layer(q: _Order) -> bool:
            return (
                q.owner == o.owner and q.instrument == o.instrument and q.side == o.side
                and q.order_type is OrderType.LIMIT and q.quantity >= c.spoof_min_qty
                and abs(q.placed_ns - o.placed_ns) <= c.spoof_max_life_ns
            )  # fmt: skip

        # the large orders pulled so far and those of the same pattern still resting
        layers = {q.cl_ord_id: q for _, q in self._spoof_candidates if layer(q)}
        for q in self._orders.values():
            if layer(q):
                layers[q.cl_ord_id] = q
        prices = sorted({q.price for q in layers.values() if q.price is not None})
        rule = "layering" if len(prices) >= c.layering_min_orders else "spoofing"
        first = opposite[0]
        side = "BUY" if o.side > 0 else "SELL"
        self._raise(
            alerts,
            _alert(
                ts, f"spoof:{o.owner}:{first.exec_id}", rule, "high", o,
                f"{rule}: {len(layers)} large {side} order(s) of owner {o.owner} near the touch"
                f" in {o.instrument} cancelled within {c.spoof_max_life_ns / SECOND:g}s while"
                f" it traded {sum(g.qty for g in opposite)} on the other side",
                {"orders": list(layers)[-20:],
                 "quantities": [str(q.quantity) for q in layers.values()][-20:],
                 "prices": [str(p) for p in prices][-20:], "mid_at_entry": o.mid,
                 "opposite_exec_ids": [g.exec_id for g in opposite][-20:],
                 "opposite_qty": sum(g.qty for g in opposite), "owner": o.owner},
            ),
        )  # fmt: skip
        return alerts

    def _prune(self, now: int) -> None:
        keep = self._keep_ns
        fills = self._fills
        while fills and now - fills[0].ts > keep:
            fills.popleft()
        cands = self._spoof_candidates
        while cands and now - cands[0][0] > keep:
            cands.popleft()


SNAPSHOT_VERSION = 1


class _Snapshot(msgspec.Struct, frozen=True):
    version: int
    config: bytes  # the thresholds the state was built with: another config folds anew
    orders: list[_Order]
    fills: list[_Fill]
    days: list[tuple[str, str, date, _Day]]
    spoof: list[tuple[int, _Order]]
    raised: list[str]


def dump(s: Surveillance) -> bytes:
    """The rules' state (a snapshot: docs/adr/0008); :func:`load` reads it back."""
    return msgspec.json.encode(
        _Snapshot(
            SNAPSHOT_VERSION,
            msgspec.json.encode(s.config),
            list(s._orders.values()),
            list(s._fills),
            [(a, i, d, day) for (a, i, d), day in s._days.items()],
            list(s._spoof_candidates),
            sorted(s.raised),
        )
    )


def load(s: Surveillance, data: bytes) -> None:
    """Restore :func:`dump`'s state into fresh rules; raise if it does not fit them."""
    snap = msgspec.json.decode(data, type=_Snapshot)
    if snap.version != SNAPSHOT_VERSION:
        raise ValueError(f"surveillance snapshot version {snap.version}")
    if snap.config != msgspec.json.encode(s.config):
        raise ValueError("surveillance snapshot of other thresholds")
    s._orders = {o.cl_ord_id: o for o in snap.orders}
    s._fills = deque(snap.fills)
    s._days = {(a, i, d): day for a, i, d, day in snap.days}
    s._spoof_candidates = deque((ts, o) for ts, o in snap.spoof)
    s.raised = set(snap.raised)


def _alert(
    ts: int,
    alert_id: str,
    rule: str,
    severity: str,
    o: _Order,
    summary: str,
    evidence: dict[str, str | int | bool | list[str] | None],
) -> ComplianceAlert:
    return ComplianceAlert(
        ts=ts, alert_id=alert_id, rule=rule, severity=severity, account=o.account,
        instrument=o.instrument, summary=summary, evidence=evidence,
    )  # fmt: skip
