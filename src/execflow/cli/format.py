"""Output for people and for programs, in one place for every command.

People get decimals at the instrument's (or currency's) scale, sides as BUY/SELL and times as
ISO 8601 in UTC (or ``--tz``); programs get the same values as JSON Lines (``--json``: one
object per line, decimals as strings so no precision is lost). Never the internal integers.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.markup import escape

from execflow.domain.field_kinds import PRICE_FIELDS, QTY_FIELDS
from execflow.domain.instruments import Instrument
from execflow.domain.numbers import currency_decimals, from_scaled

NS = 1_000_000_000

# the two options every command that prints records shares
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON Lines: one object per line")]
TzOpt = Annotated[
    str | None, typer.Option("--tz", help="times in this zone (IANA name), default UTC")
]

# event fields by what they hold (prices, quantities: execflow.domain.field_kinds, shared
# with the API)
MONEY_FIELDS = frozenset({"cash_amount", "amount", "notional", "fees", "commission"})
TIME_FIELDS = frozenset({"ts", "expire_at", "placed_at", "since"})
DURATION_FIELDS = frozenset({"waited_ns", "latency_ns"})


def parse_tz(name: str | None) -> tzinfo:
    """``--tz``: an IANA name (Europe/London) or UTC (the default)."""
    if name is None or name.upper() in ("UTC", "Z"):
        return UTC
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # zoneinfo imports sysconfig: ~20 ms

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        msg = f"unknown time zone {name!r} (use an IANA name, e.g. Europe/London)"
        raise ValueError(msg) from None


def iso_time(ts_ns: int | None, tz: tzinfo = UTC) -> str:
    """Nanoseconds since the epoch as ISO 8601 with microseconds (2026-11-24T14:30:00.000001Z)."""
    if ts_ns is None:
        return ""
    seconds, rem = divmod(ts_ns, NS)
    dt = datetime.fromtimestamp(seconds, UTC).replace(microsecond=rem // 1000).astimezone(tz)
    text = dt.isoformat(timespec="microseconds")
    return text.replace("+00:00", "Z") if tz is UTC else text


def side_name(side: int | str) -> str:
    if isinstance(side, str):
        return side.upper()
    return "BUY" if side > 0 else "SELL"


def decimal_text(value: Decimal) -> str:
    return format(value, "f")


def human_fields(
    data: Mapping[str, Any],
    instrument: Instrument | None,
    tz: tzinfo = UTC,
) -> dict[str, Any]:
    """An event (or any record) as a person reads it: prices and quantities at ``instrument``'s
    scale, money at its currency's, sides BUY/SELL, times ISO 8601. Unknown fields pass."""
    currency = data.get("currency")
    out: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            out[key] = None
        elif key == "side" and isinstance(value, int):
            out[key] = side_name(value)
        elif key in TIME_FIELDS and isinstance(value, int):
            out[key] = iso_time(value, tz)
        elif key in DURATION_FIELDS and isinstance(value, int):
            out[key.removesuffix("_ns") + "_s"] = decimal_text(from_scaled(value, 9))
        elif key in PRICE_FIELDS and isinstance(value, int) and instrument is not None:
            out[key] = decimal_text(instrument.price_to_decimal(value))
        elif key in QTY_FIELDS and isinstance(value, int) and instrument is not None:
            out[key] = decimal_text(instrument.qty_to_decimal(value))
        elif key in MONEY_FIELDS and isinstance(value, int) and isinstance(currency, str):
            out[key] = decimal_text(from_scaled(value, currency_decimals(currency)))
        elif key == "postings" and isinstance(value, list | tuple):
            out[key] = [_posting(p, instrument) for p in value]
        elif key == "fees" and isinstance(value, list | tuple):
            out[key] = [_fee(f) for f in value]
        else:
            out[key] = value
    return out


def _posting(p: Any, instrument: Instrument | None) -> Any:
    """A ledger posting ``[account, asset, amount]``: securities at the quantity scale,
    cash at the currency's."""
    if not (isinstance(p, list | tuple) and len(p) == 3 and isinstance(p[2], int)):
        return p
    account, asset, amount = p
    if isinstance(asset, str) and asset.startswith("SEC:"):
        if instrument is not None and asset == f"SEC:{instrument.id}":
            return [account, asset, decimal_text(instrument.qty_to_decimal(amount))]
        return [account, asset, str(amount)]
    if isinstance(asset, str):
        return [account, asset, decimal_text(from_scaled(amount, currency_decimals(asset)))]
    return p


def _fee(fee: Any) -> Any:
    """A fee ``{name, kind, amount, currency}``: the amount at its currency's scale."""
    if isinstance(fee, Mapping) and isinstance(fee.get("amount"), int):
        currency = fee.get("currency")
        if isinstance(currency, str):
            scaled = from_scaled(fee["amount"], currency_decimals(currency))
            return {**fee, "amount": decimal_text(scaled)}
    return fee


def money_text(minor: int, currency: str) -> str:
    """Minor units of ``currency`` as a decimal string (514377 USD -> 5143.77)."""
    return decimal_text(from_scaled(minor, currency_decimals(currency)))


def detail_text(fields: Mapping[str, Any], skip: tuple[str, ...] = ()) -> str:
    """``key=value`` pairs for a rich table cell (already humanised values; markup escaped)."""
    return escape(
        " ".join(f"{k}={_cell(v)}" for k, v in fields.items() if k not in skip and v is not None)
    )


def _cell(value: Any) -> str:
    """Fees and other small records readably: ``paper_venue 0.02 GBP``, not a dict repr."""
    if isinstance(value, list | tuple) and all(isinstance(v, Mapping) for v in value):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, Mapping) and {"amount", "currency"} <= value.keys():
        return " ".join(str(value[k]) for k in ("name", "amount", "currency") if k in value)
    return str(value)


def write_json_line(obj: Any, out: Callable[[str], Any] | None = None) -> None:
    """One JSON object on one line (JSON Lines), straight to stdout (no colours, no wrap)."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=_default)
    (out or sys.stdout.write)(text + "\n")


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
