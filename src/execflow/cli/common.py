"""Shared CLI plumbing: options, app construction, formatting, errors -> exit codes."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from execflow.application.ports import EventStore
from execflow.bootstrap import App, CommandClock, OrdersView, build, open_store, read_orders
from execflow.config import Config
from execflow.domain.compliance.events import Origin, origin
from execflow.domain.errors import ExecflowError, LeaseHeldError, LeaseLostError
from execflow.domain.numbers import ratio_to_decimal
from execflow.domain.orders import Order

if TYPE_CHECKING:
    from execflow.settings import Settings

# a terminal gets its own width; piped output (files, CI logs) gets wide tables, not wrapped ones
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", "-d", help="Data directory of the embedded store [env EXECFLOW_DATA_DIR]"
    ),
]
StoreOpt = Annotated[
    str | None,
    typer.Option("--store", help="sqlite (default), postgres or memory [env EXECFLOW_STORE]"),
]

EXIT_REJECTED = 2
EXIT_NOT_FOUND = 3
EXIT_ERROR = 1


def cli_origin(reason: str | None = None) -> Origin:
    """Who runs this command (the OS user), from where (``cli``), why (``--reason``)."""
    import getpass

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid (containers)
        user = f"uid{os.getuid()}"
    return origin(f"os:{user}", "cli", reason)


CONFIG_FILE: Path | None = None
"""The TOML file of ``execflow --config FILE`` (set by the root command), else None: the file
``EXECFLOW_CONFIG`` names, if any."""


def make_settings(
    data_dir: Path | None = None,
    store: str | None = None,
    risk_config: Path | None = None,
    **api: object,
) -> Settings:
    """The settings tree: defaults < environment < ``--config`` file < these options (None:
    not given). Bad settings: one sentence, exit 1."""
    from execflow.settings import Settings

    try:
        return Settings.load(
            CONFIG_FILE,
            engine={"data_dir": data_dir, "store": store, "risk_config": risk_config},
            api=api,
        )
    except ValueError as exc:
        err_console.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_ERROR) from None


def make_config(
    data_dir: Path | None, store: str | None, risk_config: Path | None = None
) -> Config:
    """The engine section alone (settings_env.engine_config: no pydantic-settings unless a
    config file is named). Bad settings: one sentence, exit 1."""
    from execflow.settings_env import engine_config

    try:
        return engine_config(
            CONFIG_FILE,
            engine={"data_dir": data_dir, "store": store, "risk_config": risk_config},
        )
    except ValueError as exc:
        err_console.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_ERROR) from None


def configure_logging() -> None:
    """The engine's structured log lines are for operators (a server's log), not for a person
    at the CLI, who gets a sentence from the command: only errors reach stderr unless
    EXECFLOW_LOG_LEVEL (e.g. INFO, WARNING) asks for more."""
    level = os.environ.get("EXECFLOW_LOG_LEVEL", "ERROR").upper()
    logging.basicConfig(
        level=getattr(logging, level, logging.ERROR), format="%(levelname)s %(name)s %(message)s"
    )


@contextmanager
def open_app(
    data_dir: Path | None,
    store: str | None,
    risk_config: Path | None = None,
    *,
    read_only: bool = False,
    takeover: dict[str, object] | None = None,
) -> Iterator[App]:
    """The engine on the configured log. A writer holds the log's writer lease for the whole
    command (a second writer fails at once: exit 1, one line naming the holder); ``read_only``
    (every read command): the log opened read-only, no lease, no venue, nothing written;
    ``takeover``: a hot standby's held lease and warm snapshots (docs/dr.md)."""
    configure_logging()
    settings = make_settings(data_dir, store, risk_config)
    config = settings.engine
    held = takeover or {}
    try:
        clock = CommandClock()
        app = build(
            settings, read_only=read_only, clock=clock,
            lease=held.get("lease"), snapshots=held.get("snapshots"),  # type: ignore[arg-type]
        )  # fmt: skip
        app.snapshot_on_close = False  # one command: snapshots only every snapshot_every events
        clock.step()  # the command runs now, after the start-up
    except LeaseHeldError as exc:
        err_console.print(f"[red]error:[/] {exc.message}", soft_wrap=True)
        raise typer.Exit(EXIT_ERROR) from None
    except Exception as exc:  # connection refused, unwritable directory, ...
        raise _cannot_open(exc, config.store) from None
    try:
        yield app
    except LeaseLostError as exc:
        err_console.print(f"[red]error:[/] {exc.message}", soft_wrap=True)
        raise typer.Exit(EXIT_ERROR) from None
    finally:
        app.close()


def _cannot_open(exc: Exception, store: str) -> typer.Exit:
    """The log could not be opened: one line (a rule's message as it is, else what the store
    said), exit 1."""
    if isinstance(exc, ExecflowError):
        err_console.print(f"[red]error:[/] {escape(str(exc))}")
    else:
        err_console.print(f"[red]error:[/] cannot open the {store} store: {escape(str(exc))}")
    return typer.Exit(EXIT_ERROR)


def open_view(
    data_dir: Path | None, store: str | None, risk_config: Path | None = None
) -> AbstractContextManager[App]:
    """The read path: the log folded read-only (see :func:`open_app`)."""
    return open_app(data_dir, store, risk_config, read_only=True)


@contextmanager
def open_orders(data_dir: Path | None, store: str | None) -> Iterator[OrdersView]:
    """The orders of the log, read-only, from the engine's snapshot + the tail: no engine, no
    venue, no settlement desk is built, nothing is written (``orders list|show``)."""
    configure_logging()
    config = make_config(data_dir, store)
    try:
        view = read_orders(config)
    except Exception as exc:  # connection refused, unreadable file, ...
        raise _cannot_open(exc, config.store) from None
    with view:
        yield view


@contextmanager
def open_log(data_dir: Path | None, store: str | None) -> Iterator[EventStore]:
    """The raw log, read-only, for commands that read events and need no folded state."""
    config = make_config(data_dir, store)
    try:
        log = open_store(config, read_only=True)
    except Exception as exc:
        err_console.print(f"[red]error:[/] cannot open the {config.store} store: {exc}")
        raise typer.Exit(EXIT_ERROR) from None
    try:
        yield log
    finally:
        log.close()


def fmt_price(app: App | OrdersView, instrument: str, units: int | None) -> str:
    if units is None:
        return ""
    ins = app.instruments.get(instrument)
    return str(ins.price_to_decimal(units)) if ins else str(units)


def fmt_qty(app: App | OrdersView, instrument: str, units: int) -> str:
    ins = app.instruments.get(instrument)
    return str(ins.qty_to_decimal(units)) if ins else str(units)


def fmt_avg(app: App | OrdersView, order: Order) -> str:
    avg = order.avg_px
    if avg is None:
        return ""
    ins = app.instruments.get(order.instrument)
    decimals = ins.price_decimals if ins else 0
    d = ratio_to_decimal(avg, decimals, 4)  # normalised: 190.5, or 1E+2 for 100
    if d.as_tuple().exponent > -decimals:  # type: ignore[operator]
        d = d.quantize(Decimal(1).scaleb(-decimals))  # at least the price's own digits
    return format(d, "f")


def parse_decimal(text: str, what: str) -> Decimal:
    try:
        return Decimal(text)
    except Exception:
        err_console.print(f"[red]error:[/] {what} {text!r} is not a number")
        raise typer.Exit(EXIT_ERROR) from None
