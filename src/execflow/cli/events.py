"""`execflow events tail`: the event log as it is written."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from execflow.adapters.reference import default_instruments
from execflow.application.ports import EventStore
from execflow.cli.common import EXIT_ERROR, DataDir, StoreOpt, console, err_console, open_log
from execflow.cli.format import detail_text, human_fields, parse_tz, write_json_line
from execflow.domain.events import to_builtins
from execflow.domain.instruments import Instrument

app = typer.Typer(help="Read the event log.", no_args_is_help=True)


@app.command()
def tail(
    n: Annotated[int, typer.Option("-n", help="show the last N events")] = 20,
    after: Annotated[int | None, typer.Option("--after", help="start after this position")] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="keep waiting for new events")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
    tz: Annotated[
        str | None, typer.Option("--tz", help="times in this zone (IANA name), default UTC")
    ] = None,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Show the last events of the log (or all after a position), optionally following it.

    Prices and quantities are decimals, sides BUY/SELL, times ISO 8601 (UTC unless --tz)."""
    try:
        zone = parse_tz(tz)
    except ValueError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(EXIT_ERROR) from None
    with open_log(data_dir, store) as log:
        instrument_of = _InstrumentOf(log)
        start = after if after is not None else max(log.last_position() - n, 0)
        while True:
            recs = list(log.read_all(start))
            if as_json:
                for r in recs:
                    line = {"position": r.position, "stream": r.stream_id, "version": r.version}
                    ev = to_builtins(r.event)
                    line.update(human_fields(ev, instrument_of(r.stream_id, ev), zone))
                    write_json_line(line)
            elif recs:
                table = Table()
                for col in ("pos", "stream", "ver", "type", "detail"):
                    table.add_column(col)
                for r in recs:
                    d = to_builtins(r.event)
                    kind = d.pop("type")
                    fields = human_fields(d, instrument_of(r.stream_id, d), zone)
                    detail = detail_text(fields, skip=("cl_ord_id",))
                    table.add_row(str(r.position), r.stream_id, str(r.version), kind, detail)
                console.print(table)
            if recs:
                start = recs[-1].position
            if not follow:
                return
            time.sleep(0.5)


class _InstrumentOf:
    """The instrument an event's numbers are scaled by: its own ``instrument`` field, else the
    one named by the first event of its stream (an order's, an obligation's), looked up once."""

    def __init__(self, log: EventStore) -> None:
        self._log = log
        self._catalog = {str(i.id): i for i in default_instruments()}
        self._by_stream: dict[str, Instrument | None] = {}

    def __call__(self, stream: str, event: dict[str, object]) -> Instrument | None:
        name = event.get("instrument")
        if isinstance(name, str):
            return self._catalog.get(name)
        if stream not in self._by_stream:
            found: Instrument | None = None
            for rec in self._log.read_stream(stream):
                first = to_builtins(rec.event).get("instrument")
                found = self._catalog.get(first) if isinstance(first, str) else None
                break
            self._by_stream[stream] = found
        return self._by_stream[stream]
