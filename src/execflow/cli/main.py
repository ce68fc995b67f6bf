"""`execflow`: the command line entry point."""

from __future__ import annotations

import sys

import typer

from execflow.cli import (
    algo,
    algo_tools,
    audit,
    bench,
    bench_api,
    bench_fix,
    compliance,
    demo,
    events,
    fix,
    fix_serve,
    monitor,
    orders,
    risk,
    serve,
    settlement,
    tca,
)
from execflow.cli.common import EXIT_ERROR, err_console
from execflow.domain.errors import ExecflowError
from execflow.extras import EXTRA_OF, MissingExtraError, missing_extra

app = typer.Typer(
    help="execflow: event-sourced trade execution (orders, venues, settlement, TCA).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(orders.app, name="orders")
app.add_typer(events.app, name="events")
app.command("demo")(demo.demo)
app.add_typer(bench.app, name="bench")
app.add_typer(monitor.app, name="monitor")
app.add_typer(risk.app, name="risk")
app.add_typer(fix.app, name="fix")
fix.app.command("serve")(fix_serve.serve)
app.add_typer(settlement.app, name="settlement")
app.add_typer(tca.app, name="tca")
bench.app.command("fix")(bench_fix.fix)
bench.app.add_typer(bench_api.app)
app.add_typer(serve.app)
app.add_typer(algo.app, name="algo")
algo.app.command()(algo_tools.run)
algo.app.command()(algo_tools.frontier)
algo.app.command()(algo_tools.estimate)
app.add_typer(audit.app, name="audit")
app.add_typer(compliance.app, name="compliance")


def _markdown_help(t: typer.Typer) -> None:
    """Help text is Markdown everywhere: a docstring's wrapped lines join into one paragraph, so
    command summaries read as sentences (not cut where the source line ended)."""
    t.rich_markup_mode = "markdown"
    for group in t.registered_groups:
        if group.typer_instance is not None:
            _markdown_help(group.typer_instance)


_markdown_help(app)


def main() -> None:
    """The console script: the app, with a missing optional extra (what to install) or any
    other error we raise on purpose turned into one sentence and exit code 1, not a trace."""
    try:
        app()
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
