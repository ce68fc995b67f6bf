"""The environment half of the settings tree (:mod:`execflow.settings`) and the engine section
alone, without pydantic-settings: read-only commands (``execflow orders list|show``) need
only :class:`~execflow.config.Config`, and pydantic-settings costs them ~35 ms CPU of imports
and model building (docs/adr/0011-state-snapshots.md, start-up of the read path)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from execflow.config import Config, env_flag

if TYPE_CHECKING:
    from pydantic import ValidationError


def _upper(value: str) -> str:
    return value.strip().upper()


def _flag(value: str) -> bool:
    return env_flag(value, default=True)


def _on(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


EnvVar = tuple[str, str, Callable[[str], Any] | None]

ENV_VARS: Final[Mapping[str, EnvVar]] = {
    # engine and store
    "EXECFLOW_DATA_DIR": ("engine", "data_dir", None),
    "EXECFLOW_STORE": ("engine", "store", None),
    "EXECFLOW_PG_DSN": ("engine", "pg_dsn", None),
    "EXECFLOW_PG_SCHEMA": ("engine", "pg_schema", None),
    "EXECFLOW_PG_TABLE": ("engine", "pg_table", None),
    "EXECFLOW_SYNC": ("engine", "sqlite_synchronous", _upper),
    "EXECFLOW_SEED": ("engine", "seed", None),
    "EXECFLOW_RISK_CONFIG": ("engine", "risk_config", None),
    "EXECFLOW_FEE_CONFIG": ("engine", "fee_config", None),
    "EXECFLOW_NATS_URL": ("engine", "nats_url", None),
    "EXECFLOW_NATS_STREAM": ("engine", "nats_stream", None),
    "EXECFLOW_LEASE_TTL": ("engine", "lease_ttl_s", None),
    "EXECFLOW_AUDIT_CHECKPOINT_EVERY": ("engine", "audit_checkpoint_every", None),
    "EXECFLOW_COMPLIANCE_CONFIG": ("engine", "compliance_config", None),
    "EXECFLOW_TCA_REPORTS": ("engine", "tca_reports", _on),
    "EXECFLOW_TOXIC_ALERTS": ("engine", "toxic_alerts", _on),
    "EXECFLOW_VENUE_MARKOUTS": ("engine", "venue_markouts", _on),
    "EXECFLOW_SNAPSHOT_EVERY": ("engine", "snapshot_every", None),
    "EXECFLOW_SNAPSHOT_INTERVAL": ("engine", "snapshot_interval_s", None),
    "EXECFLOW_ORDER_RECOVERY": ("engine", "order_recovery", None),
    "EXECFLOW_TAKEOVER_NICE": ("engine", "takeover_nice", None),
    # API server
    "EXECFLOW_API_KEYS_FILE": ("api", "keys_file", None),
    "EXECFLOW_API_KEYS": ("api", "keys_inline", None),
    "EXECFLOW_JWT_SECRET": ("api", "jwt_secret", None),
    "EXECFLOW_JWT_AUDIENCE": ("api", "jwt_audience", None),
    "EXECFLOW_API_RATE": ("api", "rate_per_s", None),
    "EXECFLOW_API_BURST": ("api", "burst", None),
    "EXECFLOW_WS_HEARTBEAT": ("api", "heartbeat_s", None),
    "EXECFLOW_WS_PING": ("api", "ws_ping_interval_s", None),
    "EXECFLOW_WS_PING_TIMEOUT": ("api", "ws_ping_timeout_s", None),
    "EXECFLOW_STREAM_QUEUE": ("api", "stream_queue", None),
    "EXECFLOW_GRPC_PORT": ("api", "grpc_port", None),
    "EXECFLOW_WS_COMPRESSION": ("api", "ws_compression", _flag),
    "EXECFLOW_MAX_BODY": ("api", "max_body_bytes", None),
    "EXECFLOW_WS_MAX_MESSAGE": ("api", "ws_max_message_bytes", None),
    "EXECFLOW_AUTH_FAILURES": ("api", "auth_failures", None),
    "EXECFLOW_AUTH_WINDOW": ("api", "auth_window_s", None),
    "EXECFLOW_ENGINE_TIMEOUT": ("api", "engine_timeout_s", None),
    "EXECFLOW_TCA_MARKET": ("api", "tca_market", None),
    "EXECFLOW_TCA_METRICS": ("api", "tca_metrics", None),
}
"""Environment variable -> (section, field, conversion). An empty variable counts as unset."""

CONFIG_FILE_ENV: Final = "EXECFLOW_CONFIG"


def engine_config(
    config_file: Path | str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    engine: Mapping[str, Any] | None = None,
) -> Config:
    """The ``engine`` section of ``Settings.load(config_file, environ=..., engine=...)``: the
    same sources, precedence, validation and messages. Without a config file (none given, no
    ``EXECFLOW_CONFIG``) only the engine's variables are read and validated, with pydantic
    alone; with one, the whole tree is loaded (the file is checked as a whole)."""
    env = os.environ if environ is None else environ
    if config_file is not None or env.get(CONFIG_FILE_ENV, "").strip():
        from execflow.settings import Settings

        return Settings.load(config_file, environ=env, engine=engine).engine
    from pydantic import BaseModel, ConfigDict, Field, ValidationError

    class _Engine(BaseModel):  # the engine field of Settings
        model_config = ConfigDict(extra="forbid", frozen=True)
        engine: Config = Field(default_factory=Config)

    values: dict[str, Any] = {}
    for name, (section, key, convert) in ENV_VARS.items():
        raw = env.get(name)
        if section == "engine" and raw is not None and raw.strip():
            values[key] = convert(raw) if convert else raw
    values.update({k: v for k, v in (engine or {}).items() if v is not None})
    try:
        return _Engine.model_validate({"engine": values}).engine
    except ValidationError as exc:
        raise ValueError(describe(exc, None)) from None


def describe(exc: ValidationError, path: Path | None) -> str:
    where = f" (config file {path}, environment or options)" if path else ""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        lines.append(f"setting {loc}: {err['msg']}{where}")
    return "; ".join(lines)
