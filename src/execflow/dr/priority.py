"""CPU priority for a takeover (docs/dr.md, "Takeover time"; ``Config.takeover_nice``).

The benchmark showed where slow takeovers go on a loaded host: waiting for a core, not
working (7.6 s of wall clock for 0.64 s of CPU at load 15-20). A standby that takes the lease
therefore raises its CPU priority for the takeover: the thread that builds the writer is
reniced by ``takeover_nice`` (negative: more CPU share), threads it starts (the engine thread,
the server's) inherit it, and ``restore`` puts every thread of the process back to the
niceness it had, a few seconds after it serves. Linux niceness is per thread; lowering it
needs ``CAP_SYS_NICE`` (root, or the capability given to the service): without it the boost
is refused, logged once, and the takeover goes on at normal priority.
"""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger(__name__)

RESTORE_AFTER_S = 10.0  # serving this long after the takeover: back to normal priority


def boost(delta: int) -> int | None:
    """Renice the calling thread by ``delta`` (< 0: more CPU); its niceness before, or None
    (``delta`` 0 or more, or not permitted)."""
    if delta >= 0 or not hasattr(os, "setpriority"):
        return None
    try:
        before = os.getpriority(os.PRIO_PROCESS, 0)
        os.setpriority(os.PRIO_PROCESS, 0, max(-20, before + delta))
    except OSError as exc:
        log.warning("event=takeover_priority_refused delta=%d error=%s", delta, exc)
        return None
    log.warning("event=takeover_priority nice=%d previous=%d", max(-20, before + delta), before)
    return before


def restore(previous: int) -> int:
    """Every thread of this process back to niceness ``previous``; how many were set."""
    try:
        tids = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        tids = [0]
    done = 0
    for tid in tids:
        try:
            os.setpriority(os.PRIO_PROCESS, tid, previous)
            done += 1
        except OSError:  # a thread that ended meanwhile
            continue
    log.warning("event=takeover_priority_restored nice=%d threads=%d", previous, done)
    return done


def restore_later(previous: int | None, after_s: float = RESTORE_AFTER_S) -> None:
    """:func:`restore` ``after_s`` from now on a daemon timer (nothing when not boosted)."""
    if previous is None:
        return
    t = threading.Timer(after_s, restore, (previous,))
    t.daemon = True
    t.name = "takeover-priority"
    t.start()
