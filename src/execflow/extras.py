"""Optional extras: import them lazily, and say which one to install when one is missing.

A plain ``pip install execflow`` (msgspec, typer, rich, pydantic-settings) runs the CLI, the
engine, the paper venue and the memory/SQLite stores. Everything else is an extra
(``pyproject.toml``)::

    settlement  holidays                       settlement calendars (settlement desk)
    analytics   polars, duckdb, plotly, kaleido reports, TCA, bulk settlement dates, charts
                                               (PNG: kaleido + a system Chrome/Chromium)
    api         fastapi, uvicorn, grpcio, ...  execflow serve, HTTP client of a server
    postgres    psycopg                        the PostgreSQL event store
    nats        nats-py                        the NATS JetStream outbox
    audit       cryptography                   signed audit checkpoints (Ed25519)
    risk        numpy, jax                     stress tests, VaR/ES (execflow risk stress|var)
    ml          scikit-learn, polars, plotly   execflow ml train|evaluate (docs/ml.md)
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from execflow.domain.errors import ExecflowError

# top-level module -> the extra that installs it
EXTRA_OF: dict[str, str] = {
    "holidays": "settlement",
    "polars": "analytics",
    "duckdb": "analytics",
    "fastapi": "api",
    "starlette": "api",
    "uvicorn": "api",
    "httpx": "api",
    "grpc": "api",
    "google": "api",
    "jwt": "api",
    "prometheus_client": "api",
    "websockets": "api",
    "psycopg": "postgres",
    "nats": "nats",
    "cryptography": "audit",
    "numpy": "risk",
    "jax": "risk",
    "xmlschema": "iso20022",
    "sklearn": "ml",
}


class MissingExtraError(ExecflowError, ImportError):
    """A feature needs an optional extra that is not installed."""

    def __init__(self, extra: str, feature: str, module: str) -> None:
        self.extra = extra
        self.feature = feature
        self.module = module
        ExecflowError.__init__(
            self,
            f"{feature} needs the '{extra}' extra ({module} is not installed): "
            f"pip install 'execflow[{extra}]'",
            "MISSING_EXTRA",
        )


def missing_extra(exc: ImportError, feature: str) -> MissingExtraError:
    """Turn an ImportError of an optional dependency into the sentence a user can act on."""
    name = (exc.name or "").split(".")[0]
    return MissingExtraError(EXTRA_OF.get(name, "all"), feature, name or str(exc))


def require(module: str, feature: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise missing_extra(exc, feature) from exc


def available(module: str) -> bool:
    """True when ``module`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False
