"""Algorithm events, on the stream ``algo-<parent id>``: the schedule, every decision with its
reason, progress against the schedule, pause/resume/amend and the end. An algorithm's state
after a restart is the fold of these events plus its parent's and children's order events."""

from __future__ import annotations

from execflow.domain.algos.params import AlgoParams
from execflow.domain.events import Event, register_event_types

ALGO_STREAM_PREFIX = "algo-"


class AlgoEvent(Event, frozen=True, kw_only=True, gc=False):
    algo_id: str  # the parent's client order id


class AlgoStarted(AlgoEvent, frozen=True, kw_only=True, gc=False, tag="algo.started"):
    account: str
    instrument: str
    side: int
    params: AlgoParams
    start_at: int
    end_at: int | None = None
    schedule: tuple[tuple[int, int], ...] = ()  # (slice start ns, cumulative target)
    arrival_mid: int | None = None
    detail: str = ""  # e.g. the IS trajectory's kappa*T
    venue: str | None = None  # the children's venue (None: routed)


class AlgoChildSent(AlgoEvent, frozen=True, kw_only=True, gc=False, tag="algo.child_sent"):
    child_id: str
    seq: int  # 1, 2, ... in sending order (child id = <parent>.<seq>)
    slice: int  # schedule slice (-1: no schedule)
    quantity: int
    price: int | None = None  # None: market order
    style: str  # "passive" (near touch), "cross" (far touch, IOC), "market"
    reason: str
    target: int  # what should be done by the slice's end (POV: by now)
    filled: int
    working: int  # before this child
    market_volume: int = 0  # POV: market volume counted since the start


class AlgoChildCanceled(AlgoEvent, frozen=True, kw_only=True, gc=False, tag="algo.child_canceled"):
    child_id: str
    reason: str


class AlgoDecision(AlgoEvent, frozen=True, kw_only=True, gc=False, tag="algo.decision"):
    """A wake that changed how the algorithm trades, or why it did not: skip, shrink,
    speed_up, wait, limit, would, behind (catch-up), progress at a slice boundary."""

    action: str
    reason: str
    slice: int = -1
    target: int = 0
    filled: int = 0
    working: int = 0
    spread_cbps: int | None = None  # hundredths of a basis point
    market_volume: int = 0
    # VWAP at a slice boundary: the market's prints since the start (the VWAP benchmark)
    bench_volume: int = 0
    bench_notional: int = 0


class AlgoPaused(AlgoEvent, frozen=True, kw_only=True, gc=False, tag="algo.paused"):
    reason: str = "paused on request"


class AlgoResumed(AlgoEvent, frozen=True, kw_only=True, gc=False, tag="algo.resumed"):
    schedule: tuple[tuple[int, int], ...] = ()  # re-planned over what is left


class AlgoAmended(AlgoEvent, frozen=True, kw_only=True, gc=False, tag="algo.amended"):
    params: AlgoParams
    end_at: int | None = None
    schedule: tuple[tuple[int, int], ...] = ()
    changes: str = ""


class AlgoEnded(AlgoEvent, frozen=True, kw_only=True, gc=False, tag="algo.ended"):
    reason: str  # "filled", "end time", "canceled", "parent done"
    filled: int
    quantity: int
    # VWAP: the market's prints over its life (the benchmark of its tracking error)
    bench_volume: int = 0
    bench_notional: int = 0


ALGO_EVENT_TYPES: tuple[type[AlgoEvent], ...] = (
    AlgoStarted,
    AlgoChildSent,
    AlgoChildCanceled,
    AlgoDecision,
    AlgoPaused,
    AlgoResumed,
    AlgoAmended,
    AlgoEnded,
)

register_event_types(*ALGO_EVENT_TYPES)
