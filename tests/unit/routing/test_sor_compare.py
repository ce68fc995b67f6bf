"""`execflow sor compare` on a small seeded run: every strategy sends the same orders."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from execflow.cli.main import app as cli_app
from execflow.sim.sor_compare import CompareConfig, order_plan, run_strategy


def test_the_strategies_see_the_same_orders_and_route_as_they_say() -> None:
    cfg = CompareConfig(orders=3, seed=11, spacing_ns=10**9, warmup_ns=10**9)
    assert order_plan(cfg) == order_plan(cfg)
    ordered = sum(q for _, q in order_plan(cfg))
    single = run_strategy("single", cfg)
    split = run_strategy("split", cfg)
    sor = run_strategy("sor", cfg)
    for r in (single, split, sor):
        assert r.orders == 3 and r.ordered == ordered
        assert 0 < r.filled <= ordered
    assert set(single.venues) == {"LITA"}
    assert set(split.venues) == {"LITA", "LITB", "LITC"}
    assert sor.dark == sor.venues.get("DARK", 0)
    row = sor.row()
    assert row["strategy"] == "sor" and row["cost_bps"] is not None
    assert run_strategy("sor", cfg).row() == row  # seeded, simulated clock: the same numbers


def test_the_command_prints_writes_json_and_draws(tmp_path: Path) -> None:
    out, svg = tmp_path / "cmp.json", tmp_path / "cmp.svg"
    r = CliRunner().invoke(
        cli_app,
        ["sor", "compare", "--orders", "2", "--seed", "3", "--json", str(out), "--svg", str(svg)],
        env={"COLUMNS": "200"},
    )
    assert r.exit_code == 0, r.output
    assert "sor" in r.output and "single" in r.output and "split" in r.output
    facts = json.loads(out.read_text())
    assert [row["strategy"] for row in facts["rows"]] == ["sor", "single", "split"]
    assert facts["cpu_s"] > 0
    assert svg.read_text().startswith("<svg") and "<rect" in svg.read_text()
