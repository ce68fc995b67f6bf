"""`execflow events tail`: the event log as it is written."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from execflow.cli.common import DataDir, StoreOpt, console, open_log
from execflow.domain.events import to_builtins

app = typer.Typer(help="Read the event log.", no_args_is_help=True)


@app.command()
def tail(
    n: Annotated[int, typer.Option("-n", help="show the last N events")] = 20,
    after: Annotated[int | None, typer.Option("--after", help="start after this position")] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="keep waiting for new events")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Show the last events of the log (or all after a position), optionally following it."""
    import msgspec

    with open_log(data_dir, store) as log:
        start = after if after is not None else max(log.last_position() - n, 0)
        while True:
            recs = list(log.read_all(start))
            if as_json:
                for r in recs:
                    line = {"position": r.position, "stream": r.stream_id, "version": r.version}
                    line.update(to_builtins(r.event))
                    console.print_json(msgspec.json.encode(line).decode())
            elif recs:
                table = Table()
                for col in ("pos", "stream", "ver", "type", "detail"):
                    table.add_column(col)
                for r in recs:
                    d = to_builtins(r.event)
                    kind = d.pop("type")
                    detail = " ".join(f"{k}={v}" for k, v in d.items() if k != "cl_ord_id")
                    table.add_row(str(r.position), r.stream_id, str(r.version), kind, detail)
                console.print(table)
            if recs:
                start = recs[-1].position
            if not follow:
                return
            time.sleep(0.5)
