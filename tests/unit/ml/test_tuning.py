"""Parameter tuning by seeded simulation: reproducible, default included, held-out report."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from execflow.cli.main import app
from execflow.ml.tuning import DEFAULT_CANDIDATE, TuneSpec, candidates, day_seeds, tune

SPEC = TuneSpec(seed=3, trials=3, tune_days=2, test_days=1, duration_s=300, quantity=5_000)


def test_search_space_is_seeded_and_starts_with_the_default() -> None:
    a, b = candidates(SPEC), candidates(SPEC)
    assert a == b and a[0] == DEFAULT_CANDIDATE and len(a) == 3
    assert candidates(TuneSpec(seed=4, trials=3)) != a
    tune_seeds, test_seeds = day_seeds(SPEC)
    assert not set(tune_seeds) & set(test_seeds)  # held-out days are not tuned on


def test_tuning_is_reproducible_and_never_worse_than_default_on_its_days(
    tmp_path: Path,
) -> None:
    r = tune(SPEC)
    objectives = [s.objective for _, s in r.trials]
    best = next(s for c, s in r.trials if c == r.best)
    assert best.objective == min(objectives) <= r.trials[0][1].objective
    d = r.as_dict()
    assert set(d["held_out"]) == {"tuned", "default"}
    assert len(d["held_out"]["tuned"]["costs_bps"]) == SPEC.test_days
    out = tmp_path / "tune.json"
    res = CliRunner().invoke(app, [
        "ml", "tune", "--trials", "3", "--tune-days", "2", "--test-days", "1", "--seed", "3",
        "--duration-s", "300", "--quantity", "5000", "--out", str(out),
    ])  # fmt: skip
    assert res.exit_code == 0, res.output
    again = json.loads(out.read_text())
    assert again["held_out"] == json.loads(json.dumps(d["held_out"]))
    assert again["best"] == d["best"]
