"""The venue and routing sections of the settings tree (:mod:`execflow.settings`), apart from
the tree itself: an engine built without a settings file (``bootstrap.build_app``, the
recovery benchmark's start-up) needs these models, not ``pydantic_settings`` and its sources
(~50 ms of imports: docs/adr/0011-state-snapshots.md). :mod:`execflow.settings` re-exports
every name here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from execflow.config import ApiSettings, Config


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


class EngineSettings(Protocol):
    """What ``bootstrap.build`` reads of the settings: :class:`execflow.settings.Settings`,
    or ``bootstrap.build_app``'s plain one for an engine section alone."""

    @property
    def engine(self) -> Config: ...

    @property
    def api(self) -> ApiSettings: ...

    @property
    def venues(self) -> tuple[VenueSpec, ...]: ...

    @property
    def routing(self) -> RoutingSettings: ...
