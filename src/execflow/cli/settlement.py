"""`execflow settlement ...`: obligations, cash projection, reports, the simulated custodian."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from execflow.application.settlement.service import SettlementService
from execflow.bootstrap import App
from execflow.cli import remote as remote_cli
from execflow.cli.common import (
    EXIT_ERROR,
    EXIT_NOT_FOUND,
    DataDir,
    StoreOpt,
    console,
    err_console,
    open_app,
)
from execflow.cli.format import JsonOpt, write_json_line
from execflow.cli.remote import UrlOpt, remote_for
from execflow.domain.enums import Side
from execflow.domain.numbers import Money
from execflow.domain.settlement.obligations import SettlementObligation, SettlementStatus
from execflow.extras import MissingExtraError

app = typer.Typer(help="Settlement: obligations, cash projection, reports.", no_args_is_help=True)

DateOpt = Annotated[str | None, typer.Option(help="YYYY-MM-DD")]


def _date(text: str | None, what: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        err_console.print(f"[red]error:[/] {what} {text!r} is not a date (YYYY-MM-DD)")
        raise typer.Exit(EXIT_ERROR) from None


@contextmanager
def open_desk(
    data_dir: Path | None, store: str | None, *, read_only: bool = True
) -> Iterator[tuple[App, SettlementService]]:
    """The settlement desk on the log: read-only (status, cash, report) unless told otherwise."""
    with open_app(data_dir, store, read_only=read_only) as a:
        if a.settlement is None:  # the calendars are an extra
            raise MissingExtraError("settlement", "execflow settlement", "holidays")
        yield a, a.settlement.service


def _money(amount: int, currency: str) -> str:
    return f"{Money(amount, currency).to_decimal():,} {currency}"


def _obligation_table(obs: list[SettlementObligation], title: str) -> Table:
    t = Table(title=title)
    for col in ("obligation", "account", "instrument", "side", "qty", "cash", "trade date",
                "settle date", "status", "settled", "fail reason"):  # fmt: skip
        t.add_column(col, justify="right" if col in ("qty", "cash", "settled") else "left")
    for ob in obs:
        t.add_row(
            ob.obligation_id, ob.account, ob.instrument, Side(ob.side).name, str(ob.quantity),
            _money(ob.cash_amount, ob.currency), str(ob.trade_date), str(ob.intended_settle_date),
            ob.status, str(ob.settled_quantity), ob.fail_reason,
        )  # fmt: skip
    return t


@app.command()
def status(
    account: Annotated[str | None, typer.Option("--account", "-a")] = None,
    cl_ord_id: Annotated[str | None, typer.Option("--cl-ord-id", help="trade (order) id")] = None,
    trade_date: DateOpt = None,
    settle_date: DateOpt = None,
    state: Annotated[str | None, typer.Option("--status", help="e.g. PENDING, FAILED")] = None,
    limit: Annotated[int, typer.Option()] = 50,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Settlement status by trade, account, trade date or settlement date."""
    td, sd = _date(trade_date, "trade date"), _date(settle_date, "settle date")
    try:
        st = SettlementStatus(state.upper()) if state else None
    except ValueError:
        err_console.print(f"[red]error:[/] unknown status {state!r}")
        raise typer.Exit(EXIT_ERROR) from None
    with open_desk(data_dir, store) as (_a, svc):
        obs = [
            ob
            for ob in svc.obligations(st, account)
            if (cl_ord_id is None or ob.cl_ord_id == cl_ord_id)
            and (td is None or ob.trade_date == td)
            and (sd is None or ob.intended_settle_date == sd)
        ]
        if cl_ord_id is not None and not obs:
            err_console.print(f"[red]error:[/] no settlement obligation for {cl_ord_id!r}")
            raise typer.Exit(EXIT_NOT_FOUND)
        obs.sort(key=lambda o: (o.intended_settle_date, o.obligation_id))
        counts: dict[str, int] = {}
        for ob in obs:
            counts[ob.status] = counts.get(ob.status, 0) + 1
        console.print(_obligation_table(obs[:limit], f"obligations ({len(obs)})"))
        console.print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "none")


@app.command()
def cash(
    account: Annotated[str, typer.Option("--account", "-a")] = "DEFAULT",
    currency: Annotated[str, typer.Option("--currency", "-c")] = "USD",
    start: DateOpt = None,
    days: Annotated[int, typer.Option(help="projection horizon in days")] = 10,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Settled cash projected by value date from open obligations."""
    with open_desk(data_dir, store) as (a, svc):
        first = _date(start, "start") or svc.calendar.trade_date(a.clock.now_ns(), "US")
        rows = svc.cash_projection(account, currency.upper(), first, first + timedelta(days=days))
        t = Table(title=f"cash projection {account} {currency.upper()}")
        for col in ("value date", "flow", "balance"):
            t.add_column(col, justify="left" if col == "value date" else "right")
        for r in rows:
            t.add_row(str(r.value_date), f"{r.flow.to_decimal():,}", f"{r.balance.to_decimal():,}")
        console.print(t)


@app.command()
def report(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="write .csv, .parquet or .html")
    ] = None,
    fails: Annotated[bool, typer.Option("--fails", help="only failed, with ageing")] = False,
    as_of: DateOpt = None,
    as_json: JsonOpt = False,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """The settlement report (every obligation) or the fail report, as a table and a file.

    Quantities, prices and cash are decimals, sides BUY/SELL, dates ISO 8601; --json: one
    obligation per line with every column; the --out file has every column the same way
    (decimal and date columns in Parquet)."""
    from execflow.analytics.settlement_report import (
        fail_report,
        readable_frame,
        readable_rows,
        settlement_report,
        write_report,
    )

    with open_desk(data_dir, store) as (a, svc):
        obs = svc.obligations()
        if fails:
            day = _date(as_of, "as of") or svc.calendar.trade_date(a.clock.now_ns(), "US")
            df = fail_report(obs, day, svc.calendar.is_business_day)
        else:
            df = settlement_report(obs)
        rows = readable_rows(df, a.instruments.get)
        if as_json:
            for row in rows:
                write_json_line(row)
        else:
            t = Table(title=f"{'fail' if fails else 'settlement'} report ({df.height} rows)")
            cols = [c for c in (FAIL_COLUMNS if fails else REPORT_COLUMNS) if c in df.columns]
            for c in cols:
                t.add_column(REPORT_HEADERS.get(c, c), justify="right" if c in _RIGHT else "left")
            for row in rows[:50]:
                t.add_row(*(_cell(c, row) for c in cols))
            console.print(t)
        if out is not None:
            try:
                write_report(readable_frame(df, a.instruments.get), out)
            except ValueError as exc:
                err_console.print(f"[red]error:[/] {exc}")
                raise typer.Exit(EXIT_ERROR) from None
            if not as_json:
                console.print(f"wrote {out}")


# what a person reads in the tables, in this order (the --json lines carry every column)
REPORT_COLUMNS = (
    "obligation_id", "account", "instrument", "side", "quantity", "price", "cash_amount",
    "trade_date", "settle_date", "status",
)  # fmt: skip
FAIL_COLUMNS = (
    "obligation_id", "account", "instrument", "side", "remaining_quantity", "remaining_cash",
    "settle_date", "fail_reason", "age_days", "age_bucket", "next_attempt",
)  # fmt: skip
REPORT_HEADERS = {"cash_amount": "cash", "remaining_quantity": "remaining qty",
                  "remaining_cash": "remaining cash", "age_days": "age"}  # fmt: skip
_RIGHT = {"quantity", "price", "cash_amount", "remaining_quantity", "remaining_cash", "age_days"}
_CASH = ("cash_amount", "settled_cash", "remaining_cash")


def _cell(col: str, row: dict[str, Any]) -> str:
    value = row.get(col)
    if value is None:
        return ""
    if col in _CASH:
        return f"{Decimal(value):,} {row['currency']}"
    return str(value)


@app.command()
def run(
    until: DateOpt = None,
    fail_rate: Annotated[
        float, typer.Option(help="probability a settlement attempt fails")
    ] = 0.0005,
    seed: Annotated[int, typer.Option()] = 7,
    data_dir: DataDir = None,
    store: StoreOpt = None,
    url: UrlOpt = None,
) -> None:
    """Run the simulated custodian day by day through UNTIL (default: a week from today):
    match, affirm, settle or fail (and retry) every due obligation; events go to the log."""
    from execflow.adapters.settlement_agent import SimulatedSettlementAgent

    remote = remote_for(data_dir, store, url)
    if remote is not None:
        with remote:
            body = {"until": str(_date(until, "until")) if until else None,
                    "fail_rate": fail_rate, "seed": seed}  # fmt: skip
            out = remote_cli.admin(remote, "POST", "/v1/admin/settlement/run", body)
            if out["end"] is None:
                console.print("no obligations")
                return
            console.print(
                f"custodian ran {out['start']} .. {out['end']}: {out['events']} events; "
                + " ".join(f"{k}={v}" for k, v in sorted(out["counts"].items()))
            )
            return
    with open_desk(data_dir, store, read_only=False) as (a, svc):
        obs = svc.obligations()
        if not obs:
            console.print("no obligations")
            return
        start = min(ob.trade_date for ob in obs)
        end = _date(until, "until") or start + timedelta(days=7)
        agent = SimulatedSettlementAgent(svc, fail_rate=fail_rate, seed=seed)
        events = agent.run_until(start, end)
        a.engine.run_until_idle()
        after = svc.obligations()
        counts: dict[str, int] = {}
        for ob in after:
            counts[ob.status] = counts.get(ob.status, 0) + 1
        console.print(
            f"custodian ran {start} .. {end}: {len(events)} events; "
            + " ".join(f"{k}={v}" for k, v in sorted(counts.items()))
        )


@app.command()
def netting(
    as_json: JsonOpt = False,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Open obligations netted per counterparty, CSD, date, instrument and currency: one
    RECEIVE/DELIVER instruction and net cash each (docs/settlement.md)."""
    from execflow.analytics.settlement_discipline import netting_frame
    from execflow.domain.settlement.discipline import net_by_counterparty

    with open_desk(data_dir, store) as (a, svc):
        df = netting_frame(net_by_counterparty(svc.obligations()), a.instruments.get)
        if as_json:
            for row in df.iter_rows(named=True):
                write_json_line({k: str(v) if isinstance(v, date) else v for k, v in row.items()})
            return
        t = Table(title=f"net settlement instructions ({df.height})")
        for c in df.columns:
            t.add_column(c.replace("_", " "))
        for values in df.iter_rows():
            t.add_row(*(str(v) for v in values))
        console.print(t)


@app.command()
def instructions(
    ssi: Annotated[Path, typer.Option("--ssi", help="standing settlement instructions (TOML)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="directory for the XML files")],
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Write an ISO 20022 sese.023 (subset) settlement instruction per open obligation, one
    folder per custodian, each validated against the shipped XSD (the iso20022 extra)."""
    from execflow.adapters.iso20022.sese023 import instructions_by_custodian, validate
    from execflow.adapters.ssi_file import load_ssis
    from execflow.domain.errors import ExecflowError

    try:
        book = load_ssis(ssi)
    except (OSError, ValueError, ExecflowError) as exc:
        err_console.print(f"[red]error:[/] {ssi}: {getattr(exc, 'message', exc)}")
        raise typer.Exit(EXIT_ERROR) from None
    with open_desk(data_dir, store) as (a, svc):
        try:
            batches = instructions_by_custodian(svc.obligations(), book, a.instruments.get)
            for bic, batch in sorted(batches.items()):
                folder = out / bic
                folder.mkdir(parents=True, exist_ok=True)
                for doc, (tx, _) in zip(batch.documents, batch.obligations.items(), strict=True):
                    validate(doc)
                    (folder / (tx.replace("/", "_") + ".xml")).write_bytes(doc)
                console.print(f"{bic}: {len(batch.documents)} sese.023 in {folder}")
        except ExecflowError as exc:
            err_console.print(f"[red]refused:[/] {exc.code}: {exc.message}")
            raise typer.Exit(2) from None
        if not batches:
            console.print("no open obligations")


@app.command("corporate-actions")
def corporate_actions(
    calendar_file: Annotated[Path, typer.Argument(help="corporate-action calendar (TOML)")],
    on: Annotated[str, typer.Option("--date", help="the day to apply (YYYY-MM-DD)")],
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Apply the corporate actions of the calendar file that fall on --date: open orders
    replaced or canceled, quantity limits scaled, positions, cash in lieu and dividends booked
    (docs/settlement.md "Corporate actions"). Each step happens once."""
    from execflow.adapters.corporate_actions import due_on, load_corporate_actions
    from execflow.domain.errors import ExecflowError
    from execflow.domain.settlement.events import SettlementCorporateAction

    day = _date(on, "date")
    assert day is not None
    with open_desk(data_dir, store, read_only=False) as (a, _svc):
        try:
            actions = load_corporate_actions(calendar_file, a.instruments.get)
        except (OSError, ValueError, ExecflowError) as exc:
            err_console.print(f"[red]error:[/] {calendar_file}: {getattr(exc, 'message', exc)}")
            raise typer.Exit(EXIT_ERROR) from None
        assert a.settlement is not None
        due = due_on(actions, day)
        run_ = a.settlement.corporate_actions(day, due, risk=a.risk)
        a.engine.run_until_idle()
        for ev in run_.events:
            if isinstance(ev, SettlementCorporateAction):
                ins = a.instruments.get(ev.instrument)
                qty = ins.qty_to_decimal if ins is not None else Decimal
                cash = f" cash {_money(ev.cash_amount, ev.currency)}" if ev.cash_amount else ""
                console.print(
                    f"{ev.action_id} {ev.step} {ev.account} {ev.instrument}: "
                    f"{qty(ev.quantity_before)} -> {qty(ev.quantity_after)}{cash}"
                )
        for r in run_.orders:
            console.print(f"order {r.cl_ord_id}: {r.status}{'' if r.ok else ' ' + str(r.reason)}")
        for line in run_.limits:
            console.print(f"limit {line}")
        console.print(f"{len(due)} corporate action(s) due on {day}")
