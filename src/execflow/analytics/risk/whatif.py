"""Sensitivities for the pre-trade what-if check (``application.pretrade.whatif``): per
instrument the book knows, its relative move under each scenario (price and currency) and its
base value per quantity unit at the current mark."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from execflow.analytics.risk.portfolio import Portfolio, RiskPosition
from execflow.analytics.risk.scenarios import Scenario, shock_matrices
from execflow.application.pretrade.book import RiskBook
from execflow.domain.fx import FxTable


def sensitivities(
    book: RiskBook,
    fx: FxTable,
    scenarios: Sequence[Scenario],
    sectors: Mapping[str, str] | None = None,
) -> tuple[list[str], dict[str, list[float]], dict[str, float]]:
    """(scenario names, moves per instrument, base value per quantity unit). Instruments
    without a mark or without an FX rate are left out (the check does not value them)."""
    rows, unit = unit_values(book, fx, sectors)
    return moves_of(rows, unit, fx, scenarios)


def unit_values(
    book: RiskBook, fx: FxTable, sectors: Mapping[str, str] | None = None
) -> tuple[list[RiskPosition], dict[str, float]]:
    """The book's side of :func:`sensitivities` (engine thread; O(instruments)): one unit
    position per valued instrument at its mark, and its base value per quantity unit."""
    rows: list[RiskPosition] = []
    unit: dict[str, float] = {}
    for ist in book.insts.values():
        ins = ist.instrument
        px = ist.mark(book.market)
        if px is None or not fx.has(ins.currency):
            continue
        price = Decimal(px).scaleb(-ins.price_decimals)
        rows.append(
            RiskPosition("-", str(ins.id), ins.currency, Decimal(1), price,
                         Decimal(ins.multiplier), (sectors or {}).get(str(ins.id), ""))
        )  # fmt: skip
        per_unit = price * ins.multiplier * fx.rate(ins.currency)
        unit[str(ins.id)] = float(per_unit.scaleb(-ins.qty_decimals))
    return rows, unit


def moves_of(
    rows: Sequence[RiskPosition],
    unit: dict[str, float],
    fx: FxTable,
    scenarios: Sequence[Scenario],
) -> tuple[list[str], dict[str, list[float]], dict[str, float]]:
    """The scenarios' side of :func:`sensitivities` (any thread): each instrument's relative
    move (price and currency) under each scenario."""
    if not rows:
        return [s.name for s in scenarios], {}, {}
    pf = Portfolio(rows, fx)
    price_m, fx_m = shock_matrices(scenarios, pf)
    rel = (1.0 + price_m) * (1.0 + fx_m[:, pf.inst_ccy]) - 1.0  # [S, I]
    moves = {ins: [float(x) for x in rel[:, i]] for i, ins in enumerate(pf.instruments)}
    return [s.name for s in scenarios], moves, unit
