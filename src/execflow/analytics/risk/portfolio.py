"""Positions as the stress and VaR kernels see them: base currency values in arrays.

A :class:`RiskPosition` is one account's holding of one instrument, in decimals: quantity,
price and multiplier in the instrument's currency, a sector (for sector shocks) and an
optional daily volatility. :class:`Portfolio` turns a list of them into index and value arrays
with the FX table (base value = quantity x price x multiplier x rate). Sources: a CSV/JSON file
(``load_positions``) or the live risk engine (``positions_from_book``).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from execflow.analytics.risk.backend import numpy
from execflow.application.pretrade.book import RiskBook
from execflow.domain.errors import InvalidValueError
from execflow.domain.fx import FxTable


@dataclass(frozen=True, slots=True)
class RiskPosition:
    account: str
    instrument: str
    currency: str
    quantity: Decimal  # signed: + long, - short
    price: Decimal
    multiplier: Decimal = Decimal(1)
    sector: str = ""
    vol: Decimal | None = None  # daily volatility of returns (0.02 = 2 %), for sigma shocks


def _dec(row: Mapping[str, Any], key: str, default: str | None = None) -> Decimal:
    v = row.get(key, default)
    if v is None or v == "":
        if default is None:
            raise InvalidValueError(f"position {dict(row)}: {key} is missing")
        v = default
    d = _number(key, v)
    if key == "price" and d <= 0:
        raise InvalidValueError(f"position {dict(row)}: price must be > 0")
    return d


def _number(key: str, v: object) -> Decimal:
    if isinstance(v, float):
        raise InvalidValueError(f"{key}: float {v!r} refused; give a decimal string")
    try:
        return Decimal(str(v))
    except ArithmeticError:
        raise InvalidValueError(f"{key}: {v!r} is not a number") from None


def position_from_row(row: Mapping[str, Any]) -> RiskPosition:
    vol = row.get("vol")
    return RiskPosition(
        account=str(row.get("account") or "-"),
        instrument=str(row["instrument"]),
        currency=str(row.get("currency") or "USD").upper(),
        quantity=_dec(row, "quantity"),
        price=_dec(row, "price"),
        multiplier=_dec(row, "multiplier", "1"),
        sector=str(row.get("sector") or ""),
        vol=None if vol in (None, "") else _number("vol", vol),
    )


def load_positions(path: str | Path) -> list[RiskPosition]:
    """CSV with a header (account, instrument, currency, quantity, price[, multiplier, sector,
    vol]) or JSON (a list of objects with those keys; numbers as strings or parsed as Decimal)."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    if p.suffix.lower() == ".json":
        rows = json.loads(text, parse_float=Decimal)
        if isinstance(rows, dict):
            rows = rows.get("positions", [])
    else:
        rows = list(csv.DictReader(text.splitlines()))
    return [position_from_row(r) for r in rows]


def positions_from_book(
    book: RiskBook, sectors: Mapping[str, str] | None = None
) -> list[RiskPosition]:
    """The live positions of the risk engine (filled, net), valued at each instrument's mark."""
    out: list[RiskPosition] = []
    for (acct, _), pos in sorted(book.positions.items()):
        net = pos.net
        ins = pos.inst.instrument
        px = pos.inst.mark(book.market)
        if net == 0 or px is None:
            continue
        out.append(
            RiskPosition(
                account=acct,
                instrument=str(ins.id),
                currency=ins.currency,
                quantity=Decimal(net).scaleb(-ins.qty_decimals),
                price=Decimal(px).scaleb(-ins.price_decimals),
                multiplier=Decimal(ins.multiplier),
                sector=(sectors or {}).get(str(ins.id), ""),
            )
        )
    return out


class Portfolio:
    """Index arrays of a list of positions: instruments, currencies, accounts, base values."""

    def __init__(self, positions: Sequence[RiskPosition], fx: FxTable) -> None:
        np = numpy()
        self.positions = list(positions)
        self.fx = fx
        self.base = fx.base
        self.instruments: list[str] = sorted({p.instrument for p in positions})
        self.currencies: list[str] = sorted({p.currency for p in positions} | {fx.base})
        self.accounts: list[str] = sorted({p.account for p in positions})
        ii = {x: i for i, x in enumerate(self.instruments)}
        ci = {x: i for i, x in enumerate(self.currencies)}
        ai = {x: i for i, x in enumerate(self.accounts)}
        self.sector_of: dict[str, str] = {}
        self.vol_of: dict[str, Decimal] = {}
        for p in positions:
            if p.sector:
                self.sector_of.setdefault(p.instrument, p.sector)
            if p.vol is not None:
                self.vol_of.setdefault(p.instrument, p.vol)
        self.currency_of: dict[str, str] = {}
        for p in positions:
            if self.currency_of.setdefault(p.instrument, p.currency) != p.currency:
                raise InvalidValueError(
                    f"instrument {p.instrument} has positions in two currencies "
                    f"({self.currency_of[p.instrument]}, {p.currency})"
                )
        self.inst = np.array([ii[p.instrument] for p in positions], dtype=np.int32)
        self.ccy = np.array([ci[p.currency] for p in positions], dtype=np.int32)
        self.acct = np.array([ai[p.account] for p in positions], dtype=np.int32)
        self.inst_ccy = np.array(
            [ci[self.currency_of[i]] for i in self.instruments], dtype=np.int32
        )
        self.value_dec = [
            fx.to_base(p.quantity * p.price * p.multiplier, p.currency) for p in positions
        ]
        self.value = np.array([float(v) for v in self.value_dec], dtype=np.float64)

    def __len__(self) -> int:
        return len(self.positions)

    def subset(self, keep: Sequence[int]) -> Portfolio:
        return Portfolio([self.positions[i] for i in keep], self.fx)

    def exposure_by_instrument(self) -> Any:
        """Base value per instrument (float array over ``instruments``)."""
        np = numpy()
        out = np.zeros(len(self.instruments))
        np.add.at(out, self.inst, self.value)
        return out
