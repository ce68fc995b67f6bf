"""The model registry, the promoted models in the engine, and the fallback without them.

No scikit-learn here: models are built by hand as data (what the registry stores), so these
tests also show that a core install loads and runs a promoted model."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from execflow.adapters.ml.registry import (
    ModelMeta,
    ModelRegistry,
    ProfileSpec,
    ProfileTable,
    RegistryError,
    load_promoted,
)
from execflow.application.execution_models import ExecutionModels, NoProfiles, default_models
from execflow.bootstrap import build_app
from execflow.config import Config
from execflow.domain.algos.profile import DEFAULT_PROFILE
from execflow.domain.ml.defaults import HalfSpreadSlippage, NaiveFillProbability
from execflow.domain.ml.features import (
    FILL_FEATURES,
    SLIPPAGE_FEATURES,
    Book,
    ChildQuery,
    FillQuery,
)
from execflow.domain.ml.models import LearnedProfiles, TreeFillProbability, TreeSlippage
from execflow.domain.ml.trees import Tree, TreeEnsemble

BOOK = Book(bid=10_000, ask=10_002, bid_size=300, ask_size=100, volatility_bps=1.0)


def _stump(
    feature: int, threshold: float, lo: float, hi: float, link: str,
    features: tuple[str, ...] = FILL_FEATURES,
) -> TreeEnsemble:  # fmt: skip
    tree = Tree(feature=[feature, 0, 0], threshold=[threshold, 0.0, 0.0], left=[1, 0, 0],
                right=[2, 0, 0], missing_left=[True, False, False], leaf=[False, True, True],
                value=[0.0, lo, hi])  # fmt: skip
    return TreeEnsemble(features=list(features), baseline=0.0, trees=[tree], link=link)  # type: ignore[arg-type]


def _meta(kind: str, **kw: object) -> ModelMeta:
    return ModelMeta(kind=kind, created_at="2026-12-05T09:00:00+00:00", algorithm="hand",
                     source="test", seed=1, data_hash="0" * 64, features=list(FILL_FEATURES),
                     target="t", train_days=["2026-11-24"], test_days=["2026-11-25"],
                     rows_train=1, rows_test=1, metrics={"brier": 0.1}, baseline="b",
                     **kw)  # type: ignore[arg-type]  # fmt: skip


def test_versions_metadata_and_promotion(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    assert reg.list() == [] and reg.promoted("fill") is None
    a = reg.register(_meta("fill", horizon_s=30.0), _stump(0, 0.5, 2.0, -2.0, "logistic"))
    b = reg.register(_meta("fill", horizon_s=30.0), _stump(0, 1.5, 2.0, -2.0, "logistic"))
    assert (a.version, b.version) == ("v1", "v2")
    reg.promote("fill", "v1")
    listed = reg.list("fill")
    assert [(m.version, m.promoted) for m in listed] == [("v1", True), ("v2", False)]
    assert listed[0].data_hash == "0" * 64 and listed[0].features == list(FILL_FEATURES)
    with pytest.raises(RegistryError, match="no model fill v9"):
        reg.promote("fill", "v9")
    with pytest.raises(RegistryError, match="unknown model kind"):
        reg.list("nope")


def test_promoted_models_answer_through_the_ports(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    reg.register(_meta("fill", horizon_s=30.0), _stump(0, 0.5, 2.0, -2.0, "logistic"))
    reg.register(_meta("slippage"), _stump(0, 2.0, 0.1, 0.7, "identity", SLIPPAGE_FEATURES))
    prof = ProfileSpec(52_200, 55_800, [3.0, 1.0, 1.0, 3.0])
    reg.register(_meta("volume"), ProfileTable(profiles={"AAPL": prof}))
    for k in ("fill", "slippage", "volume"):
        reg.promote(k, "v1")
    m = load_promoted(tmp_path)
    assert m.describe() == {"fill": "fill:v1", "slippage": "slippage:v1", "volume": "volume:v1"}
    assert isinstance(m.fill, TreeFillProbability) and m.fill.horizon_s == 30.0
    at_touch = FillQuery(side=1, price=10_000, quantity=100, tick=1, lot=1, book=BOOK)
    behind = FillQuery(side=1, price=9_998, quantity=100, tick=1, lot=1, book=BOOK)
    assert m.fill.probability(at_touch) == pytest.approx(1 / (1 + 2.718281828459045**-2))
    assert m.fill.probability(behind) < 0.5
    crossing = FillQuery(side=1, price=10_002, quantity=100, tick=1, lot=1, book=BOOK)
    assert m.fill.probability(crossing) == 1.0
    small = ChildQuery(side=1, quantity=50, tick=1, lot=1, book=BOOK)
    half_spread_bps = 2 / 10_001 * 1e4 / 2
    assert isinstance(m.slippage, TreeSlippage)
    assert m.slippage.expected_bps(small) == pytest.approx(half_spread_bps + 0.1)
    assert isinstance(m.volume, LearnedProfiles)
    assert m.volume.profile("AAPL") is not None and m.volume.profile("MSFT") is None


def test_no_registry_means_the_plain_defaults(tmp_path: Path) -> None:
    m = load_promoted(tmp_path / "nothing-here")
    assert m.describe() == default_models().describe() == {
        "fill": "naive", "slippage": "naive", "volume": "default"
    }  # fmt: skip
    assert isinstance(m.fill, NaiveFillProbability)
    assert isinstance(m.slippage, HalfSpreadSlippage)
    assert isinstance(m.volume, NoProfiles)
    at_touch = FillQuery(side=-1, price=10_002, quantity=10, tick=1, lot=1, book=BOOK)
    assert m.fill.probability(at_touch) == 0.5
    two_behind = FillQuery(side=-1, price=10_004, quantity=10, tick=1, lot=1, book=BOOK)
    assert m.fill.probability(two_behind) == 0.125
    inside = FillQuery(side=-1, price=10_001, quantity=10, tick=1, lot=1, book=BOOK)
    assert m.fill.probability(inside) == 0.9
    assert m.slippage.expected_bps(ChildQuery(1, 10, 1, 1, BOOK)) == pytest.approx(
        2 / 10_001 * 1e4 / 2
    )
    empty = Book(bid=None, ask=10_002, bid_size=0, ask_size=5)
    assert m.fill.probability(FillQuery(1, 9_990, 10, 1, 1, empty)) == 1.0
    assert m.slippage.expected_bps(ChildQuery(1, 10, 1, 1, empty)) == 0.0


def test_an_unreadable_promoted_model_falls_back_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    reg = ModelRegistry(tmp_path)
    reg.register(_meta("fill", horizon_s=30.0), _stump(0, 0.5, 2.0, -2.0, "logistic"))
    reg.promote("fill", "v1")
    (tmp_path / "models" / "fill" / "v1" / "model.json").write_text("{not json")
    with caplog.at_level(logging.WARNING):
        m = load_promoted(tmp_path)
    assert isinstance(m.fill, NaiveFillProbability)
    assert "model_not_loaded" in caplog.text


def test_a_model_of_other_features_is_refused(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    reg.register(_meta("slippage"), _stump(0, 2.0, 0.1, 0.7, "identity", FILL_FEATURES))
    with pytest.raises(RegistryError, match="features"):
        reg.promote("slippage", "v1")
    assert reg.promoted("slippage") is None


def test_the_engine_loads_the_promoted_volume_profile(tmp_path: Path) -> None:
    # without a model: the VWAP planner's default U shape
    app = build_app(Config(data_dir=tmp_path, store="memory"), settlement=False)
    try:
        assert app.engine.algos.models.describe()["volume"] == "default"
        assert app.engine.algos.planner.profile("AAPL") is DEFAULT_PROFILE
    finally:
        app.close()
    reg = ModelRegistry(tmp_path)
    prof = ProfileSpec(52_200, 55_800, [3.0, 1.0, 1.0, 3.0])
    reg.register(_meta("volume"), ProfileTable(profiles={"AAPL": prof}))
    reg.promote("volume", "v1")
    app = build_app(Config(data_dir=tmp_path, store="memory"), settlement=False)
    try:
        planner = app.engine.algos.planner
        assert planner.profile("AAPL").weights == (3.0, 1.0, 1.0, 3.0)
        assert planner.profile("MSFT") is DEFAULT_PROFILE  # not learned: the default
    finally:
        app.close()


def test_execution_models_default_parts() -> None:
    m = ExecutionModels(volume=LearnedProfiles({}, "volume:v7"))
    assert m.describe() == {"fill": "naive", "slippage": "naive", "volume": "volume:v7"}
