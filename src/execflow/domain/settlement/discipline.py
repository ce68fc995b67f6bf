"""Settlement discipline: CSDR cash penalties, buy-in candidates, netting per counterparty, and
the prioritisation of deliveries when securities or cash are short. Pure functions.

**CSDR cash penalties** (Regulation (EU) No 909/2014 art. 7, Commission Delegated Regulation
(EU) 2017/389): for each business day an EU settlement instruction fails, from the intended
settlement date up to the day before it settles, the failing party pays

* a *lack of securities*: quantity failing x the instrument's reference price **of that day** x
  the rate of its class (:data:`SECURITIES_PENALTY_BPS`, in hundredths of a basis point:
  liquid shares 1 bp, illiquid shares 0.5 bp, SME growth market shares 0.25 bp, sovereign
  debt 0.10 bp, other debt 0.20 bp, SME debt 0.15 bp, ETFs and the rest 0.5 bp);
* a *lack of cash*: cash failing x the central bank's overnight credit rate of the currency
  (floored at zero) / 365.

Each day's amount is exact; an obligation's penalty is their sum, rounded half-even **once** to
the minor unit. The failing party is our account unless the fail reason names the
counterparty (``counterparty ...``): then the account receives the penalty.

**Prioritisation** (:func:`prioritise`): CSDs settle by recycling: what one settlement
delivers funds the next. The algorithm, greedy by value:

1. take the due obligations by settlement value, largest first (ties: obligation id);
2. settle in full every one whose account has the securities (a sell) or the cash (a buy)
   now, updating the account's holdings and cash (a sale's cash and a purchase's securities
   are available to the next); repeat passes until a pass settles nothing;
3. then, largest first, settle **partially** what can be: a sell for the securities held, a
   buy for the whole lots the cash pays for (at the obligation's cash per unit), if the
   obligation allows partial settlement;
4. everything left fails with ``insufficient securities`` / ``insufficient cash``.

This maximises the value settled in the common cases (it is exact when every obligation can
be settled in full, or when accounts do not fund each other); it is a heuristic, not an
optimal knapsack (that is NP-hard).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Final

from execflow.domain.enums import Side
from execflow.domain.settlement.obligations import (
    SettlementObligation,
    SettlementStatus,
    pro_rata,
)

# hundredths of a basis point per day, per instrument class (2017/389 Annex)
SECURITIES_PENALTY_BPS: Final[Mapping[str, int]] = {
    "liquid_shares": 100,
    "illiquid_shares": 50,
    "sme_shares": 25,
    "sovereign_debt": 10,
    "other_debt": 20,
    "sme_debt": 15,
    "other": 50,  # ETFs, funds, ... "all other financial instruments"
}
CSDR_MARKETS: Final = frozenset({"EU"})
# business days of the buy-in extension period (art. 7(3)): 4, 7 for illiquid shares, 15 for
# SME growth market instruments
EXTENSION_DAYS: Final[Mapping[str, int]] = {"illiquid_shares": 7, "sme_shares": 15, "sme_debt": 15}


@dataclass(frozen=True, slots=True)
class PenaltyDay:
    day: date
    quantity: int  # failing (quantity units)
    reference_price: int  # price units (0 for a cash penalty)
    cash: int  # failing cash, minor units (cash penalties)
    amount: Fraction  # minor units, exact


@dataclass(frozen=True, slots=True)
class Penalty:
    obligation_id: str
    account: str
    kind: str  # "securities" or "cash"
    payer: str  # "account" or "counterparty"
    currency: str
    days: tuple[PenaltyDay, ...]

    @property
    def amount(self) -> int:
        """Minor units, the sum of the days rounded half-even once; + = the account pays."""
        total = round(sum((d.amount for d in self.days), Fraction(0)))
        return total if self.payer == "account" else -total


def failing_days(
    ob: SettlementObligation,
    as_of: date,
    is_business_day: Callable[[date], bool],
    settled: Sequence[tuple[date, int]] = (),
) -> list[tuple[date, int]]:
    """(business day, quantity still failing at its end) from the intended settlement date to
    ``as_of`` (or the day before the last part settled); ``settled`` = (date, quantity) parts."""
    out = []
    d = ob.intended_settle_date
    end = as_of if ob.is_open else (ob.settle_date or as_of) - timedelta(days=1)
    while d <= end:
        if is_business_day(d):
            done = sum(q for day, q in settled if day <= d)
            if ob.quantity - done > 0:
                out.append((d, ob.quantity - done))
        d += timedelta(days=1)
    return out


def csdr_penalty(
    ob: SettlementObligation,
    as_of: date,
    is_business_day: Callable[[date], bool],
    reference_price: Callable[[str, date], int],
    notional: Callable[[int, int], Fraction],
    *,
    settled: Sequence[tuple[date, int]] = (),
    instrument_class: str = "liquid_shares",
    cash_rate: Decimal = Decimal(0),
) -> Penalty | None:
    """The CSDR penalty of an EU obligation that failed (None: not EU, never failed, or no day
    failed). ``notional(price, qty)``: exact value in minor units (``Instrument.notional_exact``).
    A buy that fails for cash ("cash" in the reason) pays the cash penalty at ``cash_rate``
    (annual, e.g. ``Decimal("0.0265")``); everything else is a securities penalty."""
    if (
        ob.market not in CSDR_MARKETS
        or ob.first_failed_on is None
        or ob.status is SettlementStatus.CANCELED  # busted: no cancel date to count up to
    ):
        return None
    days = failing_days(ob, as_of, is_business_day, settled)
    if not days:
        return None
    reason = ob.fail_reason.lower()
    payer = "counterparty" if reason.startswith("counterparty") else "account"
    rows = []
    if ob.side is Side.BUY and "cash" in reason and payer == "account":
        rate = max(Fraction(cash_rate), Fraction(0)) / 365
        for d, q in days:
            cash = Fraction(ob.cash_amount * q, ob.quantity)
            rows.append(PenaltyDay(d, q, 0, round(cash), cash * rate))
        return Penalty(ob.obligation_id, ob.account, "cash", payer, ob.currency, tuple(rows))
    bps = SECURITIES_PENALTY_BPS[instrument_class]
    for d, q in days:
        px = reference_price(ob.instrument, d)
        rows.append(PenaltyDay(d, q, px, 0, notional(px, q) * bps / 1_000_000))
    return Penalty(ob.obligation_id, ob.account, "securities", payer, ob.currency, tuple(rows))


def buy_in_candidates(
    obligations: Iterable[SettlementObligation],
    as_of: date,
    is_business_day: Callable[[date], bool],
    instrument_class: Callable[[str], str] = lambda _: "liquid_shares",
) -> list[tuple[SettlementObligation, int]]:
    """Failing receipts (buys the counterparty does not deliver) whose fail age is past the
    extension period of their class: (obligation, age in business days), oldest first."""
    out = []
    for ob in obligations:
        if ob.status is not SettlementStatus.FAILED or ob.side is not Side.BUY:
            continue
        age = ob.age(as_of, is_business_day)
        if age > EXTENSION_DAYS.get(instrument_class(ob.instrument), 4):
            out.append((ob, age))
    return sorted(out, key=lambda x: (-x[1], x[0].obligation_id))


# -- netting ----------------------------------------------------------------------------------
@dataclass(slots=True)
class NetInstruction:
    """The net of one counterparty's obligations in one instrument on one date at one CSD."""

    counterparty: str
    market: str
    settle_date: date
    instrument: str
    currency: str
    quantity: int = 0  # + we receive, - we deliver
    cash: int = 0  # + we receive, - we pay (minor units)
    obligations: list[str] = field(default_factory=list)


def net_by_counterparty(obligations: Iterable[SettlementObligation]) -> list[NetInstruction]:
    """Open obligations netted per (counterparty, market, intended date, instrument, currency):
    one instruction per group instead of one per fill; remaining quantities and cash only."""
    groups: dict[tuple[str, str, date, str, str], NetInstruction] = {}
    for ob in obligations:
        if not ob.is_open:
            continue
        key = (ob.venue, ob.market, ob.intended_settle_date, ob.instrument, ob.currency)
        net = groups.get(key)
        if net is None:
            net = groups[key] = NetInstruction(*key)
        s = int(ob.side)
        net.quantity += s * ob.remaining_quantity
        net.cash -= s * ob.remaining_cash
        net.obligations.append(ob.obligation_id)
    return [groups[k] for k in sorted(groups)]


# -- prioritisation -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PlannedSettlement:
    obligation_id: str
    quantity: int  # to settle now (0: it fails)
    reason: str = ""  # why (the rest of) it fails


def prioritise(
    due: Iterable[SettlementObligation],
    securities: Mapping[tuple[str, str], int],
    cash: Mapping[tuple[str, str], int],
    *,
    lot_size: Callable[[str], int] = lambda _: 1,
    allow_partial: bool = True,
) -> list[PlannedSettlement]:
    """Which due obligations settle (and how much) with the securities per (account,
    instrument) and cash per (account, currency) available; see the module docstring."""
    sec = dict(securities)
    money = dict(cash)
    todo = sorted(
        (ob for ob in due if ob.is_open and ob.remaining_quantity > 0),
        key=lambda o: (-o.remaining_cash, o.obligation_id),
    )
    plan: dict[str, int] = {}

    def cash_for(ob: SettlementObligation, qty: int) -> int:
        """The cash that settling ``qty`` more moves (the obligation's own pro rata rule)."""
        before = ob.settled_quantity + plan.get(ob.obligation_id, 0)
        return pro_rata(ob.cash_amount, before + qty, ob.quantity) - pro_rata(
            ob.cash_amount, before, ob.quantity
        )

    def take(ob: SettlementObligation, qty: int) -> None:
        c = cash_for(ob, qty)
        sk, ck = (ob.account, ob.instrument), (ob.account, ob.currency)
        if ob.side is Side.SELL:
            sec[sk] = sec.get(sk, 0) - qty
            money[ck] = money.get(ck, 0) + c
        else:
            money[ck] = money.get(ck, 0) - c
            sec[sk] = sec.get(sk, 0) + qty
        plan[ob.obligation_id] = plan.get(ob.obligation_id, 0) + qty

    def coverable(ob: SettlementObligation) -> int:
        """Quantity the account can settle now: all that is left, or whole lots of it."""
        left = ob.remaining_quantity - plan.get(ob.obligation_id, 0)
        lot = lot_size(ob.instrument)
        if ob.side is Side.SELL:
            have = sec.get((ob.account, ob.instrument), 0)
            return left if have >= left else max(have, 0) // lot * lot
        have = money.get((ob.account, ob.currency), 0)
        if cash_for(ob, left) <= have:
            return left
        n = max(have, 0) * ob.quantity // max(ob.cash_amount, 1) // lot * lot
        while n > 0 and cash_for(ob, n) > have:
            n -= lot
        return min(n, left)

    progress = True
    while progress:
        progress = False
        for ob in todo:
            left = ob.remaining_quantity - plan.get(ob.obligation_id, 0)
            if left and coverable(ob) == left:
                take(ob, left)
                progress = True
    if allow_partial:
        for ob in todo:
            left = ob.remaining_quantity - plan.get(ob.obligation_id, 0)
            n = coverable(ob) if left else 0
            if 0 < n < left:
                take(ob, n)
    out = []
    for ob in todo:
        done = plan.get(ob.obligation_id, 0)
        short = "insufficient securities" if ob.side is Side.SELL else "insufficient cash"
        rest = "" if done == ob.remaining_quantity else short
        out.append(PlannedSettlement(ob.obligation_id, done, rest))
    return out
