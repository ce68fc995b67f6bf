"""Polars' memory allocator (jemalloc) for a short analysis process.

By default jemalloc hands freed memory back to the kernel after a few seconds, and the next
big column takes it back one page fault at a time: in ``execflow bench tca`` (10M fills)
those faults were a third of the CPU time (system time), and much of the wall time on a busy
machine. A process that runs one analysis and exits can keep its freed pages for reuse
instead: :func:`keep_freed_memory` asks for that (``dirty_decay_ms:-1,muzzy_decay_ms:-1`` in
``_RJEM_MALLOC_CONF``, read once when Polars loads; Polars puts its own short decays in front
of it -- ``dirty_decay_ms:500,muzzy_decay_ms:1000`` -- and the last setting wins). Not for a
long-running server: its memory would never shrink. A value already in the environment is
left as it is.

Nothing here imports Polars: call it before anything does.
"""

from __future__ import annotations

import os
import sys

ENV = "_RJEM_MALLOC_CONF"
KEEP = "dirty_decay_ms:-1,muzzy_decay_ms:-1"


def keep_freed_memory() -> bool:
    """Ask Polars' allocator to keep freed pages, unless Polars is already loaded (too late)
    or the environment already says something; True when asked."""
    if any(m.startswith(("polars", "_polars")) for m in sys.modules) or ENV in os.environ:
        return False
    os.environ[ENV] = KEEP
    return True


def allocator_conf() -> str | None:
    return os.environ.get(ENV) or None
