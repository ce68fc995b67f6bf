"""The typed sections of the settings tree: :class:`Config` (engine and store) and
:class:`ApiSettings` (the API server). Loaded, with their sources and precedence (defaults,
environment, ``--config`` TOML file, command-line options), by :class:`execflow.settings.Settings`;
the environment variables are listed in docs/configuration.md.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    toxic_alerts: bool = False  # markouts of the fills, ToxicFlowAlert events (docs/ml.md)
    venue_markouts: bool = True  # live markouts per venue (docs/routing.md), on the quote path
    snapshot_every: int = 50_000  # events between two state snapshots of a writer (ADR 11)
    # seconds between two snapshots of a writer whose log moved (0: off), and between two of
    # its paper venues' own snapshots whether it moved or not; keeps a hot standby's takeover
    # short: the paper venue replays the market from its last snapshot (docs/dr.md)
    snapshot_interval_s: float = 0.0
    # what a writer that took over the log does with each venue's open orders (docs/dr.md):
    # "VENUE=leave|cancel_on_disconnect|mass_cancel,...", "*" for every other venue
    order_recovery: str = ""
    # a standby that takes over renices itself by this much for the takeover (negative: more
    # CPU share; 0: off), back ~10 s after it serves; needs CAP_SYS_NICE (docs/dr.md)
    takeover_nice: int = -10

    def __post_init__(self) -> None:
        if self.store not in ("sqlite", "postgres", "memory"):
            raise ValueError(f"store must be sqlite, postgres or memory, not {self.store!r}")
        object.__setattr__(self, "sqlite_synchronous", self.sqlite_synchronous.upper())

    @classmethod
    def from_env(cls, **overrides: object) -> Config:
        """The engine section of :meth:`execflow.settings.Settings.load` (environment and the
        ``EXECFLOW_CONFIG`` file), with ``overrides`` (None: not given) on top."""
        from execflow.settings import Settings

        return Settings.load(engine=overrides).engine

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "events.db"


@dataclass(frozen=True, slots=True)
class ApiSettings:
    keys_file: Path | None = None
    keys_inline: str | None = None
    jwt_secret: str | None = None
    jwt_audience: str | None = None
    rate_per_s: float = 200.0
    burst: float = 400.0
    heartbeat_s: float = 5.0
    # WebSocket protocol pings (uvicorn): a client that has not answered a ping within
    # ws_ping_timeout_s of it is closed (1011)
    ws_ping_interval_s: float = 20.0
    ws_ping_timeout_s: float = 20.0
    stream_queue: int = 10_000
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 50051  # 0: any free port, -1: no gRPC
    access_log: bool = True
    ws_compression: bool = True
    max_body_bytes: int = 1 << 20
    ws_max_message_bytes: int = 1 << 16
    auth_failures: int = 20
    auth_window_s: float = 60.0
    engine_timeout_s: float = 10.0
    # the TCA routes (docs/tca.md): a recorded market file (None: DATA_DIR/market.parquet|csv,
    # if any) and a custom metrics file (None: the built-in and entry-point metrics)
    tca_market: Path | None = None
    tca_metrics: Path | None = None

    @classmethod
    def from_env(cls, **overrides: object) -> ApiSettings:
        """The API section of :meth:`execflow.settings.Settings.load` (environment and the
        ``EXECFLOW_CONFIG`` file), with ``overrides`` (None: not given) on top."""
        from execflow.settings import Settings

        return Settings.load(api=overrides).api


def env_flag(value: str | None, *, default: bool) -> bool:
    """``0``/``false``/``no``/``off`` (any case) is False, any other value True, unset default."""
    if value is None or not value.strip():
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")
