"""Events of the scheduled reports that run inside the engine (docs/tca.md, daily report).

Recorded on the stream ``reports-tca`` when the engine's clock passes an exchange's session
close: which session, which instruments, what the report found and where it was written. The
engine folds them on start-up, so after a restart it knows which sessions are done and
produces the ones it missed, never one twice.
"""

from __future__ import annotations

from execflow.domain.events import Event, register_event_types

TCA_REPORT_STREAM = "reports-tca"


class TcaReportProduced(Event, frozen=True, kw_only=True, gc=False, tag="report.tca_daily"):
    """The daily TCA report of one exchange session (``ts``: the engine clock when it ran).

    ``exchange``: the MIC (``""`` for instruments without one: their day ends at UTC
    midnight); ``session_close``: the close (ns, UTC) that triggered it; the report covers the
    orders created in ``(window_start, session_close]`` on ``instruments``. ``orders`` and
    ``fills`` it found; ``total_bps``: the cost of those orders in bps of their paper notional
    (a decimal string, None without orders); ``location``: where the HTML and Parquet are;
    ``error``: why it could not be produced (then nothing was written).
    """

    exchange: str
    session_close: int
    window_start: int
    instruments: tuple[str, ...]
    orders: int = 0
    fills: int = 0
    total_bps: str | None = None
    location: str = ""
    error: str = ""


REPORT_EVENT_TYPES: tuple[type[Event], ...] = (TcaReportProduced,)

register_event_types(*REPORT_EVENT_TYPES)
