"""`execflow compliance`: surveillance alerts, scans and scenario measurements."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from execflow.bootstrap import load_compliance_config
from execflow.cli.common import (
    EXIT_ERROR,
    DataDir,
    StoreOpt,
    console,
    err_console,
    make_config,
    open_log,
)
from execflow.domain.compliance.config import SurveillanceConfig
from execflow.domain.compliance.events import ALERT_STREAM, ComplianceAlert
from execflow.domain.compliance.surveillance import Surveillance
from execflow.domain.events import to_builtins

app = typer.Typer(help="Compliance: surveillance alerts and reports.", no_args_is_help=True)

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="surveillance thresholds (TOML/JSON) [settings engine.compliance_config]",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="one JSON object per line")]


def _iso(ts: int) -> str:
    return (
        datetime.fromtimestamp(ts / 1e9, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def _print_alerts(alerts: list[ComplianceAlert], as_json: bool) -> None:
    if as_json:
        for a in alerts:
            d = to_builtins(a)
            d["time"] = _iso(a.ts)
            print(json.dumps(d, default=str))
        return
    table = Table()
    for col in ("time", "rule", "severity", "account", "instrument", "summary"):
        table.add_column(col)
    for a in alerts:
        table.add_row(_iso(a.ts), a.rule, a.severity, a.account, a.instrument, a.summary)
    console.print(table)
    console.print(f"{len(alerts)} alert(s)")


@app.command()
def alerts(
    rule: Annotated[str | None, typer.Option("--rule", help="only this rule")] = None,
    account: Annotated[str | None, typer.Option("--account", "-a")] = None,
    as_json: JsonOpt = False,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """The alerts the live surveillance recorded in the log (stream compliance-alerts)."""
    with open_log(data_dir, store) as log:
        found = [
            r.event
            for r in log.read_stream(ALERT_STREAM)
            if isinstance(r.event, ComplianceAlert)
            and (rule is None or r.event.rule == rule)
            and (account is None or r.event.account == account)
        ]
    _print_alerts(found, as_json)


@app.command()
def scan(
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Run the surveillance rules over the whole stored log (read-only) and print what they
    find, whether or not the live surveillance ran (e.g. with new thresholds)."""
    rules = Surveillance(_config(config))
    with open_log(data_dir, store) as log:
        found: list[ComplianceAlert] = []
        for r in log.read_all():
            if type(r.event) is not ComplianceAlert:
                found += rules.on_event(r.event)
    _print_alerts(found, as_json)


@app.command()
def scenarios(
    seeds: Annotated[int, typer.Option("--seeds", help="scenario days (seeds 0..N-1)")] = 10,
    as_json: JsonOpt = False,
) -> None:
    """Measure the rules on seeded days with planted patterns and decoys: detection rate
    (planted patterns found) and false-alert rate (alerts matching no planted pattern)."""
    from execflow.testing.surveillance_scenarios import run_days

    t = run_days(seeds)
    out = t.as_dict()
    if as_json:
        print(json.dumps(out))
        return
    table = Table(title=f"surveillance on {seeds} seeded days ({t.events:,} events)")
    for col in ("rule", "detected", "planted", "rate", "over thresholds", "below (by design)"):
        table.add_column(col)
    for r, (d, n) in t.per_rule.items():
        od, on = t.over.get(r, [0, 0])
        table.add_row(r, str(d), str(n), f"{d / n:.0%}", f"{od}/{on}", f"{d - od}/{n - on}")
    console.print(table)
    console.print(
        f"detection rate {t.detected}/{t.planted} = {t.detected / max(t.planted, 1):.1%}; "
        f"over the thresholds {out['detected_over_thresholds']}/{out['planted_over_thresholds']};"
        f" false alerts {t.false_alerts}/{t.alerts} = {t.false_alerts / max(t.alerts, 1):.1%} "
        f"({t.ordinary_orders:,} ordinary orders, {t.decoys} decoys)",
        markup=False,
    )


def _config(path: Path | None) -> SurveillanceConfig:
    """The thresholds of ``--config``, else of the settings (``engine.compliance_config``:
    the ``execflow --config`` file or EXECFLOW_COMPLIANCE_CONFIG), else the defaults."""
    if path is None:
        path = make_config(None, None).compliance_config
    if path is None:
        return SurveillanceConfig()
    try:
        return load_compliance_config(path)
    except (OSError, ValueError) as exc:
        err_console.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_ERROR) from None


@app.command()
def report(
    kind: Annotated[str, typer.Argument(help="605, 606, cat, rts22 or bestex")],
    out: Annotated[Path, typer.Option("--out", "-o", help="file to write")],
    month: Annotated[str | None, typer.Option(help="605: YYYY-MM (UTC)")] = None,
    quarter: Annotated[str | None, typer.Option(help="606: YYYYQn")] = None,
    day: Annotated[
        str | None, typer.Option("--date", help="cat, rts22, bestex: YYYY-MM-DD (UTC)")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="with --date: last day included")
    ] = None,
    lei: Annotated[str, typer.Option(help="rts22: executing entity LEI")] = (
        "529900T8BM49AURSDO55"
    ),
    firm: Annotated[str, typer.Option(help="605/606: market center / broker name")] = ("execflow"),
    tolerance_bps: Annotated[str, typer.Option(help="bestex: outside-NBBO tolerance")] = "10",
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Write a regulatory report of the stored log to a file: SEC Rule 605 (monthly), Rule
    606(a) (quarterly), a CAT-style lifecycle export (JSON Lines), a MiFIR RTS 22 transaction
    report subset (XML), or the best-execution review. Each has a schema beside it
    (execflow/analytics/regulatory/schemas)."""
    from decimal import Decimal, InvalidOperation

    from execflow.adapters.reference import default_instruments
    from execflow.analytics.regulatory import files
    from execflow.analytics.regulatory.bestex import review
    from execflow.analytics.regulatory.cat import events, write_jsonl
    from execflow.analytics.regulatory.rts22 import report as rts22_report
    from execflow.analytics.regulatory.rts22 import to_bytes
    from execflow.analytics.regulatory.rule605 import report as r605
    from execflow.analytics.regulatory.rule606 import report as r606

    ref = files.Reference(default_instruments())

    def need(value: str | None, option: str) -> str:
        if value is None:
            err_console.print(f"error: {kind} needs {option}", markup=False)
            raise typer.Exit(EXIT_ERROR)
        return value

    def days() -> tuple[int, int]:
        first = datetime.strptime(need(day, "--date"), "%Y-%m-%d").replace(tzinfo=UTC)
        last = datetime.strptime(until, "%Y-%m-%d").replace(tzinfo=UTC) if until else first
        return int(first.timestamp()) * 10**9, (int(last.timestamp()) + 86_400) * 10**9

    try:
        with open_log(data_dir, store) as log:
            book = files.load_book(log)
            if kind == "605":
                data = r605(book, need(month, "--month"), firm, ref.price, ref.qty)
                files.write_json(data, out)
                what = f"{len(data['rows'])} rows"
            elif kind == "606":
                fees = files.fees_by_exec_id(log, ref)
                data = r606(book, need(quarter, "--quarter"), firm, ref.sp500, ref.qty, fees)
                files.write_json(data, out)
                what = "3 months"
            elif kind == "cat":
                start, end = days()
                what = (
                    f"{write_jsonl(events(book, start, end, ref.price, ref.qty), str(out))} events"
                )
            elif kind == "rts22":
                start, end = days()
                root = rts22_report(book, start, end, lei, ref.price, ref.qty, ref.currency)
                out.write_bytes(to_bytes(root))
                what = f"{len(root) - 1} transactions"
            elif kind == "bestex":
                start, end = days()
                data = review(book, start, end, ref.price, Decimal(tolerance_bps))
                files.write_json(data, out)
                what = f"{len(data['exceptions'])} exception(s)"
            else:
                err_console.print(f"error: unknown report {kind!r}", markup=False)
                raise typer.Exit(EXIT_ERROR)
    except (ValueError, InvalidOperation, OSError) as exc:
        err_console.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_ERROR) from None
    console.print(f"wrote {out} ({what}); schema: {files.schema_path(kind)}", markup=False)
