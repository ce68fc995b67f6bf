"""The running algorithms: their states, when each wakes next, which instruments they watch.

Also the fold of ``algo-<id>`` events into :class:`AlgoState` (engine recovery, and the
re-fold after a failed commit): the state after a restart is exactly what the events say.
"""

from __future__ import annotations

import heapq

from execflow.domain.algos.events import (
    AlgoAmended,
    AlgoChildSent,
    AlgoDecision,
    AlgoEnded,
    AlgoEvent,
    AlgoPaused,
    AlgoResumed,
    AlgoStarted,
)
from execflow.domain.algos.params import NS, AlgoKind
from execflow.domain.algos.state import AlgoState


def state_of(ev: AlgoStarted) -> AlgoState:
    """A new algorithm's state, as its ``AlgoStarted`` event records it."""
    return AlgoState(
        algo_id=ev.algo_id, account=ev.account, instrument=ev.instrument, side=ev.side,
        params=ev.params, start_at=ev.start_at, end_at=ev.end_at, schedule=ev.schedule,
        arrival_mid=ev.arrival_mid, venue=ev.venue,
    )  # fmt: skip


class AlgoRegistry:
    """States by algo id, a heap of wake times, and per instrument the running algorithms."""

    def __init__(self) -> None:
        self.algos: dict[str, AlgoState] = {}
        self._wakes: list[tuple[int, str]] = []
        self._next: dict[str, int] = {}
        self._last_wake: dict[str, int] = {}
        self._pov: dict[str, list[str]] = {}  # instrument -> running POV algo ids
        self._vwap: dict[str, list[str]] = {}  # instrument -> running VWAP algo ids
        self._watched: dict[str, int] = {}  # instrument -> running algos on it
        self._live: set[str] = set()

    @property
    def due_any(self) -> bool:
        return bool(self._wakes)

    def watches(self, instrument: str) -> bool:
        return instrument in self._watched

    def schedule(self, algo_id: str, t: int) -> None:
        """Wake ``algo_id`` at ``t`` (an earlier wake already planned stands)."""
        cur = self._next.get(algo_id)
        if cur is not None and cur <= t:
            return
        self._next[algo_id] = t
        heapq.heappush(self._wakes, (t, algo_id))

    def pop_due(self, now: int) -> AlgoState | None:
        """The next running algorithm due at ``now``, or None."""
        wakes = self._wakes
        while wakes and wakes[0][0] <= now:
            t, algo_id = heapq.heappop(wakes)
            if self._next.get(algo_id) != t:
                continue  # superseded
            del self._next[algo_id]
            st = self.algos.get(algo_id)
            if st is not None and not st.ended:
                self._last_wake[algo_id] = now
                return st
        return None

    def on_print(self, instrument: str, ts: int, qty: int, price: int, now: int) -> None:
        """A market print: VWAP algorithms add it to their benchmark (the market VWAP over
        their window); POV algorithms count it and trade as the market prints (at most once
        a second)."""
        for algo_id in self._vwap.get(instrument, ()):
            st = self.algos[algo_id]
            if st.start_at <= ts and (st.end_at is None or ts <= st.end_at):
                st.bench_volume += qty
                st.bench_notional += qty * price
        for algo_id in self._pov.get(instrument, ()):
            st = self.algos[algo_id]
            if ts >= st.start_at and not st.paused:
                st.market_volume += qty
                self.schedule(algo_id, max(now, self._last_wake.get(algo_id, 0) + NS))

    def add(self, st: AlgoState) -> None:
        self.algos[st.algo_id] = st
        if st.ended or st.algo_id in self._live:
            return
        self._live.add(st.algo_id)
        self._watched[st.instrument] = self._watched.get(st.instrument, 0) + 1
        if st.kind is AlgoKind.POV:
            self._pov.setdefault(st.instrument, []).append(st.algo_id)
        elif st.kind is AlgoKind.VWAP:
            self._vwap.setdefault(st.instrument, []).append(st.algo_id)

    def forget(self, st: AlgoState) -> None:
        """Stop waking ``st`` (ended, or about to be folded again)."""
        self._next.pop(st.algo_id, None)
        self._last_wake.pop(st.algo_id, None)
        if st.algo_id in self._live:
            self._live.discard(st.algo_id)
            n = self._watched.get(st.instrument, 0) - 1
            if n > 0:
                self._watched[st.instrument] = n
            else:
                self._watched.pop(st.instrument, None)
        for by_instrument in (self._pov, self._vwap):
            ids = by_instrument.get(st.instrument)
            if ids and st.algo_id in ids:
                ids.remove(st.algo_id)

    def remove(self, algo_id: str) -> None:
        st = self.algos.pop(algo_id, None)
        if st is not None:
            self.forget(st)

    def end(self, st: AlgoState) -> None:
        st.ended = True
        self.forget(st)

    def clear(self) -> None:
        for d in (self.algos, self._next, self._last_wake, self._pov, self._vwap, self._watched):
            d.clear()
        self._wakes.clear()
        self._live.clear()

    # -- the fold ------------------------------------------------------------------------------
    def fold(self, ev: AlgoEvent) -> None:
        """Fold one event of an ``algo-`` stream (in log order)."""
        if isinstance(ev, AlgoStarted):
            new = state_of(ev)
            new.decisions = 1  # as when it was recorded
            self.add(new)
            return
        st = self.algos.get(ev.algo_id)
        if st is None:
            return
        st.decisions += 1
        if isinstance(ev, AlgoChildSent):
            st.seq = max(st.seq, ev.seq)
            st.market_volume = max(st.market_volume, ev.market_volume)
        elif isinstance(ev, AlgoDecision):
            st.market_volume = max(st.market_volume, ev.market_volume)
            if ev.bench_volume > st.bench_volume:
                st.bench_volume, st.bench_notional = ev.bench_volume, ev.bench_notional
            if ev.action == "slice":
                st.last_slice = ev.slice
        elif isinstance(ev, AlgoPaused):
            st.paused = True
        elif isinstance(ev, AlgoResumed):
            st.paused = False
            if ev.schedule:
                st.schedule, st.last_slice = ev.schedule, -1
        elif isinstance(ev, AlgoAmended):
            st.params, st.end_at = ev.params, ev.end_at
            if ev.schedule:
                st.schedule, st.last_slice = ev.schedule, -1
        elif isinstance(ev, AlgoEnded):
            if ev.bench_volume > st.bench_volume:
                st.bench_volume, st.bench_notional = ev.bench_volume, ev.bench_notional
            self.end(st)
