"""Stress revaluation on a hand-computed portfolio, every backend and kernel mode; scenarios:
shipped historical, hypothetical, user-defined files."""

from __future__ import annotations

import importlib.util
from decimal import Decimal
from pathlib import Path

import pytest

from execflow.analytics.risk import scenarios as sc
from execflow.analytics.risk.portfolio import Portfolio, RiskPosition, load_positions
from execflow.analytics.risk.stress import revalue, run_stress
from execflow.domain.errors import InvalidValueError
from execflow.domain.fx import FxTable

np = pytest.importorskip("numpy")
BACKENDS = ["numpy"] + (["jax"] if importlib.util.find_spec("jax") else [])

FX = FxTable("USD", {"EUR": "1.10"})
POSITIONS = [
    RiskPosition("A", "AAPL", "USD", Decimal(100), Decimal(100), sector="Information Technology"),
    RiskPosition("B", "SAP", "EUR", Decimal(-50), Decimal(200), sector="Financials"),
    RiskPosition("C", "BMW", "EUR", Decimal(10), Decimal(50)),
]
USER = sc.Scenario(
    name="mine",
    market=Decimal("-0.10"),
    sectors={"Financials": Decimal("-0.20")},
    instruments={"AAPL": Decimal("-0.30")},
    fx={"EUR": Decimal("0.05")},
)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", ["exposures", "positions"])
def test_hand_computed_revaluation(backend: str, mode: str) -> None:
    # A: 10,000.00 x -30 % = -3,000.00
    # B: -50 x 200 EUR x 1.10 = -11,000.00 USD; (1 - 0.20)(1 + 0.05) - 1 = -16 %: +1,760.00
    # C: 10 x 50 EUR x 1.10 = 550.00 USD; (1 - 0.10)(1.05) - 1 = -5.5 %: -30.25
    pf = Portfolio(POSITIONS, FX)
    price, fxm = sc.shock_matrices([USER], pf)
    firm, by_acct, name = revalue(pf, price, fxm, backend, mode)
    assert name == backend
    assert firm[0] == pytest.approx(-1270.25, abs=1e-9)
    assert list(by_acct[0]) == pytest.approx([-3000.0, 1760.0, -30.25], abs=1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
def test_run_stress_reports_decimals_per_account_and_firm(backend: str) -> None:
    res = run_stress(Portfolio(POSITIONS, FX), [USER, sc.parallel("0.1")], backend)
    mine, up = res.results
    assert mine.pnl == Decimal("-1270.25")
    assert mine.by_account == {
        "A": Decimal("-3000.00"), "B": Decimal("1760.00"), "C": Decimal("-30.25")
    }  # fmt: skip
    # +10 % everywhere: 1,000.00 - 1,100.00 + 55.00
    assert up.pnl == Decimal("-45.00")
    assert res.worst.name == "mine" and res.worst_loss() == Decimal("1270.25")
    assert res.worst_loss("B") == Decimal("1100.00")  # short B when prices rise 10 %
    assert res.worst_loss("nobody") == 0
    assert res.as_dict()["scenarios"][0]["by_account"]["B"] == "1760.00"


def test_shipped_historical_scenarios() -> None:
    hist = {s.name: s for s in sc.historical()}
    assert set(hist) == {"oct-1987", "sep-oct-2008", "mar-2020"}
    assert all(s.kind == "historical" for s in hist.values())
    res = run_stress(Portfolio(POSITIONS[:1], FX), list(hist.values()), "numpy")
    by_name = {r.name: r.pnl for r in res.results}
    # AAPL, Information Technology: -25 %, -30 %, -28 % of 10,000.00
    assert by_name == {
        "oct-1987": Decimal("-2500.00"),
        "sep-oct-2008": Decimal("-3000.00"),
        "mar-2020": Decimal("-2800.00"),
    }


def test_fx_shocks_are_converted_to_the_base_currency() -> None:
    s = sc.Scenario(name="x", fx={"EUR": Decimal("0.05"), "GBP": Decimal("-0.10")})
    assert s.fx_shock("EUR", "USD") == Decimal("0.05")
    assert s.fx_shock("USD", "EUR") == Decimal(1) / Decimal("1.05") - 1
    assert s.fx_shock("GBP", "EUR") == Decimal("0.90") / Decimal("1.05") - 1
    # a EUR-based book: 100 AAPL at 100 USD = 10,000 USD = 9,090.909... EUR; USD falls vs EUR
    pf = Portfolio(POSITIONS[:1], FxTable("EUR", {"USD": "0.909090909090909090909"}))
    res = run_stress(pf, [sc.Scenario(name="usd", fx={"EUR": Decimal("0.25")})], "numpy")
    assert res.base == "EUR" and res.results[0].pnl == Decimal("-1818.18")  # 9,090.91 x -0.2


def test_hypothetical_sigma_and_vol_shocks() -> None:
    pos = [RiskPosition("A", "X", "USD", Decimal(10), Decimal(100), vol=Decimal("0.02"))]
    pf = Portfolio(pos, FX)
    grid = sc.hypothetical_grid(price_moves=("-0.1",), fx_currencies=("EUR",), sigmas=("-3",))
    res = run_stress(pf, [*grid, sc.sigma_move("-3", "2")], "numpy")
    by = {r.name: r.pnl for r in res.results}
    assert by["parallel -0.1"] == Decimal("-100.00")
    assert by["-3 sigma x1"] == Decimal("-60.00")  # -3 x 2 % of 1,000.00
    assert by["-3 sigma x2"] == Decimal("-120.00")  # volatility doubled
    assert by["EUR -0.1"] == Decimal("0.00")  # a USD position does not move with EUR
    assert sc.Scenario(name="z", market=Decimal("-3")).price_shock("X", "", None) == -1


def test_user_scenarios_file_toml_and_json(tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text('[[scenario]]\nname = "crash"\nmarket = -0.15\n[scenario.fx]\nEUR = "-0.05"\n')
    (s,) = sc.load_scenarios(f)
    assert s.kind == "user" and s.market == Decimal("-0.15") and s.fx == {"EUR": Decimal("-0.05")}
    j = tmp_path / "s.json"
    j.write_text('{"scenarios": [{"name": "a", "market": -0.01}, {"name": "b"}]}')
    assert [x.name for x in sc.load_scenarios(j)] == ["a", "b"]
    with pytest.raises(InvalidValueError, match="float"):
        sc.scenarios_from_data([{"name": "f", "market": -0.1}])
    with pytest.raises(InvalidValueError, match="unique"):
        sc.scenarios_from_data([{"name": "a"}, {"name": "a"}])
    with pytest.raises(InvalidValueError, match="-100 %"):
        sc.scenarios_from_data([{"name": "a", "sectors": {"X": "-1.5"}}])
    with pytest.raises(InvalidValueError, match="vol_multiplier"):
        sc.scenarios_from_data([{"name": "a", "vol_multiplier": "0"}])
    with pytest.raises(InvalidValueError, match="correlation"):
        sc.scenarios_from_data([{"name": "a", "correlation_shift": "2"}])
    with pytest.raises(InvalidValueError):
        sc.scenarios_from_data([{"name": "a", "typo": "1"}])


def test_positions_file_csv_and_json(tmp_path: Path) -> None:
    c = tmp_path / "p.csv"
    c.write_text(
        "account,instrument,currency,quantity,price,sector\nA,AAPL,USD,100,100,Tech\n"
        "B,SAP,eur,-50,200,\n"
    )
    ps = load_positions(c)
    assert ps[1].currency == "EUR" and ps[1].quantity == -50 and ps[0].sector == "Tech"
    j = tmp_path / "p.json"
    j.write_text('{"positions": [{"instrument": "X", "quantity": 1.5, "price": "2"}]}')
    (p,) = load_positions(j)
    assert p.account == "-" and p.quantity == Decimal("1.5") and p.multiplier == 1
    bad = tmp_path / "b.csv"
    bad.write_text("instrument,quantity,price\nX,1,0\n")
    with pytest.raises(InvalidValueError, match="price"):
        load_positions(bad)
    bad.write_text("instrument,quantity,price\nX,,1\n")
    with pytest.raises(InvalidValueError, match="quantity"):
        load_positions(bad)


def test_an_instrument_has_one_currency() -> None:
    with pytest.raises(InvalidValueError, match="two currencies"):
        Portfolio(
            [RiskPosition("A", "X", "USD", Decimal(1), Decimal(1)),
             RiskPosition("B", "X", "EUR", Decimal(1), Decimal(1))],
            FX,
        )  # fmt: skip


def test_empty_inputs() -> None:
    res = run_stress(Portfolio([], FX), [USER], "numpy")
    assert res.results[0].pnl == 0 and res.worst_loss() == 0


def test_backend_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    from execflow.analytics.risk.backend import backend_name, revalue_kernel

    monkeypatch.setenv("EXECFLOW_RISK_BACKEND", "numpy")
    assert backend_name() == "numpy"
    with pytest.raises(ValueError):
        backend_name("gpu")
    with pytest.raises(ValueError):
        revalue_kernel("numpy", 1, "other")
