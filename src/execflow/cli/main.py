"""`execflow`: the command line entry point."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from execflow.cli import common
from execflow.cli.common import EXIT_ERROR, err_console
from execflow.domain.errors import ExecflowError
from execflow.extras import EXTRA_OF, MissingExtraError, missing_extra

GROUPS = (
    "orders", "events", "demo", "bench", "monitor", "risk", "fix", "settlement", "tca",
    "serve", "algo", "blocks", "audit", "compliance", "backup", "venues", "sor", "ml",
)  # fmt: skip
"""The top-level commands, in help order. Each is imported only when it runs (or for help):
``execflow orders list`` does not pay for importing the FIX engine, the benchmarks or the
API server (docs/adr/0011-state-snapshots.md: start-up of the read path)."""


_wired: set[str] = set()


def _root(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="TOML settings file (engine, api, venues); environment variables are "
            "overridden by it and it by command-line options [env EXECFLOW_CONFIG]",
        ),
    ] = None,
) -> None:
    """execflow: event-sourced trade execution (orders, venues, settlement, TCA)."""
    common.CONFIG_FILE = config


def build(only: str | None = None) -> typer.Typer:
    """The command tree; ``only``: just that top-level command (the one being run)."""
    import importlib

    def mod(name: str) -> Any:
        return importlib.import_module(f"execflow.cli.{name}")

    app = typer.Typer(
        help="execflow: event-sourced trade execution (orders, venues, settlement, TCA).",
        no_args_is_help=True,
        pretty_exceptions_show_locals=False,
    )
    app.callback()(_root)  # execflow --config FILE ... (docs/configuration.md)
    for name in GROUPS if only is None else (only,):
        if name == "demo":
            app.command("demo")(mod("demo").demo)
        elif name == "serve":
            app.add_typer(mod("serve").app)
        elif name == "bench":
            bench = mod("bench").app
            if name not in _wired:  # sub-commands from other modules, once per process
                bench.command("fix")(mod("bench_fix").fix)
                bench.add_typer(mod("bench_api").app)
                _wired.add(name)
            app.add_typer(bench, name="bench")
        elif name == "algo":
            algo = mod("algo").app
            if name not in _wired:
                tools = mod("algo_tools")
                algo.command()(tools.run)
                algo.command()(tools.frontier)
                algo.command()(tools.estimate)
                _wired.add(name)
            app.add_typer(algo, name="algo")
        elif name == "fix":
            fix = mod("fix").app
            if name not in _wired:
                fix.command("serve")(mod("fix_serve").serve)
                _wired.add(name)
            app.add_typer(fix, name="fix")
        else:
            app.add_typer(mod(name).app, name=name)
    _markdown_help(app)
    return app


def _markdown_help(t: typer.Typer) -> None:
    """Help text is Markdown everywhere: a docstring's wrapped lines join into one paragraph, so
    command summaries read as sentences (not cut where the source line ended)."""
    t.rich_markup_mode = "markdown"
    for group in t.registered_groups:
        if group.typer_instance is not None:
            _markdown_help(group.typer_instance)


def __getattr__(name: str) -> typer.Typer:
    """``execflow.cli.main.app``: the whole command tree (tests, documentation tools)."""
    if name == "app":
        app = build()
        globals()["app"] = app
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _command() -> str | None:
    """The group being run; None (everything) for help and for the top-level commands ``demo``
    and ``serve`` (a tree of one command would become that command, without its name)."""
    args = sys.argv[1:]
    if args[:1] == ["--config"]:
        args = args[2:]  # execflow --config FILE GROUP ...
    words = [a for a in args if not a.startswith("-")]
    if words and words[0] in GROUPS and words[0] not in ("demo", "serve"):
        return words[0]
    return None


def main() -> None:
    """The console script: the app, with a missing optional extra (what to install) or any
    other error we raise on purpose turned into one sentence and exit code 1, not a trace."""
    try:
        build(_command())()
    except ImportError as exc:
        error = exc if isinstance(exc, MissingExtraError) else None
        name = (exc.name or "").split(".")[0]
        if error is None and name in EXTRA_OF:
            words = [a for a in sys.argv[1:3] if not a.startswith("-")]
            error = missing_extra(exc, " ".join(["execflow", *words]))
        if error is None:
            raise
        err_console.print(f"error: {error}", markup=False, highlight=False)
        sys.exit(EXIT_ERROR)
    except ExecflowError as exc:  # e.g. a bounded wait that ran out: a sentence, not a trace
        err_console.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(EXIT_ERROR)


if __name__ == "__main__":
    main()
