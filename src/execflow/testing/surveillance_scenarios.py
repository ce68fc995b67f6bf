"""Seeded surveillance scenarios: a trading day of ordinary flow with planted abuse patterns
and look-alike decoys, to measure the rules' detection rate and false-alert rate.

``day(seed)`` returns the events (time order) and the planted patterns. Each planted pattern
and each decoy trades on accounts of its own, so an alert is matched to a pattern by rule and
account. Decoys are what a careless rule would flag: opposite trades of *different* owners at
one price, one owner's opposite trades far apart, large orders cancelled with no opposite
trade, far from the touch, or after a long life, heavy trading at the close by an account that
traded more earlier, a busy account with enough fills, orders just inside the hours.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from execflow.domain.compliance.config import SurveillanceConfig
from execflow.domain.compliance.events import ComplianceAlert
from execflow.domain.enums import OrderType, Side
from execflow.domain.events import Event, OrderCanceled, OrderFilled, OrderInitialized

S = 1_000_000_000
NY = ZoneInfo("America/New_York")
INSTRUMENTS = ("AAPL", "MSFT", "SPY")
TICK = 1  # price units (cents at scale 2)


@dataclass(frozen=True, slots=True)
class Planted:
    rule: str
    accounts: frozenset[str]
    # meets every threshold of its rule (default config): the rule must find it; False: a
    # variant just below a threshold on purpose (a miss by design)
    over: bool = True


@dataclass(slots=True)
class Scenario:
    events: list[Event]
    planted: list[Planted]
    config: SurveillanceConfig
    normal_orders: int = 0
    decoys: int = 0


@dataclass(slots=True)
class _Gen:
    rng: random.Random
    day: datetime
    events: list[tuple[int, int, Event]] = field(default_factory=list)
    seq: int = 0
    mids: dict[str, int] = field(default_factory=dict)

    def at(self, hh: int, mm: int, ss: float = 0.0) -> int:
        local = self.day.replace(hour=hh, minute=mm, second=0, tzinfo=NY)
        return int(local.astimezone(UTC).timestamp()) * S + int(ss * S)

    def mid(self, instrument: str) -> int:
        return self.mids.setdefault(instrument, self.rng.randrange(10_000, 40_000))

    def add(self, ts: int, ev: Event) -> None:
        self.seq += 1
        self.events.append((ts, self.seq, ev))

    def new(
        self, ts: int, account: str, instrument: str, side: int, qty: int,
        price: int | None, mid: int | None = None,
    ) -> str:  # fmt: skip
        self.seq += 1
        cl = f"{account}-{self.seq}"
        self.add(
            ts,
            OrderInitialized(
                ts=ts, cl_ord_id=cl, account=account, instrument=instrument, side=Side(side),
                order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
                quantity=qty, price=price,
                arrival_mid=mid if mid is not None else self.mid(instrument),
            ),
        )  # fmt: skip
        return cl

    def fill(self, ts: int, cl: str, qty: int, px: int) -> None:
        self.seq += 1
        self.add(ts, OrderFilled(ts=ts, cl_ord_id=cl, exec_id=f"X{self.seq}", last_qty=qty,
                                 last_px=px))  # fmt: skip

    def cancel(self, ts: int, cl: str) -> None:
        self.add(ts, OrderCanceled(ts=ts, cl_ord_id=cl))

    def trade(self, ts: int, account: str, ins: str, side: int, qty: int, px: int) -> str:
        cl = self.new(ts, account, ins, side, qty, px)
        self.fill(ts + S // 100, cl, qty, px)
        return cl

    def sometime(self, start: tuple[int, int] = (9, 45), end: tuple[int, int] = (15, 30)) -> int:
        a, b = self.at(*start), self.at(*end)
        return self.rng.randrange(a, b)


def day(seed: int, *, normal_accounts: int = 40, orders_per_account: int = 60) -> Scenario:
    rng = random.Random(seed)
    g = _Gen(rng, datetime(2026, 11, 24, tzinfo=NY))  # a Tuesday
    planted: list[Planted] = []
    owners: dict[str, str] = {}
    config_kw: dict[str, object] = {}
    normal = 0

    # -- ordinary flow: limit orders around the mid, some filled, some cancelled; a third of
    # the accounts belong to families of three (one beneficial owner): their ordinary opposite
    # trades at one price within the wash window are real false alerts ---------------------
    for a in range(normal_accounts):
        acct = f"N{a}"
        if a < normal_accounts // 3:
            owners[acct] = f"OWN-N{a // 3}"
        for _ in range(orders_per_account):
            ins = rng.choice(INSTRUMENTS)
            mid = g.mid(ins)
            side = rng.choice((1, -1))
            ts = g.sometime()
            px = mid - side * rng.randrange(1, 30) * TICK
            cl = g.new(ts, acct, ins, side, rng.randrange(1, 30) * 10, px, mid)
            normal += 1
            if rng.random() < 0.6:
                g.fill(ts + rng.randrange(1, 300) * S, cl, 10, px)
            else:
                g.cancel(ts + rng.randrange(1, 600) * S, cl)

    decoys = 0
    for k in range(3):
        ins = rng.choice(INSTRUMENTS)
        mid = g.mid(ins)
        # planted: wash trade between two accounts of one owner (and a self-match)
        a1, a2 = f"W{k}a", f"W{k}b"
        owners[a1] = owners[a2] = f"OWN-W{k}"
        t = g.sometime()
        g.trade(t, a1, ins, 1, 500, mid)
        # a tick apart now and then: below a zero price tolerance (a miss, by design)
        dt = rng.randrange(1, 20)
        off = rng.choice((0, 0, 0, 1))
        g.trade(t + dt * S, a2, ins, -1, 500, mid + off)
        planted.append(Planted("wash_trade", frozenset({a1, a2}), over=off == 0))
        a3 = f"SM{k}"
        t = g.sometime()
        g.trade(t, a3, ins, -1, 300, mid + 1)
        g.trade(t + 2 * S, a3, ins, 1, 300, mid + 1)
        planted.append(Planted("wash_trade", frozenset({a3})))
        # decoy: opposite trades at one price by different owners
        t = g.sometime()
        g.trade(t, f"DW{k}a", ins, 1, 500, mid)
        g.trade(t + 3 * S, f"DW{k}b", ins, -1, 500, mid)
        # decoy: one owner's opposite trades 20 minutes apart
        owners[f"DF{k}a"] = owners[f"DF{k}b"] = f"OWN-DF{k}"
        t = g.sometime((10, 0), (14, 0))
        g.trade(t, f"DF{k}a", ins, 1, 200, mid)
        g.trade(t + 1200 * S, f"DF{k}b", ins, -1, 200, mid)
        decoys += 2

        # planted: spoofing, a large bid at the touch pulled after selling into the reaction
        acct = f"SP{k}"
        t = g.sometime()
        # size and lifetime vary around the thresholds (5,000 and 10 s by default)
        size = rng.choice((20_000, 20_000, 8_000, 4_000))
        big = g.new(t, acct, ins, 1, size, mid - 1, mid)
        g.trade(t + 2 * S, acct, ins, -1, 300, mid + 1)
        life = rng.choice((4, 4, 8, 15))
        g.cancel(t + life * S, big)
        planted.append(Planted("spoofing", frozenset({acct}), over=size >= 5_000 and life <= 10))
        # planted: layering, three large offers at successive levels, buy, pull them all
        acct = f"LY{k}"
        t = g.sometime()
        layers = [g.new(t + i * S // 2, acct, ins, -1, 10_000, mid + 1 + i, mid) for i in range(3)]
        g.trade(t + 3 * S, acct, ins, 1, 400, mid)
        for i, cl in enumerate(layers):
            g.cancel(t + 5 * S + i * S // 10, cl)
        planted.append(Planted("layering", frozenset({acct})))
        # decoys: a large order cancelled without opposite trade; one far from the touch;
        # one cancelled after ten minutes
        t = g.sometime()
        g.cancel(t + 3 * S, g.new(t, f"DS{k}a", ins, 1, 20_000, mid - 1, mid))
        t = g.sometime()
        far = g.new(t, f"DS{k}b", ins, 1, 20_000, mid - mid // 50, mid)
        g.trade(t + 2 * S, f"DS{k}b", ins, -1, 300, mid + 1)
        g.cancel(t + 4 * S, far)
        t = g.sometime()
        slow = g.new(t, f"DS{k}c", ins, 1, 20_000, mid - 1, mid)
        g.trade(t + 2 * S, f"DS{k}c", ins, -1, 300, mid + 1)
        g.cancel(t + 600 * S, slow)
        decoys += 3

        # planted: marking the close, little all day then a burst of buys in the last minutes
        acct = f"MC{k}"
        g.trade(g.sometime((10, 0), (12, 0)), acct, ins, 1, 100, mid)
        burst = rng.choice(((15, 55), (15, 52), (15, 47)))  # the last starts before the window
        for i in range(5):
            g.trade(g.at(*burst, i * 30.0), acct, ins, 1, 400, mid + 2 + i)
        planted.append(Planted("marking_the_close", frozenset({acct}), over=burst != (15, 47)))
        # decoy: trades at the close, but most of its volume was earlier in the day
        acct = f"DC{k}"
        for _ in range(8):
            g.trade(g.sometime((10, 0), (14, 0)), acct, ins, 1, 600, mid)
        for i in range(3):
            g.trade(g.at(15, 56, i * 30.0), acct, ins, 1, 400, mid)
        decoys += 1

        # planted: order-to-trade ratio, 150 orders cancelled, 2 fills
        acct = f"OT{k}"
        t0 = g.sometime((10, 0), (13, 0))
        # new orders and cancels both count as order messages: 40 + 39 stay below 100
        n = rng.choice((150, 150, 120, 40))
        for i in range(n):
            cl = g.new(t0 + i * S, acct, ins, 1, 100, mid - 5)
            if i in (10, 90):
                g.fill(t0 + i * S + S // 10, cl, 100, mid - 5)
            else:
                g.cancel(t0 + i * S + S // 2, cl)
        planted.append(Planted("order_to_trade_ratio", frozenset({acct}), over=n > 50))
        # decoy: as busy, but one fill in five
        acct = f"DO{k}"
        for i in range(150):
            cl = g.new(t0 + i * S, acct, ins, -1, 100, mid + 5)
            if i % 5 == 0:
                g.fill(t0 + i * S + S // 10, cl, 100, mid + 5)
            else:
                g.cancel(t0 + i * S + S // 2, cl)
        decoys += 1

        # planted: an order in a restricted instrument
        acct = f"RL{k}"
        g.new(g.sometime(), acct, "RSTR", 1, 100, 5_000, 5_000)
        planted.append(Planted("restricted_list", frozenset({acct})))

        # planted: orders outside the hours (early morning, evening); decoys just inside
        acct = f"OH{k}"
        g.new(g.at(7, 10 + k), acct, ins, 1, 100, mid - 3)
        planted.append(Planted("outside_hours", frozenset({acct})))
        acct = f"OE{k}"
        g.new(g.at(17, 30 + k), acct, ins, -1, 100, mid + 3)
        planted.append(Planted("outside_hours", frozenset({acct})))
        g.new(g.at(9, 30, 1.0 + k), f"DH{k}", ins, 1, 100, mid - 3)
        g.new(g.at(15, 59, 58.0 - k), f"DH{k}", ins, -1, 100, mid + 3)
        decoys += 2

    config_kw["owners"] = owners
    config_kw["restricted"] = {"RSTR": "pending merger: insider list"}
    config = SurveillanceConfig(**config_kw)  # type: ignore[arg-type]
    g.events.sort(key=lambda e: (e[0], e[1]))
    return Scenario([e for _, _, e in g.events], planted, config, normal, decoys)


@dataclass(frozen=True, slots=True)
class Score:
    planted: int
    detected: int
    alerts: int
    false_alerts: int
    per_rule: dict[str, tuple[int, int]]  # rule -> (detected, planted)
    over: dict[str, tuple[int, int]]  # rule -> (detected, planted) of those over its thresholds

    @property
    def detection_rate(self) -> float:
        return self.detected / self.planted if self.planted else 1.0

    @property
    def false_alert_rate(self) -> float:
        """Share of the alerts that match no planted pattern."""
        return self.false_alerts / self.alerts if self.alerts else 0.0


def score(planted: list[Planted], alerts: list[ComplianceAlert]) -> Score:
    """Match alerts to planted patterns by rule and account."""
    hit = [False] * len(planted)
    false = 0
    for a in alerts:
        matched = False
        for i, p in enumerate(planted):
            if a.rule == p.rule and a.account in p.accounts:
                hit[i] = matched = True
        if not matched:
            false += 1
    per_rule: dict[str, tuple[int, int]] = {}
    over: dict[str, tuple[int, int]] = {}
    for p, h in zip(planted, hit, strict=True):
        d, n = per_rule.get(p.rule, (0, 0))
        per_rule[p.rule] = (d + int(h), n + 1)
        if p.over:
            d, n = over.get(p.rule, (0, 0))
            over[p.rule] = (d + int(h), n + 1)
    return Score(len(planted), sum(hit), len(alerts), false, per_rule, over)


@dataclass(slots=True)
class Totals:
    """Scores of several seeded days added up (``execflow compliance scenarios``)."""

    seeds: int = 0
    events: int = 0
    ordinary_orders: int = 0
    decoys: int = 0
    planted: int = 0
    detected: int = 0
    alerts: int = 0
    false_alerts: int = 0
    per_rule: dict[str, list[int]] = field(default_factory=dict)  # rule -> [detected, planted]
    over: dict[str, list[int]] = field(default_factory=dict)  # the same, over the thresholds

    def add(self, sc: Scenario, s: Score) -> None:
        self.seeds += 1
        self.events += len(sc.events)
        self.ordinary_orders += sc.normal_orders
        self.decoys += sc.decoys
        self.planted += s.planted
        self.detected += s.detected
        self.alerts += s.alerts
        self.false_alerts += s.false_alerts
        for mine, theirs in ((self.per_rule, s.per_rule), (self.over, s.over)):
            for r, (d, n) in theirs.items():
                acc = mine.setdefault(r, [0, 0])
                acc[0] += d
                acc[1] += n

    def as_dict(self) -> dict[str, object]:
        over_d = sum(d for d, _ in self.over.values())
        over_n = sum(n for _, n in self.over.values())
        return {
            "seeds": self.seeds, "events": self.events,
            "ordinary_orders": self.ordinary_orders, "decoys": self.decoys,
            "planted": self.planted, "detected": self.detected,
            "detection_rate": round(self.detected / self.planted, 4) if self.planted else None,
            "planted_over_thresholds": over_n, "detected_over_thresholds": over_d,
            "detection_rate_over_thresholds": round(over_d / over_n, 4) if over_n else None,
            "alerts": self.alerts, "false_alerts": self.false_alerts,
            "false_alert_rate": round(self.false_alerts / self.alerts, 4) if self.alerts else 0.0,
            "per_rule": {r: self._rule(r) for r in self.per_rule},
        }  # fmt: skip

    def _rule(self, rule: str) -> dict[str, int]:
        d, n = self.per_rule[rule]
        od, on = self.over.get(rule, [0, 0])
        return {"detected": d, "planted": n, "detected_over_thresholds": od,
                "planted_over_thresholds": on}  # fmt: skip


def run_days(seeds: int) -> Totals:
    """The rules (default thresholds) over the seeded days 0..seeds-1, scored."""
    from execflow.domain.compliance.surveillance import Surveillance

    totals = Totals()
    for seed in range(seeds):
        sc = day(seed)
        found = Surveillance(sc.config).scan(sc.events)
        totals.add(sc, score(sc.planted, found))
    return totals
