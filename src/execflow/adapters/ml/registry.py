"""Versioned execution models in the data directory, and the promoted ones for the engine.

Layout (``DATA_DIR/models``)::

    <kind>/<version>/model.json   the model: a tree ensemble or a table of volume profiles
    <kind>/<version>/meta.json    what it is: training data hash, features, metrics, date...
    <kind>/PROMOTED               the version the engine loads (one line)

``kind`` is ``fill``, ``slippage`` or ``volume``; versions are ``v1``, ``v2``... in the order
they were registered. Everything is JSON (msgspec), never pickle: a core install (no NumPy, no
scikit-learn) loads and runs a promoted model. Files are written to a temporary name and
renamed, so a reader never sees half a model.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args

import msgspec

from execflow.application.execution_models import ExecutionModels
from execflow.domain.algos.profile import VolumeProfile
from execflow.domain.ml.features import FILL_FEATURES, SLIPPAGE_FEATURES
from execflow.domain.ml.models import LearnedProfiles, TreeFillProbability, TreeSlippage
from execflow.domain.ml.trees import TreeEnsemble

log = logging.getLogger(__name__)

ModelKind = Literal["fill", "slippage", "volume"]
KINDS: tuple[str, ...] = get_args(ModelKind)
MODELS_DIR = "models"
_VERSION = re.compile(r"^v(\d+)$")


class ProfileSpec(msgspec.Struct, frozen=True):
    open_s: int
    close_s: int
    weights: list[float]


class ProfileTable(msgspec.Struct, frozen=True, kw_only=True):
    profiles: dict[str, ProfileSpec]


class ModelMeta(msgspec.Struct, kw_only=True, omit_defaults=True):
    kind: str
    version: str = ""
    created_at: str  # ISO 8601 UTC, when it was trained
    algorithm: str  # e.g. HistGradientBoostingClassifier
    source: str  # the training data: simulated days (seed, days) or a log
    seed: int
    data_hash: str  # sha256 of the training rows (CSV of the frame, in order)
    features: list[str]
    target: str
    train_days: list[str]
    test_days: list[str]
    rows_train: int
    rows_test: int
    metrics: dict[str, float]  # on the held-out days: model and baselines
    baseline: str  # the naive baseline, in one sentence
    params: dict[str, Any] = {}
    horizon_s: float | None = None  # fill: the horizon of the probability
    calibration: list[dict[str, float]] = []  # fill: predicted vs observed per bin
    inference_us: float | None = None  # CPU microseconds per prediction (process time)
    promoted: bool = False  # filled in by list(), not stored


class RegistryError(ValueError):
    pass


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class ModelRegistry:
    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir) / MODELS_DIR

    def _kind_dir(self, kind: str) -> Path:
        if kind not in KINDS:
            raise RegistryError(f"unknown model kind {kind!r} (one of {', '.join(KINDS)})")
        return self.root / kind

    def versions(self, kind: str) -> list[str]:
        d = self._kind_dir(kind)
        if not d.is_dir():
            return []
        found = [(int(m.group(1)), p.name) for p in d.iterdir() if (m := _VERSION.match(p.name))]
        return [name for _, name in sorted(found)]

    def register(self, meta: ModelMeta, model: TreeEnsemble | ProfileTable) -> ModelMeta:
        """Store a new version of ``meta.kind``; returns its metadata with the version."""
        d = self._kind_dir(meta.kind)
        d.mkdir(parents=True, exist_ok=True)
        existing = self.versions(meta.kind)
        n = int(existing[-1][1:]) + 1 if existing else 1
        while True:
            version = f"v{n}"
            try:
                (d / version).mkdir()
                break
            except FileExistsError:  # another trainer took it meanwhile
                n += 1
        meta.version = version
        meta.promoted = False
        _write(d / version / "model.json", msgspec.json.encode(model))
        _write(d / version / "meta.json", msgspec.json.format(msgspec.json.encode(meta)))
        return meta

    def meta(self, kind: str, version: str) -> ModelMeta:
        path = self._kind_dir(kind) / version / "meta.json"
        if not path.is_file():
            raise RegistryError(f"no model {kind} {version} in {self.root}")
        m = msgspec.json.decode(path.read_bytes(), type=ModelMeta)
        m.promoted = self.promoted(kind) == version
        return m

    def list(self, kind: str | None = None) -> list[ModelMeta]:
        kinds = KINDS if kind is None else (kind,)
        return [self.meta(k, v) for k in kinds for v in self.versions(k)]

    def promote(self, kind: str, version: str) -> ModelMeta:
        m = self.meta(kind, version)  # exists
        self.load(kind, version)  # and loads
        _write(self._kind_dir(kind) / "PROMOTED", f"{version}\n".encode())
        m.promoted = True
        return m

    def promoted(self, kind: str) -> str | None:
        path = self._kind_dir(kind) / "PROMOTED"
        if not path.is_file():
            return None
        v = path.read_text().strip()
        return v or None

    def load_raw(self, kind: str, version: str) -> TreeEnsemble | ProfileTable:
        path = self._kind_dir(kind) / version / "model.json"
        if not path.is_file():
            raise RegistryError(f"no model {kind} {version} in {self.root}")
        try:
            if kind == "volume":
                return msgspec.json.decode(path.read_bytes(), type=ProfileTable)
            return msgspec.json.decode(path.read_bytes(), type=TreeEnsemble)
        except msgspec.DecodeError as exc:
            raise RegistryError(f"model {kind} {version} is unreadable: {exc}") from exc

    def load(self, kind: str, version: str) -> TreeFillProbability | TreeSlippage | LearnedProfiles:
        """The port implementation of a stored model (no scikit-learn needed)."""
        raw = self.load_raw(kind, version)
        name = f"{kind}:{version}"
        if isinstance(raw, ProfileTable):
            return LearnedProfiles(profiles_of(raw.profiles), name)
        want = list(FILL_FEATURES if kind == "fill" else SLIPPAGE_FEATURES)
        if raw.features != want:
            raise RegistryError(
                f"model {kind} {version} takes the features {raw.features}, this version of "
                f"execflow computes {want}"
            )
        if kind == "fill":
            meta = self.meta(kind, version)
            return TreeFillProbability(raw, meta.horizon_s or 60.0, name)
        return TreeSlippage(raw, name)


def profiles_of(specs: Mapping[str, ProfileSpec]) -> dict[str, VolumeProfile]:
    return {k: VolumeProfile(s.open_s, s.close_s, tuple(s.weights)) for k, s in specs.items()}


def load_promoted(data_dir: Path) -> ExecutionModels:
    """The promoted model of each kind, the plain default for a kind with none. A promoted
    model that cannot be read is logged and replaced by the default: the engine starts."""
    reg = ModelRegistry(data_dir)
    models = ExecutionModels()
    if not reg.root.is_dir():
        return models
    for kind in KINDS:
        version = reg.promoted(kind)
        if version is None:
            continue
        try:
            m = reg.load(kind, version)
        except (RegistryError, OSError, ValueError) as exc:
            log.warning("event=model_not_loaded kind=%s version=%s error=%r", kind, version, exc)
            continue
        if isinstance(m, TreeFillProbability):
            models.fill = m
        elif isinstance(m, TreeSlippage):
            models.slippage = m
        else:
            models.volume = m
    return models
