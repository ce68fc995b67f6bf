"""`execflow serve --standby`: wait as a hot standby, then hand the held lease to the server."""

from __future__ import annotations

import logging
import signal
import time
from typing import TYPE_CHECKING, Any

import typer

from execflow.cli.common import err_console

if TYPE_CHECKING:
    from execflow.api.context import ApiContext
    from execflow.application.ports import EventStore, RecordedEvent
    from execflow.bootstrap import App
    from execflow.settings import Settings

log = logging.getLogger("execflow.standby")


def stand_by(tree: Settings) -> dict[str, Any] | None:
    """Follow the configured log until its writer lease is ours. None: stopped (SIGTERM/^C)."""
    from execflow.application.order_recovery import parse_policies
    from execflow.dr.standby import open_standby, prewarm

    config = tree.engine
    try:
        parse_policies(config.order_recovery)
        parts = open_standby(config)
    except ValueError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    except Exception as exc:
        err_console.print(f"[red]error:[/] cannot stand by on the {config.store} store: {exc}")
        raise typer.Exit(1) from None
    # the API's read models: restored from their snapshots (ADR 11) and kept folded while
    # waiting, so the takeover's recovery pass reads only the tail after the snapshots
    from execflow.adapters.reference import default_instruments
    from execflow.api.context import restored_read_models
    from execflow.application.instruments import InstrumentCatalog

    catalog = InstrumentCatalog(default_instruments())
    models = restored_read_models(catalog, parts.snapshots.store)

    def follow(store: EventStore) -> None:
        chunk: list[RecordedEvent] = []
        for rec in store.read_all(models.position):
            chunk.append(rec)
            if len(chunk) >= 4096:
                models.fold(chunk)
                chunk = []
        models.fold(chunk)

    parts.standby.followers.append(follow)
    missing = prewarm()
    if missing:
        log.warning("event=standby_prewarm_missing modules=%s", ",".join(missing))
    parts.standby.follow_once()
    holder = parts.standby.lease.holder()
    err_console.print(
        f"standby for {config.pg_schema}.{config.pg_table}: following the log at position "
        f"{parts.standby.status.log_position:,}; writer: "
        f"{holder.describe() if holder is not None else 'none'}",
        soft_wrap=True,
    )

    def stop(_signum: int, _frame: object) -> None:
        parts.standby.stop()

    previous = (signal.signal(signal.SIGTERM, stop), signal.signal(signal.SIGINT, stop))
    try:
        took = parts.standby.wait()
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
    if took is None:
        parts.close()
        err_console.print("standby stopped")
        return None
    from execflow.dr.priority import boost

    previous_nice = boost(config.takeover_nice)  # the takeover's CPU share (docs/dr.md)
    parts.close(keep_lease=True)
    err_console.print(
        f"standby: the writer lease is ours (epoch {took.epoch}); the old writer is fenced; "
        f"recovering from snapshots {took.status.snapshot_positions} + tail to "
        f"{took.status.log_position:,}",
        soft_wrap=True,
    )
    return {
        "lease": took.lease, "snapshots": parts.snapshots, "detected_at": took.detected_at,
        "epoch": took.epoch, "detected_cpu": took.detected_cpu, "warm": models,
        "previous_nice": previous_nice,
    }  # fmt: skip


def apply_recovery_policies(app: App, takeover: dict[str, Any]) -> None:
    """The venues' order-recovery policies after a takeover's recovery, before any command;
    the takeover's CPU priority back to normal a few seconds later."""
    from execflow.dr.priority import restore_later
    from execflow.dr.standby import recover_orders

    restore_later(takeover.get("previous_nice"))
    for ev in recover_orders(app, takeover["epoch"]):
        log.warning(
            "event=order_recovery venue=%s policy=%s open=%d cancels=%d in_flight=%d"
            " resolved_by=%s",
            ev.venue, ev.policy, len(ev.open_orders), len(ev.cancels), len(ev.in_flight),
            ev.resolved_by or "-",
        )  # fmt: skip


def report_takeover(takeover: dict[str, Any], ctx: ApiContext) -> None:
    """Apply the venues' order-recovery policies, then say how long the takeover took."""
    apply_recovery_policies(ctx.app, takeover)
    now = time.monotonic()
    ready = now - float(takeover["detected_at"])
    cpu = time.process_time() - float(takeover["detected_cpu"])
    rec = ctx.app.recovery
    events = rec.events_read if rec is not None else 0
    log.warning(
        "event=standby_serving epoch=%s recovery_s=%.3f recovery_cpu_s=%.3f events_folded=%d"
        " position=%d mono=%.6f",
        takeover["epoch"], ready, cpu, events, ctx.app.engine.position, now,
    )  # fmt: skip
    err_console.print(
        f"standby: serving as the writer (epoch {takeover['epoch']}); recovery and reconcile "
        f"took {ready:.3f} s ({cpu:.3f} s CPU) after the lease, {events:,} events folded",
        soft_wrap=True,
    )
