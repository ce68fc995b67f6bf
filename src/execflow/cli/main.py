"""`execflow`: the command line entry point."""

from __future__ import annotations

import typer

from execflow.cli import (
    bench,
    bench_api,
    bench_fix,
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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
