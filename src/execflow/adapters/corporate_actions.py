"""The corporate-action calendar file (TOML): splits, reverse splits, stock dividends, cash
dividends and symbol changes, read into :mod:`execflow.domain.corporate_actions` values.

```toml
[[split]]                      # also [[reverse_split]] and [[stock_dividend]] (same keys)
id = "AAPL-2026-4FOR1"
instrument = "AAPL"
effective = 2026-11-02         # the ex/effective date: positions and open orders change then
new = 4                        # new shares ...
old = 1                        # ... for old shares (reverse 1-for-10: new = 1, old = 10)
cash_in_lieu_price = "47.63"   # optional, price after the split, for the fraction left over

[[cash_dividend]]
id = "MSFT-2026Q4"
instrument = "MSFT"
ex_date = 2026-11-19
record_date = 2026-11-19
pay_date = 2026-12-10
amount = "0.83"                # per share, a decimal string (a TOML float is refused)
currency = "USD"

[[merger]]                     # shares and/or cash per target share
id = "TGT-ACQ"
instrument = "TGT"
effective = 2026-12-01
new_instrument = "ACQ"         # omit (and new) for an all-cash merger
new = 1                        # acquirer shares ...
old = 2                        # ... per target shares
cash_per_share = "12.00"       # per target share
cash_in_lieu_price = "70.00"   # optional, the acquirer's price for the left-over fraction

[[symbol_change]]
id = "FB-META"
instrument = "FB"
new_instrument = "META"
effective = 2026-06-09
```
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from execflow.domain.corporate_actions import (
    CashDividend,
    CorporateAction,
    CorporateActionError,
    Merger,
    Split,
    SymbolChange,
)
from execflow.domain.instruments import Instrument

_SPLIT_KINDS = ("split", "reverse_split", "stock_dividend")
_KINDS = (*_SPLIT_KINDS, "cash_dividend", "symbol_change", "merger")


def _get(row: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = row.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise CorporateActionError(f"{where}: '{key}' must be a {kind.__name__}, got {value!r}")
    return value


def _decimal(row: dict[str, Any], key: str, where: str) -> Decimal:
    text = _get(row, key, str, where)  # a TOML float would not be exact: refused
    try:
        return Decimal(text)
    except InvalidOperation:
        raise CorporateActionError(f"{where}: '{key}' = {text!r} is not a number") from None


def parse_corporate_actions(
    data: dict[str, Any], instruments: Callable[[str], Instrument | None]
) -> list[CorporateAction]:
    unknown = set(data) - set(_KINDS)
    if unknown:
        raise CorporateActionError(f"unknown corporate action kinds {sorted(unknown)}")
    out: list[CorporateAction] = []
    seen: set[str] = set()
    for kind in _KINDS:
        for n, row in enumerate(data.get(kind, [])):
            where = f"[[{kind}]] #{n + 1}"
            action_id = _get(row, "id", str, where)
            if action_id in seen:
                raise CorporateActionError(f"{where}: duplicate id {action_id!r}")
            seen.add(action_id)
            symbol = _get(row, "instrument", str, where)
            instrument = instruments(symbol)
            if instrument is None:
                raise CorporateActionError(f"{where}: unknown instrument {symbol!r}")
            if kind in _SPLIT_KINDS:
                lieu = None
                if "cash_in_lieu_price" in row:
                    lieu = int(instrument.price(_decimal(row, "cash_in_lieu_price", where)))
                out.append(
                    Split(
                        action_id,
                        symbol,
                        _get(row, "effective", date, where),
                        _get(row, "new", int, where),
                        _get(row, "old", int, where),
                        lieu,
                        kind,
                    )
                )
            elif kind == "cash_dividend":
                out.append(
                    CashDividend(
                        action_id,
                        symbol,
                        _get(row, "ex_date", date, where),
                        _get(row, "record_date", date, where),
                        _get(row, "pay_date", date, where),
                        _decimal(row, "amount", where),
                        row.get("currency", instrument.currency),
                    )
                )
            elif kind == "merger":
                lieu_px = None
                acquirer = instruments(str(row.get("new_instrument", "")))
                if "cash_in_lieu_price" in row and acquirer is not None:
                    lieu_px = int(acquirer.price(_decimal(row, "cash_in_lieu_price", where)))
                cash = _decimal(row, "cash_per_share", where) if "cash_per_share" in row else None
                out.append(
                    Merger(
                        action_id,
                        symbol,
                        _get(row, "effective", date, where),
                        str(row.get("new_instrument", "")),
                        int(row.get("new", 0)),
                        int(row.get("old", 1)),
                        cash if cash is not None else Decimal(0),
                        str(row.get("currency", "")),
                        lieu_px,
                    )
                )
            else:
                out.append(
                    SymbolChange(
                        action_id,
                        symbol,
                        _get(row, "new_instrument", str, where),
                        _get(row, "effective", date, where),
                    )
                )
    return out


def load_corporate_actions(
    path: str | Path, instruments: Callable[[str], Instrument | None]
) -> list[CorporateAction]:
    with open(path, "rb") as f:
        return parse_corporate_actions(tomllib.load(f), instruments)


def action_dates(action: CorporateAction) -> tuple[date, ...]:
    if isinstance(action, CashDividend):
        return (action.ex_date, action.record_date, action.pay_date)
    return (action.effective,)


def due_on(actions: Iterable[CorporateAction], day: date) -> list[CorporateAction]:
    """The actions with a step on ``day`` (ex/effective, record or pay date)."""
    return [a for a in actions if day in action_dates(a)]
