"""Fees on fills: venue schedules (maker/taker, inverted, per share or bps, with tiers), broker
commission and regulatory fees (SEC section 31, FINRA TAF), as rules with effective dates.

Pure and deterministic: a :class:`FeeSchedule` prices one fill from the fill, its order and the
instrument, and returns :class:`FeeLine` s that the engine puts on the ``OrderFilled`` event
(docs/adr/0007-fees-on-fills.md). Nothing here reads a file: ``schedule_from_mapping`` takes
the parsed TOML (``bootstrap`` reads it; defaults in ``execflow/fees.default.toml``).

Amounts are integers in minor units of the instrument's currency (cents); **positive = paid by
the client, negative = a rebate received**. Rounding rule: each line is computed exactly (a
``Fraction`` of minor units) and rounded once, to the minor unit, with the rule's ``rounding``:
``half_even`` (default, like ``Instrument.notional``) or ``up`` (away from zero: regulatory
fees are passed on rounded up to the cent); a line's cap (``max_fee``) and floor (``min_fee``)
apply to its magnitude after rounding.

Tiers are stateless: a venue rule selects its tier from the ``tier_volume`` configured for it
(e.g. the previous month's average daily volume that the venue bills on), so replaying a log
prices every fill the same, and the fee is written on the event anyway.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import msgspec

from execflow.domain.enums import Liquidity
from execflow.domain.errors import InvalidValueError
from execflow.domain.instruments import Instrument
from execflow.domain.numbers import currency_decimals

KINDS = ("venue", "broker", "regulatory", "other")
BASES = ("per_share", "bps", "per_million", "flat")
ROUNDINGS = ("half_even", "up")


class FeeLine(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One fee on one fill: the rule's name and kind, the amount in minor units of
    ``currency`` (positive = paid, negative = rebate)."""

    name: str
    kind: str
    amount: int
    currency: str


def total_fees(lines: Iterable[FeeLine]) -> int:
    """Sum of the lines' amounts (minor units; every line of a fill has the fill's currency)."""
    return sum(line.amount for line in lines)


@dataclass(frozen=True, slots=True)
class Tier:
    """From ``min_volume`` (the rule's ``tier_volume`` at or above it) these rates apply."""

    min_volume: int
    maker: Decimal
    taker: Decimal


@dataclass(frozen=True, slots=True)
class FeeRule:
    """A fee rule. ``basis``: ``per_share`` (currency per unit of quantity), ``bps`` (of the
    notional), ``per_million`` (currency per million of notional: SEC section 31) or ``flat``
    (currency per fill). ``maker``/``taker`` are the rates by liquidity (an inverted venue pays
    the taker: a negative taker rate); ``rate`` sets both. Filters: ``venues``, ``currencies``,
    ``asset_classes``, ``sides`` (``BUY``/``SELL``), ``accounts`` (empty = all). The rule is in
    force on trade dates ``effective_from <= d < effective_to`` (UTC dates)."""

    name: str
    kind: str
    basis: str
    maker: Decimal
    taker: Decimal
    tiers: tuple[Tier, ...] = ()
    tier_volume: int = 0
    venues: frozenset[str] = frozenset()
    currencies: frozenset[str] = frozenset()
    asset_classes: frozenset[str] = frozenset()
    sides: frozenset[int] = frozenset()
    accounts: frozenset[str] = frozenset()
    min_fee: Decimal | None = None
    max_fee: Decimal | None = None
    rounding: str = "half_even"
    effective_from: date | None = None
    effective_to: date | None = None

    def __post_init__(self) -> None:
        where = f"fee rule {self.name!r}"
        if self.kind not in KINDS:
            raise InvalidValueError(f"{where}: kind must be one of {KINDS}, not {self.kind!r}")
        if self.basis not in BASES:
            raise InvalidValueError(f"{where}: basis must be one of {BASES}, not {self.basis!r}")
        if self.rounding not in ROUNDINGS:
            raise InvalidValueError(f"{where}: rounding must be one of {ROUNDINGS}")
        if self.effective_from and self.effective_to and self.effective_to <= self.effective_from:
            raise InvalidValueError(f"{where}: effective_to must be after effective_from")

    def applies(self, d: date, venue: str, side: int, account: str, instrument: Instrument) -> bool:
        return (
            (self.effective_from is None or d >= self.effective_from)
            and (self.effective_to is None or d < self.effective_to)
            and (not self.venues or venue in self.venues)
            and (not self.currencies or instrument.currency in self.currencies)
            and (not self.asset_classes or str(instrument.asset_class) in self.asset_classes)
            and (not self.sides or side in self.sides)
            and (not self.accounts or account in self.accounts)
        )

    def rate(self, liquidity: Liquidity) -> Decimal:
        maker, taker = self.maker, self.taker
        for tier in self.tiers:  # sorted by min_volume: the last one reached wins
            if self.tier_volume >= tier.min_volume:
                maker, taker = tier.maker, tier.taker
        return maker if liquidity == Liquidity.MAKER else taker

    def exact(self, instrument: Instrument, qty: int, price: int, liquidity: Liquidity) -> Fraction:
        """The exact fee in minor units of the instrument's currency, before rounding."""
        rate = Fraction(self.rate(liquidity))
        minor = Fraction(10) ** currency_decimals(instrument.currency)
        if self.basis == "per_share":
            return rate * Fraction(qty) / Fraction(10) ** instrument.qty_decimals * minor
        if self.basis == "flat":
            return rate * minor
        notional = instrument.notional_exact(price, qty)
        return notional * rate / (10_000 if self.basis == "bps" else 1_000_000)

    def amount(self, instrument: Instrument, qty: int, price: int, liquidity: Liquidity) -> int:
        """The fee in minor units, rounded by the rule, capped and floored (magnitude)."""
        x = self.exact(instrument, qty, price, liquidity)
        out = _round(x, self.rounding)
        minor = 10 ** currency_decimals(instrument.currency)
        sign = -1 if out < 0 else 1
        mag = abs(out)
        if self.max_fee is not None:
            mag = min(mag, _round(Fraction(self.max_fee) * minor, self.rounding))
        if self.min_fee is not None and mag:
            mag = max(mag, _round(Fraction(self.min_fee) * minor, self.rounding))
        return sign * mag


def _round(x: Fraction, rule: str) -> int:
    if rule == "up":
        return math.ceil(x) if x >= 0 else -math.ceil(-x)
    return round(x)  # Fraction.__round__ is half-even


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Every rule in force; :meth:`fees` prices one fill (all applicable rules, in order)."""

    rules: tuple[FeeRule, ...] = ()

    def fees(
        self,
        *,
        instrument: Instrument,
        account: str,
        side: int,
        venue: str,
        qty: int,
        price: int,
        liquidity: Liquidity,
        ts_ns: int,
    ) -> tuple[FeeLine, ...]:
        if not self.rules or qty <= 0:
            return ()
        d = datetime.fromtimestamp(ts_ns // 1_000_000_000, UTC).date()
        out = []
        for rule in self.rules:
            if rule.applies(d, venue, side, account, instrument):
                amount = rule.amount(instrument, qty, price, liquidity)
                if amount:
                    out.append(
                        FeeLine(
                            name=rule.name,
                            kind=rule.kind,
                            amount=amount,
                            currency=instrument.currency,
                        )
                    )
        return tuple(out)


# -- from parsed TOML ------------------------------------------------------------------------
def _dec(v: Any, what: str) -> Decimal:
    if isinstance(v, Decimal):
        return v
    if isinstance(v, float):
        raise InvalidValueError(f'{what}: write {v} as a string ("{v}"): floats are inexact')
    try:
        return Decimal(str(v))
    except Exception:
        raise InvalidValueError(f"{what}: {v!r} is not a number") from None


def _date(v: Any, what: str) -> date | None:
    if v is None or isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v))
    except ValueError:
        raise InvalidValueError(f"{what}: {v!r} is not a date (YYYY-MM-DD)") from None


def _set(v: Any) -> frozenset[str]:
    if v is None:
        return frozenset()
    return frozenset([v] if isinstance(v, str) else [str(x) for x in v])


_SIDES = {"BUY": 1, "SELL": -1}
_KEYS = {
    "kind", "basis", "rate", "maker", "taker", "tiers", "tier_volume", "venues", "currencies",
    "asset_classes", "sides", "accounts", "min_fee", "max_fee", "rounding", "effective_from",
    "effective_to",
}  # fmt: skip


def rule_from_mapping(name: str, m: Mapping[str, Any]) -> FeeRule:
    """One ``[rules.NAME]`` table (see ``execflow/fees.default.toml``)."""
    where = f"fee rule {name!r}"
    unknown = set(m) - _KEYS
    if unknown:
        raise InvalidValueError(f"{where}: unknown keys {sorted(unknown)}")
    rate = m.get("rate")
    maker = m.get("maker", rate)
    taker = m.get("taker", rate)
    if maker is None or taker is None:
        raise InvalidValueError(f"{where}: give rate, or maker and taker")
    sides = set()
    for s in _set(m.get("sides")):
        if s.upper() not in _SIDES:
            raise InvalidValueError(f"{where}: side {s!r} is not BUY or SELL")
        sides.add(_SIDES[s.upper()])
    tiers = tuple(
        sorted(
            (
                Tier(
                    int(t["min_volume"]),
                    _dec(t.get("maker", t.get("rate")), f"{where} tier maker"),
                    _dec(t.get("taker", t.get("rate")), f"{where} tier taker"),
                )
                for t in m.get("tiers", ())
            ),
            key=lambda t: t.min_volume,
        )
    )
    return FeeRule(
        name=name,
        kind=str(m.get("kind", "other")),
        basis=str(m.get("basis", "per_share")),
        maker=_dec(maker, f"{where} maker"),
        taker=_dec(taker, f"{where} taker"),
        tiers=tiers,
        tier_volume=int(m.get("tier_volume", 0)),
        venues=_set(m.get("venues")),
        currencies=_set(m.get("currencies")),
        asset_classes=_set(m.get("asset_classes")),
        sides=frozenset(sides),
        accounts=_set(m.get("accounts")),
        min_fee=None if m.get("min_fee") is None else _dec(m["min_fee"], f"{where} min_fee"),
        max_fee=None if m.get("max_fee") is None else _dec(m["max_fee"], f"{where} max_fee"),
        rounding=str(m.get("rounding", "half_even")),
        effective_from=_date(m.get("effective_from"), f"{where} effective_from"),
        effective_to=_date(m.get("effective_to"), f"{where} effective_to"),
    )


def schedule_from_mapping(doc: Mapping[str, Any]) -> FeeSchedule:
    """A schedule from a parsed fee file: ``[rules.NAME]`` tables, applied in file order."""
    rules = doc.get("rules", {})
    if not isinstance(rules, Mapping):
        raise InvalidValueError("fee file: [rules.NAME] tables expected")
    return FeeSchedule(tuple(rule_from_mapping(n, r) for n, r in rules.items()))
