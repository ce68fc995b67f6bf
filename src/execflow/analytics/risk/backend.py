"""The numeric backend of the stress and VaR kernels: JAX (jit + vmap) or NumPy.

``EXECFLOW_RISK_BACKEND`` = ``jax`` | ``numpy`` | ``auto`` (default: JAX when importable, else
NumPy). Both are optional (``pip install 'execflow[risk]'``) and imported here, lazily; the
core install never imports this module. JAX runs in float64 (``jax_enable_x64``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from execflow.extras import MissingExtraError

Array = Any  # numpy.ndarray or jax.Array


def numpy() -> Any:
    try:
        import numpy as np
    except ImportError as exc:
        raise MissingExtraError("risk", "the stress and VaR engine", "numpy") from exc
    return np


@lru_cache(maxsize=1)
def _jax() -> Any | None:
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)  # type: ignore[no-untyped-call]
    return jax


def backend_name(prefer: str | None = None) -> str:
    """``jax`` or ``numpy``: what the kernels run on."""
    want = (prefer or os.environ.get("EXECFLOW_RISK_BACKEND", "auto")).lower()
    if want not in ("auto", "jax", "numpy"):
        raise ValueError(f"EXECFLOW_RISK_BACKEND={want!r}: use jax, numpy or auto")
    if want == "numpy":
        numpy()
        return "numpy"
    if _jax() is not None:
        return "jax"
    if want == "jax":
        raise MissingExtraError("risk", "the JAX stress kernel", "jax")
    numpy()
    return "numpy"


RevalueFn = Callable[[Array, Array, Array, Array, Array, Array, Array], tuple[Array, Array]]


@lru_cache(maxsize=8)
def revalue_kernel(name: str, n_accounts: int, mode: str = "exposures") -> RevalueFn:
    """``f(price[S, I], fx[S, C], inst[N], ccy[N], inst_ccy[I], value[N], acct[N])`` ->
    ``(firm_pnl[S], account_pnl[S, A])``: every position's base value revalued under every
    scenario, ``pnl = value * ((1 + dp) * (1 + dfx) - 1)``, summed per account and firm.

    ``mode="exposures"`` (default): positions are linear in their instrument's price and
    currency, so they are first summed into an account x instrument exposure matrix ``W``
    (one scatter-add over N), and each scenario is ``W @ r`` with ``r[i] = (1 + dp_i)(1 +
    dfx_c(i)) - 1`` (vmap over scenarios: a matrix product). ``mode="positions"``: the
    revaluation of each position in each scenario (S x N gathers and a segment sum), the shape
    a non-linear pricer would need."""
    if mode not in ("exposures", "positions"):
        raise ValueError(f"mode {mode!r}: exposures or positions")
    if name == "jax":
        jax = _jax()
        assert jax is not None
        jnp = jax.numpy

        if mode == "exposures":

            def run(
                p: Array, f: Array, inst: Array, ccy: Array, ic: Array, v: Array, acct: Array
            ) -> Any:
                w = jnp.zeros((n_accounts, p.shape[1])).at[acct, inst].add(v)

                def one(ps: Array, fs: Array) -> Array:
                    return w @ ((1.0 + ps) * (1.0 + fs[ic]) - 1.0)

                by_acct = jax.vmap(one)(p, f)
                return by_acct.sum(axis=1), by_acct

        else:

            def run(
                p: Array, f: Array, inst: Array, ccy: Array, ic: Array, v: Array, acct: Array
            ) -> Any:
                def one(ps: Array, fs: Array) -> Array:
                    pnl = v * ((1.0 + ps[inst]) * (1.0 + fs[ccy]) - 1.0)
                    return jax.ops.segment_sum(pnl, acct, num_segments=n_accounts)

                by_acct = jax.vmap(one)(p, f)
                return by_acct.sum(axis=1), by_acct

        jitted = jax.jit(run)

        def call(
            p: Array, f: Array, inst: Array, ccy: Array, ic: Array, v: Array, acct: Array
        ) -> Any:
            firm, by_acct = jitted(p, f, inst, ccy, ic, v, acct)
            return firm.block_until_ready(), by_acct

        return call
    np = numpy()

    def run_np(
        p: Array, f: Array, inst: Array, ccy: Array, ic: Array, v: Array, acct: Array
    ) -> Any:
        if mode == "exposures":
            w = np.zeros((n_accounts, p.shape[1]))
            np.add.at(w, (acct, inst), v)
            by_acct = ((1.0 + p) * (1.0 + f[:, ic]) - 1.0) @ w.T
        else:
            pnl = v * ((1.0 + p[:, inst]) * (1.0 + f[:, ccy]) - 1.0)  # [S, N]
            onehot = np.zeros((len(v), n_accounts))
            onehot[np.arange(len(v)), acct] = 1.0
            by_acct = pnl @ onehot
        return by_acct.sum(axis=1), by_acct

    return run_np


def to_numpy(x: Array) -> Any:
    return numpy().asarray(x)
