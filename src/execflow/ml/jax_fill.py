"""A small JAX fill-probability model, compared with the gradient-boosted one (docs/ml.md,
"A JAX model"; issue 26: "a small JAX model where it fits").

Same rows, features, label, time-ordered split and embargo as ``train.train_fill``; two models
trained by full-batch gradient descent with ``jax.grad`` (Adam written out, ``jax.jit``):

* ``logistic``: a logistic regression on the standardised :data:`FILL_FEATURES`;
* ``mlp``: one hidden layer (``hidden`` tanh units) then a logistic output.

Both minimise the mean log loss plus ``l2`` times the squared weights; parameters start from
``jax.random.PRNGKey(seed)``, so a seed gives the same model (CPU, float32). Held-out metrics
as the fill model's (Brier, log loss, AUC, calibration table). A comparison, not a model the
engine loads: the registry stores tree ensembles (no JAX at run time).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from execflow.domain.algos.profile import NS
from execflow.domain.ml.features import FILL_FEATURES
from execflow.ml.dataset import DAY_NS, LogFrames, fill_dataset, time_split
from execflow.ml.train import _brier, calibration


@dataclass(frozen=True, slots=True)
class JaxFit:
    name: str
    metrics: dict[str, float]
    calibration: list[dict[str, float]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    train_cpu_s: float = 0.0
    predict_us: float = 0.0  # CPU per row, batched prediction of the held-out rows


def _init(kind: str, n_in: int, hidden: int, seed: int) -> dict[str, Any]:
    import jax
    import jax.numpy as jnp

    k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
    if kind == "logistic":
        return {"w": jnp.zeros((n_in,)), "b": jnp.zeros(())}
    return {
        "w1": jax.random.normal(k1, (n_in, hidden)) / jnp.sqrt(n_in),
        "b1": jnp.zeros((hidden,)),
        "w2": jax.random.normal(k2, (hidden,)) / jnp.sqrt(hidden),
        "b2": jnp.zeros(()),
    }


def _logit(kind: str, p: dict[str, Any], x: Any) -> Any:
    import jax.numpy as jnp

    if kind == "logistic":
        return x @ p["w"] + p["b"]
    return jnp.tanh(x @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"]


def fit(kind: str, x: Any, y: Any, *, seed: int, hidden: int = 16, steps: int = 800,
        lr: float = 0.03, l2: float = 1e-4) -> tuple[dict[str, Any], float]:  # fmt: skip
    """Parameters after ``steps`` of Adam on the mean log loss; the final training loss."""
    import jax
    import jax.numpy as jnp

    def loss(p: dict[str, Any]) -> Any:
        z = _logit(kind, p, x)
        # -[y log s(z) + (1 - y) log(1 - s(z))], stable
        ll = jnp.mean(jax.nn.softplus(z) - y * z)
        reg = sum(jnp.sum(v**2) for k, v in p.items() if k.startswith("w"))
        return ll + l2 * reg

    b1, b2, eps = 0.9, 0.999, 1e-8

    @jax.jit
    def step(p: Any, m: Any, v: Any, t: Any) -> Any:
        val, g = jax.value_and_grad(loss)(p)
        m = jax.tree_util.tree_map(lambda a, b: b1 * a + (1 - b1) * b, m, g)
        v = jax.tree_util.tree_map(lambda a, b: b2 * a + (1 - b2) * b * b, v, g)
        mh = jax.tree_util.tree_map(lambda a: a / (1 - b1**t), m)
        vh = jax.tree_util.tree_map(lambda a: a / (1 - b2**t), v)
        p = jax.tree_util.tree_map(lambda a, b, c: a - lr * b / (jnp.sqrt(c) + eps), p, mh, vh)
        return p, m, v, val

    p = _init(kind, x.shape[1], hidden, seed)
    m = jax.tree_util.tree_map(jnp.zeros_like, p)
    v = jax.tree_util.tree_map(jnp.zeros_like, p)
    val = jnp.zeros(())
    for t in range(1, steps + 1):
        p, m, v, val = step(p, m, v, jnp.asarray(t, dtype=jnp.float32))
    return p, float(val)


def compare_fill(
    data: LogFrames,
    *,
    seed: int,
    test_days: int,
    horizon_s: float = 60.0,
    hidden: int = 16,
    steps: int = 800,
    period_ns: int = DAY_NS,
) -> list[JaxFit]:
    """The two JAX models on the fill rows of ``data``, evaluated on the held-out days."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    from sklearn.metrics import log_loss, roc_auc_score

    df = fill_dataset(data, horizon_s)
    train, test = time_split(df, test_days, period_ns=period_ns, embargo_ns=int(horizon_s * NS))
    feats = list(FILL_FEATURES)
    x_tr = train.select(feats).to_numpy().astype(np.float64)
    x_te = test.select(feats).to_numpy().astype(np.float64)
    y_tr = train["label"].to_numpy().astype(np.float64)
    y_te = [int(v) for v in test["label"].to_list()]
    mu, sd = x_tr.mean(axis=0), x_tr.std(axis=0)
    sd[sd == 0] = 1.0
    xs_tr = jnp.asarray((x_tr - mu) / sd, dtype=jnp.float32)
    xs_te = jnp.asarray((x_te - mu) / sd, dtype=jnp.float32)
    out = []
    for kind in ("logistic", "mlp"):
        c0 = time.process_time()
        params, train_loss = fit(kind, xs_tr, jnp.asarray(y_tr, dtype=jnp.float32), seed=seed,
                                 hidden=hidden, steps=steps)  # fmt: skip
        train_cpu = time.process_time() - c0
        predict = jax.jit(lambda p, x, kind=kind: jax.nn.sigmoid(_logit(kind, p, x)))
        predict(params, xs_te).block_until_ready()  # compiled
        c0 = time.process_time()
        prob = np.asarray(predict(params, xs_te).block_until_ready(), dtype=np.float64)
        predict_us = (time.process_time() - c0) / max(len(y_te), 1) * 1e6
        p = [min(max(float(v), 1e-7), 1 - 1e-7) for v in prob]
        metrics = {
            "brier": _brier(p, y_te),
            "log_loss": float(log_loss(y_te, p, labels=[0, 1])),
            "auc": float(roc_auc_score(y_te, p)),
            "train_log_loss": train_loss,
        }
        out.append(
            JaxFit(
                "jax " + ("logistic regression" if kind == "logistic" else f"MLP {hidden} tanh"),
                metrics, calibration(p, y_te),
                {"steps": steps, "lr": 0.03, "l2": 1e-4, "hidden": hidden if kind == "mlp" else 0,
                 "seed": seed, "rows_train": len(y_tr), "rows_test": len(y_te)},
                train_cpu, predict_us,
            )
        )  # fmt: skip
    return out
