"""Stress scenarios: historical (shipped), hypothetical (built from parameters) and
user-defined (a TOML or JSON file), resolved to shock matrices for the kernels.

A scenario is a set of relative shocks: ``market`` (every instrument), ``sectors`` (by the
positions' sector), ``instruments`` (by id; the most specific wins), ``sigma`` (a move of that
many daily standard deviations of each instrument, times ``vol_multiplier``: a volatility
shock) and ``fx`` (each currency's move against USD; converted to the base currency).
``vol_multiplier`` and ``correlation_shift`` also stress the covariance of VaR (``var.py``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import msgspec

from execflow.analytics.risk.backend import Array, numpy
from execflow.analytics.risk.portfolio import Portfolio
from execflow.application.pretrade.config import read_decimal_file
from execflow.domain.errors import InvalidValueError

Kind = Literal["historical", "hypothetical", "user"]


class Scenario(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    name: str
    kind: Kind = "user"
    description: str = ""
    market: Decimal = Decimal(0)
    sectors: dict[str, Decimal] = {}
    instruments: dict[str, Decimal] = {}
    fx: dict[str, Decimal] = {}
    sigma: Decimal | None = None
    vol_multiplier: Decimal = Decimal(1)
    correlation_shift: Decimal = Decimal(0)

    def price_shock(self, instrument: str, sector: str, vol: Decimal | None) -> Decimal:
        s = self.instruments.get(instrument)
        if s is None:
            s = self.sectors.get(sector, self.market) if sector else self.market
        if self.sigma is not None and vol is not None:
            s += self.sigma * vol * self.vol_multiplier
        return max(s, Decimal(-1))  # a price cannot go below zero

    def fx_shock(self, currency: str, base: str) -> Decimal:
        """The currency's relative move against ``base`` (shocks are given against USD)."""
        c = self.fx.get(currency, Decimal(0)) if currency != "USD" else Decimal(0)
        b = self.fx.get(base, Decimal(0)) if base != "USD" else Decimal(0)
        return (1 + c) / (1 + b) - 1


def _check(s: Scenario) -> Scenario:
    numbers = [s.market, s.vol_multiplier, s.correlation_shift]
    numbers += [*s.sectors.values(), *s.instruments.values(), *s.fx.values()]
    if s.sigma is not None:
        numbers.append(s.sigma)
    if not all(d.is_finite() and abs(d) < 1_000_000 for d in numbers):
        raise InvalidValueError(f"scenario {s.name}: every number must be finite and sensible")
    for what, d in (("sectors", s.sectors), ("instruments", s.instruments), ("fx", s.fx)):
        for k, v in d.items():
            if v <= -1:
                raise InvalidValueError(
                    f"scenario {s.name}: {what}[{k}] = {v} is a move of -100 % or worse"
                )
    if s.vol_multiplier <= 0:
        raise InvalidValueError(f"scenario {s.name}: vol_multiplier must be > 0")
    if not -1 <= s.correlation_shift <= 1:
        raise InvalidValueError(f"scenario {s.name}: correlation_shift must be in -1..1")
    return s


def _no_floats(x: Any, where: str) -> None:
    if isinstance(x, float):
        raise InvalidValueError(f"{where}: float {x!r} refused; give a decimal string")
    if isinstance(x, dict):
        for k, v in x.items():
            _no_floats(v, f"{where}.{k}")
    elif isinstance(x, list):
        for v in x:
            _no_floats(v, where)


def scenarios_from_data(data: Any, kind: Kind = "user") -> list[Scenario]:
    items: list[Any] = data
    if isinstance(data, dict):
        items = data.get("scenario") or data.get("scenarios") or []
    _no_floats(items, "scenario")
    out = []
    for raw in items:
        item = {"kind": kind, **raw}
        try:
            out.append(_check(msgspec.convert(item, Scenario, strict=False)))
        except msgspec.ValidationError as exc:
            raise InvalidValueError(f"scenario {raw.get('name', '?')}: {exc}") from None
    names = [s.name for s in out]
    if len(set(names)) != len(names):
        raise InvalidValueError(f"scenario names must be unique: {names}")
    return out


def load_scenarios(path: str | Path) -> list[Scenario]:
    """User-defined scenarios: TOML (``[[scenario]]``) or JSON (a list, or ``{"scenarios":
    [...]}``); numbers as decimals."""
    return scenarios_from_data(read_decimal_file(path), "user")


def historical() -> list[Scenario]:
    """The shipped historical scenarios (Oct 1987, Sep-Oct 2008, Mar 2020)."""
    text = resources.files("execflow.analytics.risk").joinpath("historical.toml").read_text()
    return scenarios_from_data(tomllib.loads(text, parse_float=Decimal), "historical")


def parallel(shock: Decimal | str) -> Scenario:
    d = Decimal(shock)
    return _check(Scenario(name=f"parallel {d:+}", kind="hypothetical", market=d))


def sigma_move(sigmas: Decimal | str, vol_multiplier: Decimal | str = "1") -> Scenario:
    """Each instrument moves ``sigmas`` of its own daily volatility (x ``vol_multiplier``)."""
    s, m = Decimal(sigmas), Decimal(vol_multiplier)
    return _check(
        Scenario(name=f"{s:+} sigma x{m}", kind="hypothetical", sigma=s, vol_multiplier=m)
    )


def fx_move(currency: str, move: Decimal | str) -> Scenario:
    d = Decimal(move)
    return _check(Scenario(name=f"{currency} {d:+}", kind="hypothetical", fx={currency: d}))


def hypothetical_grid(
    price_moves: Iterable[str] = ("-0.3", "-0.2", "-0.1", "-0.05", "0.05", "0.1", "0.2"),
    fx_currencies: Iterable[str] = (),
    fx_moves: Iterable[str] = ("-0.1", "0.1"),
    sigmas: Iterable[str] = ("-3", "-5"),
) -> list[Scenario]:
    out = [parallel(m) for m in price_moves]
    out += [sigma_move(s) for s in sigmas]
    out += [fx_move(c, m) for c in fx_currencies for m in fx_moves]
    return out


def shock_matrices(scenarios: Sequence[Scenario], pf: Portfolio) -> tuple[Array, Array]:
    """``(price[S, I], fx[S, C])`` relative shocks over the portfolio's instruments and
    currencies."""
    np = numpy()
    price = np.empty((len(scenarios), len(pf.instruments)))
    fxm = np.empty((len(scenarios), len(pf.currencies)))
    for s, sc in enumerate(scenarios):
        for i, ins in enumerate(pf.instruments):
            price[s, i] = float(sc.price_shock(ins, pf.sector_of.get(ins, ""), pf.vol_of.get(ins)))
        for c, ccy in enumerate(pf.currencies):
            fxm[s, c] = float(sc.fx_shock(ccy, pf.base))
    return price, fxm
