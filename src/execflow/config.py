"""Configuration: where data lives and which adapters to use. From arguments or environment.

Environment variables (each overridden by the matching CLI option):

``EXECFLOW_DATA_DIR``   data directory of the embedded default (default ``./execflow-data``)
``EXECFLOW_STORE``      ``sqlite`` (default), ``postgres`` or ``memory``
``EXECFLOW_PG_DSN``     PostgreSQL DSN (default ``host=127.0.0.1 port=5432 dbname=test``)
``EXECFLOW_PG_SCHEMA``  PostgreSQL schema of the event table, created if absent (default
                        ``public``); one schema per deployment or test run keeps logs apart
``EXECFLOW_PG_TABLE``   the event table's name in that schema (default ``execflow_events``)
``EXECFLOW_SYNC``       SQLite synchronous mode: ``FULL`` (default, fsync per commit) or ``NORMAL``
``EXECFLOW_SEED``       seed of the paper venue's synthetic market (default 7)
``EXECFLOW_RISK_CONFIG`` TOML/JSON file of pre-trade limits (default: the built-in default
                        limits of docs/risk.md; a file replaces them all)
``EXECFLOW_FEE_CONFIG`` TOML fee schedule priced onto every fill, or ``default`` for the shipped
                        ``execflow/fees.default.toml`` (default: none, fills carry no fees)
``EXECFLOW_NATS_URL``   publish the committed log to NATS JetStream there (default: off)
``EXECFLOW_NATS_STREAM`` JetStream stream name (default ``EXECFLOW_EVENTS``)
``EXECFLOW_LEASE_TTL``  seconds a PostgreSQL writer lease outlives its last renewal (default 10)
``EXECFLOW_AUDIT_CHECKPOINT_EVERY`` positions between signed audit checkpoints (default 1000)
``EXECFLOW_COMPLIANCE_CONFIG`` surveillance thresholds (TOML/JSON, docs/compliance.md), or
                        ``default``; when set, the writer runs the surveillance rules live
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

StoreKind = Literal["sqlite", "postgres", "memory"]
DEFAULT_PG_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"


@dataclass(frozen=True, slots=True)
class Config:
    data_dir: Path = Path("execflow-data")
    store: StoreKind = "sqlite"
    pg_dsn: str = DEFAULT_PG_DSN
    pg_schema: str = "public"
    pg_table: str = "execflow_events"
    sqlite_synchronous: str = "FULL"
    seed: int = 7
    venue_latency_ns: int = 0
    ack_timeout_ns: int = 5_000_000_000
    risk_config: Path | None = None
    nats_url: str | None = None
    nats_stream: str = "EXECFLOW_EVENTS"
    lease_ttl_s: float = 10.0
    fee_config: Path | None = None  # Path("default"): the shipped schedule
    audit_checkpoint_every: int = 1000  # docs/adr/0010
    compliance_config: Path | None = None  # Path("default"): built-in thresholds
    tca_reports: bool = False  # the daily TCA report at each session close (docs/tca.md)
    snapshot_every: int = 50_000  # events between two state snapshots of a writer (ADR 11)

    @classmethod
    def from_env(cls, **overrides: object) -> Config:
        env = os.environ
        store = env.get("EXECFLOW_STORE", "sqlite")
        if store not in ("sqlite", "postgres", "memory"):
            raise ValueError(f"EXECFLOW_STORE must be sqlite, postgres or memory, not {store!r}")
        cfg = cls(
            data_dir=Path(env.get("EXECFLOW_DATA_DIR", "execflow-data")),
            store=store,  # type: ignore[arg-type]
            pg_dsn=env.get("EXECFLOW_PG_DSN", DEFAULT_PG_DSN),
            pg_schema=env.get("EXECFLOW_PG_SCHEMA") or "public",
            pg_table=env.get("EXECFLOW_PG_TABLE") or "execflow_events",
            sqlite_synchronous=env.get("EXECFLOW_SYNC", "FULL").upper(),
            seed=int(env.get("EXECFLOW_SEED", "7")),
            risk_config=Path(env["EXECFLOW_RISK_CONFIG"])
            if env.get("EXECFLOW_RISK_CONFIG")
            else None,
            nats_url=env.get("EXECFLOW_NATS_URL") or None,
            nats_stream=env.get("EXECFLOW_NATS_STREAM", "EXECFLOW_EVENTS"),
            lease_ttl_s=float(env.get("EXECFLOW_LEASE_TTL", "10")),
            snapshot_every=int(env.get("EXECFLOW_SNAPSHOT_EVERY", "50000")),
            fee_config=Path(env["EXECFLOW_FEE_CONFIG"]) if env.get("EXECFLOW_FEE_CONFIG") else None,
            audit_checkpoint_every=int(env.get("EXECFLOW_AUDIT_CHECKPOINT_EVERY", "1000")),
            compliance_config=Path(env["EXECFLOW_COMPLIANCE_CONFIG"])
            if env.get("EXECFLOW_COMPLIANCE_CONFIG")
            else None,
            tca_reports=env.get("EXECFLOW_TCA_REPORTS", "").lower() in ("1", "true", "yes", "on"),
        )
        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(cfg, **clean)  # type: ignore[arg-type]

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "events.db"
