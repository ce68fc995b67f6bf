"""The venues of the composition root (:mod:`execflow.bootstrap`): the ``[[venues]]`` of the
settings made into adapters (paper venues, dark pools, FIX initiators), each venue's own fee
schedule as fee rules, and the depth source the consolidated book reads a paper venue's book
through (docs/routing.md). Only ``bootstrap`` imports this module."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from execflow.application.instruments import InstrumentCatalog
from execflow.application.ports import Clock, SessionCalendar, VenuePort
from execflow.config import Config

if TYPE_CHECKING:
    from execflow.application.consolidated import ConsolidatedBook
    from execflow.application.routing import FillProbability, SorPolicy
    from execflow.domain.fees import FeeRule, FeeSchedule
    from execflow.fix.venue import FixVenue
    from execflow.settings_specs import (
        CrossingVenueSpec,
        DarkPoolSpec,
        EngineSettings,
        FixVenueSpec,
        PaperVenueSpec,
    )


def make_venues(
    settings: EngineSettings,
    catalog: InstrumentCatalog,
    clock: Clock,
    sessions: SessionCalendar | None,
    closers: list[Callable[[], None]],
    consolidated: ConsolidatedBook | None = None,
) -> list[VenuePort]:
    """The venues ``settings.venues`` declare, in order (the router's first is the default).

    Several paper venues: the first is the primary market; the others' synthetic flow quotes
    around its reference price (docs/routing.md). A dark pool prices its midpoint from the
    consolidated book (``consolidated``; the engine's, wired by :func:`build`)."""
    from execflow.adapters.marketdata.synthetic import SyntheticMarket
    from execflow.adapters.venues.paper import PaperVenue
    from execflow.settings_specs import (
        CrossingVenueSpec,
        DarkPoolSpec,
        FixVenueSpec,
        PaperVenueSpec,
    )

    out: list[VenuePort] = []
    leaders: dict[str, Callable[[], int]] | None = None
    for spec in settings.venues:
        if isinstance(spec, PaperVenueSpec):
            venue = paper_venue(settings.engine, spec, catalog, clock, sessions, follow=leaders)
            if leaders is None and isinstance(venue, PaperVenue):
                leaders = {
                    m.instrument: m.reference_price
                    for m in venue.markets
                    if isinstance(m, SyntheticMarket)
                }
            out.append(venue)
        elif isinstance(spec, DarkPoolSpec):
            out.append(dark_pool(settings.engine, spec, catalog, clock, consolidated))
        elif isinstance(spec, CrossingVenueSpec):
            out.append(crossing_network(settings.engine, spec, catalog, clock, consolidated))
        elif isinstance(spec, FixVenueSpec):
            fix = fix_venue(settings.engine, spec, catalog)
            closers.append(fix.stop)
            out.append(fix)
    ids = [v.venue_id for v in out]
    if len(set(ids)) != len(ids):
        raise ValueError(f"venue ids must differ: {ids}")
    return out


def with_venue_fees(schedule: FeeSchedule, settings: EngineSettings) -> FeeSchedule:
    """The fee file's rules, then each declared venue's own (``[venues.fees]``)."""
    from execflow.domain.fees import FeeSchedule

    extra = venue_fee_rules(settings)
    return FeeSchedule((*schedule.rules, *extra)) if extra else schedule


def venue_fee_rules(settings: EngineSettings) -> list[FeeRule]:
    """The ``fees`` of each declared paper venue and dark pool, as venue rules for it alone."""
    from execflow.domain.fees import FeeRule
    from execflow.settings_specs import DarkPoolSpec, PaperVenueSpec

    rules: list[FeeRule] = []
    for spec in settings.venues:
        if isinstance(spec, PaperVenueSpec | DarkPoolSpec) and spec.fees is not None:
            rules.append(
                FeeRule(
                    name=f"{spec.venue_id.lower()}_venue", kind="venue", basis=spec.fees.basis,
                    maker=spec.fees.maker, taker=spec.fees.taker,
                    venues=frozenset((spec.venue_id,)),
                )
            )  # fmt: skip
    return rules


def dark_pool(
    config: Config,
    spec: DarkPoolSpec,
    catalog: InstrumentCatalog,
    clock: Clock,
    consolidated: ConsolidatedBook | None,
) -> VenuePort:
    """A midpoint dark pool over the consolidated NBBO, with a seeded contra flow."""
    from execflow.adapters.venues.dark import DarkPool

    book = consolidated

    def reference(instrument: str) -> tuple[int | None, int | None]:
        if book is None:
            return None, None
        nbbo = book.nbbo(instrument)
        return nbbo.bid, nbbo.ask

    start = clock.now_ns()
    return DarkPool(
        list(catalog), reference, venue_id=spec.venue_id,
        latency_ns=config.venue_latency_ns if spec.latency_ns is None else spec.latency_ns,
        clock=clock, min_qty_lots=spec.min_qty_lots,
        seed=(config.seed if spec.seed is None else spec.seed) + 7_919,
        contra_rate=spec.contra_rate, mean_contra_lots=spec.mean_contra_lots,
        session=f"{start:x}", firm_up_s=spec.firm_up_s,
    )  # fmt: skip


def crossing_network(
    config: Config,
    spec: CrossingVenueSpec,
    catalog: InstrumentCatalog,
    clock: Clock,
    consolidated: ConsolidatedBook | None,
) -> VenuePort:
    """The internal crossing network over the consolidated NBBO; its compliance records are
    logged (one structured line per cross) and kept on the venue (``crosses``)."""
    import logging

    from execflow.adapters.venues.crossing import CrossingNetwork, CrossRecord

    book = consolidated
    audit = logging.getLogger("execflow.cross")

    def reference(instrument: str) -> tuple[int | None, int | None]:
        if book is None:
            return None, None
        nbbo = book.nbbo(instrument)
        return nbbo.bid, nbbo.ask

    def on_cross(r: CrossRecord) -> None:
        audit.info(
            "event=cross instrument=%s qty=%d px=%d bid=%s ask=%s within_nbbo=%s buy=%s/%s "
            "sell=%s/%s", r.instrument, r.quantity, r.price, r.bid, r.ask, r.within_nbbo,
            r.buy_account, r.buy_cl_ord_id, r.sell_account, r.sell_cl_ord_id,
        )  # fmt: skip

    return CrossingNetwork(
        list(catalog), reference, spec.accounts, venue_id=spec.venue_id, on_cross=on_cross,
        latency_ns=config.venue_latency_ns if spec.latency_ns is None else spec.latency_ns,
        clock=clock, min_qty_lots=spec.min_qty_lots, session=f"{clock.now_ns():x}",
    )  # fmt: skip


def fix_venue(config: Config, spec: FixVenueSpec, catalog: InstrumentCatalog) -> FixVenue:
    """A FIX initiator venue (not yet connected: :func:`_start` logs it on). Its session state
    (sequence numbers, sent messages) is kept in DATA_DIR/fix-venues.db unless in memory."""
    from execflow.fix.application import SessionID
    from execflow.fix.config import SessionConfig
    from execflow.fix.store import MemoryStoreFactory, SqliteStoreFactory
    from execflow.fix.venue import FixVenue

    factory: MemoryStoreFactory | SqliteStoreFactory
    if spec.session_store == "memory" or config.store == "memory":
        factory = MemoryStoreFactory()
    else:
        config.data_dir.mkdir(parents=True, exist_ok=True)
        factory = SqliteStoreFactory(config.data_dir / "fix-venues.db")
    session = SessionConfig(
        SessionID(spec.begin_string, spec.sender_comp_id, spec.target_comp_id),
        initiator=True,
        heartbeat_interval_s=spec.heartbeat_s,
        logon_timeout_s=spec.logon_timeout_s,
    )
    return FixVenue(
        session, spec.host, spec.port, list(catalog), venue_id=spec.venue_id,
        store_factory=factory,
    )  # fmt: skip


class PaperVenueDepth:
    """A paper venue's own books as the consolidated book's depth source."""

    __slots__ = ("venue",)

    def __init__(self, venue: VenuePort) -> None:
        self.venue = venue

    def levels(self, instrument: str, side: int, n: int) -> list[tuple[int, int]]:
        books = getattr(self.venue, "books", {})
        book = books.get(instrument)
        return [] if book is None else list(book.levels(side, n))


def paper_venue(
    config: Config,
    spec: PaperVenueSpec,
    catalog: InstrumentCatalog,
    clock: Clock,
    sessions: SessionCalendar | None = None,
    follow: Mapping[str, Callable[[], int]] | None = None,
) -> VenuePort:
    """A paper venue with a seeded synthetic market per instrument (the embedded default).
    ``spec.tick_multiple`` > 1: the venue's tick is that many of the instrument's ticks."""
    from dataclasses import replace

    from execflow.adapters.venues.paper import PaperVenue

    instruments = list(catalog)
    if spec.tick_multiple > 1:
        instruments = [replace(i, tick_size=i.tick_size * spec.tick_multiple) for i in instruments]
    seed = config.seed if spec.seed is None else spec.seed
    if follow is not None and spec.seed is None:
        seed += 1_000 * (zlib.crc32(spec.venue_id.encode()) % 1_000 + 1)  # a flow of its own
    return PaperVenue.with_synthetic_market(
        instruments,
        seed=seed,
        latency_ns=config.venue_latency_ns if spec.latency_ns is None else spec.latency_ns,
        clock=clock,
        sessions=sessions,
        venue_id=spec.venue_id,
        size_scale=spec.liquidity,
        follow=follow,
    )


def default_paper_venue(
    config: Config,
    catalog: InstrumentCatalog,
    clock: Clock,
    sessions: SessionCalendar | None = None,
) -> VenuePort:
    from execflow.settings_specs import PaperVenueSpec

    return paper_venue(config, PaperVenueSpec(), catalog, clock, sessions)


def routing_policy(settings: EngineSettings) -> tuple[SorPolicy, FillProbability]:
    """The smart order router's policy and fill-probability port from ``[routing]``; the dark
    pools it pings are the declared ``dark`` venues."""
    from fractions import Fraction

    from execflow.application.routing import (
        SorPolicy,
        StaticFillProbability,
        ThompsonFillProbability,
    )
    from execflow.settings_specs import DarkPoolSpec, FixVenueSpec

    r = settings.routing
    brokers = [s.venue_id for s in settings.venues if isinstance(s, FixVenueSpec)]
    dark = {s.venue_id: s.min_qty_lots for s in settings.venues if isinstance(s, DarkPoolSpec)}
    policy = SorPolicy(
        dark_first=r.dark_first, dark_venues=dark, max_lit_rounds=r.max_lit_rounds,
        depth_levels=r.depth_levels, miss_ticks=r.miss_ticks,
        latency_per_ms=Fraction(r.latency_per_ms), reject_weight=Fraction(r.reject_weight),
        min_dark_fill_bps=r.min_dark_fill_bps, impact_weight=Fraction(r.impact_weight),
        brokers=tuple(brokers) if r.brokers else (),
    )  # fmt: skip
    port: FillProbability = StaticFillProbability()
    if r.adaptive:
        port = ThompsonFillProbability(
            port, seed=r.seed, min_observations=r.min_observations, floor_bps=r.floor_bps,
            cap_bps=r.cap_bps,
        )  # fmt: skip
    return policy, port
