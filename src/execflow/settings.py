"""One settings tree for every entry point: engine and store, API, venues.

Sources, from lowest to highest precedence (docs/configuration.md):

1. the defaults of the fields below;
2. environment variables (``EXECFLOW_*``, the table :data:`ENV_VARS`);
3. a TOML file named with ``--config FILE`` (or ``EXECFLOW_CONFIG``): it is named for this run,
   so it is more specific than the environment the process inherits;
4. command-line options (``--store``, ``--data-dir``, ``--grpc-port``...): the most specific.

The file has one table per section, and one ``[[venues]]`` table per venue::

    [engine]
    store = "sqlite"
    data_dir = "/var/lib/execflow"

    [api]
    grpc_port = 50051

    [[venues]]
    type = "paper"

    [[venues]]
    type = "fix"
    venue_id = "BROKER"
    port = 9880
    sender_comp_id = "EXECFLOW"
    target_comp_id = "BROKER"

``bootstrap.build(settings)`` builds the engine, its stores and these venues.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from execflow.config import ApiSettings, Config
from execflow.settings_env import CONFIG_FILE_ENV, ENV_VARS, describe


class VenueFeeSpec(BaseModel):
    """A venue's own fee schedule: maker and taker rates (negative = rebate; an inverted venue
    pays the taker). Added to the engine's fee schedule as a ``venue`` rule for this venue only
    (docs/routing.md); the smart order router prices its choices with the same rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    basis: Literal["per_share", "bps"] = "per_share"
    maker: Decimal = Decimal(0)
    taker: Decimal = Decimal(0)


class PaperVenueSpec(BaseModel):
    """A paper venue: price-time matching over seeded synthetic markets, one per instrument.

    Several may be declared (each with its own ``venue_id``): the first is the primary market
    whose reference price the others' synthetic flow follows, so their books stay close to one
    another and make one national best bid and offer (docs/routing.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["paper"] = "paper"
    venue_id: str = Field(default="PAPER", min_length=1, max_length=16)
    seed: int | None = None  # None: the engine's ``seed``
    latency_ns: int | None = Field(default=None, ge=0)  # None: the engine's ``venue_latency_ns``
    fees: VenueFeeSpec | None = None  # None: only the engine's fee file prices its fills
    liquidity: float = Field(default=1.0, gt=0, le=100)  # scales order sizes of its market
    tick_multiple: int = Field(default=1, ge=1, le=100)  # its tick: the instrument's times this


class DarkPoolSpec(BaseModel):
    """A dark pool: non-displayed orders that match at the midpoint of the consolidated best
    bid and offer, never below the pool's minimum quantity (docs/routing.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["dark"] = "dark"
    venue_id: str = Field(default="DARK", min_length=1, max_length=16)
    seed: int | None = None
    latency_ns: int | None = Field(default=None, ge=0)
    min_qty_lots: int = Field(default=1, ge=1)  # smallest order and smallest execution, lots
    fees: VenueFeeSpec | None = None
    contra_rate: float = Field(default=0.5, ge=0, le=1000)  # contra orders per second
    mean_contra_lots: float = Field(default=20.0, gt=0)  # their mean size, lots
    firm_up_s: float = Field(default=2.0, gt=0, le=3600)  # conditional orders' firm-up window


class CrossingVenueSpec(BaseModel):
    """An internal crossing network: opposite client orders of the accounts that allow it
    cross at the midpoint of the consolidated NBBO, with a compliance record per cross
    (docs/settlement.md "Cross-trading")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["cross"] = "cross"
    venue_id: str = Field(default="XCROSS", min_length=1, max_length=16)
    accounts: list[str] = Field(min_length=1)  # the accounts that allow cross-trading
    latency_ns: int | None = Field(default=None, ge=0)
    min_qty_lots: int = Field(default=1, ge=1)


class FixVenueSpec(BaseModel):
    """A FIX initiator venue: execflow connects to a counterparty (a broker, an exchange) and
    routes orders to it over one session (docs/fix.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["fix"] = "fix"
    venue_id: str = "FIX"
    host: str = "127.0.0.1"
    port: int = Field(ge=1, le=65535)
    sender_comp_id: str = Field(min_length=1)
    target_comp_id: str = Field(min_length=1)
    begin_string: Literal["FIX.4.4", "FIXT.1.1"] = "FIX.4.4"
    heartbeat_s: int = Field(default=30, ge=1)
    logon_timeout_s: float = Field(default=5.0, gt=0)
    # where the session's sequence numbers and sent messages are kept: the data directory's
    # fix-venues.db (they survive restarts), or memory
    session_store: Literal["sqlite", "memory"] = "sqlite"


class RoutingSettings(BaseModel):
    """The smart order router's policy (orders for venue ``SOR``; docs/routing.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dark_first: bool = True  # ping the dark pools (IOC at mid) before the lit sweep
    max_lit_rounds: int = Field(default=3, ge=1, le=20)
    depth_levels: int = Field(default=5, ge=1, le=50)
    miss_ticks: int = Field(default=1, ge=0, le=100)  # cost of an unfilled unit, in ticks
    latency_per_ms: Decimal = Decimal(0)  # minor units per unit per ms of ack latency
    reject_weight: Decimal = Decimal(0)  # times the miss cost, times the reject rate
    min_dark_fill_bps: int = Field(default=0, ge=0, le=10_000)
    impact_weight: Decimal = Field(default=Decimal(1), ge=0)  # ticks of square-root impact
    brokers: bool = True  # the FIX venues take what the lit sweep cannot cover
    adaptive: bool = False  # learn fill probabilities (Thompson sampling) instead of priors
    seed: int = 0  # the adaptive policy's draws
    min_observations: int = Field(default=5, ge=0)
    floor_bps: int = Field(default=500, ge=0, le=10_000)
    cap_bps: int = Field(default=9_800, ge=0, le=10_000)


VenueSpec = Annotated[
    PaperVenueSpec | DarkPoolSpec | CrossingVenueSpec | FixVenueSpec, Field(discriminator="type")
]


_SOURCES: ContextVar[tuple[Path | None, Mapping[str, str] | None]] = ContextVar(
    "execflow_settings_sources", default=(None, None)
)


class EnvTableSource(PydanticBaseSettingsSource):
    """The ``EXECFLOW_*`` variables of :data:`ENV_VARS`, as a nested mapping."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.environ = environ

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # everything is produced by __call__

    def __call__(self) -> dict[str, Any]:
        out: dict[str, dict[str, Any]] = {}
        for name, (section, key, convert) in ENV_VARS.items():
            raw = self.environ.get(name)
            if raw is None or not raw.strip():
                continue
            out.setdefault(section, {})[key] = convert(raw) if convert else raw
        return out


class Settings(BaseSettings):
    """Everything an execflow process is configured with; load with :meth:`load`."""

    model_config = SettingsConfigDict(extra="forbid", frozen=True)

    engine: Config = Field(default_factory=Config)
    api: ApiSettings = Field(default_factory=ApiSettings)
    venues: tuple[VenueSpec, ...] = (PaperVenueSpec(),)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file, environ = _SOURCES.get()
        sources: list[PydanticBaseSettingsSource] = [init_settings]  # highest first
        if config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        if environ is not None:
            sources.append(EnvTableSource(settings_cls, environ))
        return tuple(sources)

    @classmethod
    def load(
        cls,
        config_file: Path | str | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        engine: Mapping[str, Any] | None = None,
        api: Mapping[str, Any] | None = None,
        venues: Any = None,
    ) -> Settings:
        """Defaults < environment (``environ``, default ``os.environ``) < ``config_file``
        (TOML; default: the file ``EXECFLOW_CONFIG`` names, if any) < the given options.
        Options that are None are not given. Raises ``ValueError`` with one line per problem.
        """
        env = os.environ if environ is None else environ
        if config_file is None and env.get(CONFIG_FILE_ENV, "").strip():
            config_file = env[CONFIG_FILE_ENV].strip()
        path = None if config_file is None else Path(config_file)
        if path is not None and not path.is_file():
            raise ValueError(f"config file {path} not found")
        given: dict[str, Any] = {}
        for section, values in (("engine", engine), ("api", api)):
            clean = {k: v for k, v in (values or {}).items() if v is not None}
            if clean:
                given[section] = clean
        if venues is not None:
            given["venues"] = venues
        with _sources(path, env):
            try:
                return cls(**given)
            except ValidationError as exc:
                raise ValueError(describe(exc, path)) from None


@contextmanager
def _sources(path: Path | None, environ: Mapping[str, str]) -> Iterator[None]:
    token = _SOURCES.set((path, environ))
    try:
        yield
    finally:
        _SOURCES.reset(token)


__all__ = [
    "ENV_VARS",
    "ApiSettings",
    "Config",
    "DarkPoolSpec",
    "FixVenueSpec",
    "PaperVenueSpec",
    "RoutingSettings",
    "Settings",
    "VenueFeeSpec",
    "VenueSpec",
]
