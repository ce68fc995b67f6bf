"""`execflow risk ...`: limits, utilisation, recent rejects, alerts, kill switch, changes.

Pre-trade view: ``limits`` (what is configured, scaled and in force, kill switches, locates).
Post-trade view: ``utilisation`` (every configured limit, used / limit), ``rejects``, ``alerts``.
Controls (each recorded as an event with who and why): ``kill``, ``reset``, ``set-limit``,
``locate``.

The risk engine comes from the app (``App.risk``) when bootstrap builds one; otherwise it is
built here from ``--limits FILE`` / ``EXECFLOW_RISK_CONFIG`` (default: the built-in default
limits, docs/risk.md) and the log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import msgspec
import typer
from rich.markup import escape
from rich.table import Table

from execflow.application.pretrade import RiskConfig, RiskEngine, Usage, default_config, load_config
from execflow.application.pretrade.config import ALL_LIMITS
from execflow.bootstrap import App
from execflow.cli import remote as remote_cli
from execflow.cli.common import (
    EXIT_ERROR,
    DataDir,
    StoreOpt,
    console,
    err_console,
    make_config,
    open_app,
)
from execflow.cli.format import decimal_text, iso_time, money_text, write_json_line
from execflow.cli.remote import Remote, UrlOpt, remote_for
from execflow.domain.errors import ExecflowError
from execflow.domain.numbers import currency_decimals, from_scaled

app = typer.Typer(
    help="Pre-trade risk: limits, utilisation, rejects, kill switch.", no_args_is_help=True
)

LimitsOpt = Annotated[
    Path | None,
    typer.Option("--limits", help="risk limits file, TOML or JSON [settings engine.risk_config]"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON Lines: one object per line")]
WhoOpt = Annotated[str, typer.Option("--who", help="who does it (recorded)")]
WhyOpt = Annotated[str, typer.Option("--why", help="why (recorded)")]
AccountOpt = Annotated[str | None, typer.Option("--account", "-a", help="one account")]
T = TypeVar("T")


def _config(path: Path | None) -> RiskConfig:
    """The limits of ``--limits``, else of the settings (``engine.risk_config``: the
    ``--config`` file or EXECFLOW_RISK_CONFIG), else the defaults."""
    p = make_config(None, None, path).risk_config
    if p is None:
        return default_config()
    try:
        return load_config(p)
    except (OSError, ExecflowError) as exc:
        err_console.print(f"[red]error:[/] risk limits {p}: {exc}")
        raise typer.Exit(EXIT_ERROR) from None


@contextmanager
def open_risk(
    data_dir: Path | None, store: str | None, limits: Path | None, *, read_only: bool = True
) -> Iterator[tuple[App, RiskEngine]]:
    """The app with its risk engine (limits from ``--limits`` or EXECFLOW_RISK_CONFIG):
    read-only (limits, utilisation, rejects, alerts) unless told otherwise (the controls)."""
    if limits is not None:
        _config(limits)  # a clear error for a bad file before anything is opened
    with open_app(data_dir, store, limits, read_only=read_only) as a:
        assert a.risk is not None
        yield a, a.risk


def _ts(ns: int) -> str:
    return iso_time(ns)


def _json_amount(a: App, unit: str, value: int) -> str | int:
    """An amount for --json: money and quantities as decimal strings, counts as integers."""
    kind, _, what = unit.partition(":")
    if kind == "minor":
        return money_text(value, what)
    if kind == "qty" and (ins := a.instruments.get(what)) is not None:
        return decimal_text(ins.qty_to_decimal(value))
    return value


def _amount(a: App, unit: str, value: int) -> str:
    kind, _, what = unit.partition(":")
    if kind == "minor":
        return f"{from_scaled(value, currency_decimals(what))} {what}"
    if kind == "qty":
        ins = a.instruments.get(what)
        return str(ins.qty_to_decimal(value)) if ins else str(value)
    return str(value)


def _fail(exc: ExecflowError) -> typer.Exit:
    err_console.print(f"[red]error:[/] [bold]{exc.code}[/]: {exc.message}")
    return typer.Exit(EXIT_ERROR)


@app.command()
def limits(
    as_json: JsonOpt = False,
    limits: LimitsOpt = None,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Limits in force (config + run-time changes), dynamic scales, kill switches, locates."""
    with open_risk(data_dir, store, limits) as (_a, risk):
        rows = []
        for ls in risk.config.limits:
            for name in ALL_LIMITS:
                v = getattr(ls, name)
                if v is None:
                    continue
                text = ", ".join(f"{c} {x}" for c, x in v.items()) if isinstance(v, dict) else v
                rows.append(
                    {
                        "account": ls.account or "*",
                        "instrument": ls.instrument or "*",
                        "limit": name,
                        "value": str(text),
                    }
                )
        kill_all, killed = risk.kill_state()
        scales = [
            {"rule": r, "instrument": i or "*", "limits": list(names), "pct": pct}
            for (r, i), (names, pct) in risk.core.scales.items()
        ]
        locates = {a: sorted(s.located) for a, s in risk.core.accounts.items() if s.located}
        if as_json:
            out = {
                "limits": rows,
                "scales": scales,
                "kill_all": kill_all,
                "killed": killed,
                "locates": locates,
            }
            write_json_line(out)  # one object on one line
            return
        t = Table("account", "instrument", "limit", "value", title="limits (tightest wins)")
        for r in rows:
            t.add_row(r["account"], r["instrument"], r["limit"], r["value"])
        console.print(t)
        for s in scales:
            console.print(
                f"scaled: rule {s['rule']} {s['instrument']} {s['limits']} at {s['pct']}%"
            )
        if kill_all or killed:
            who = "ALL ACCOUNTS" if kill_all else ", ".join(killed)
            console.print(f"[bold red]kill switch engaged:[/] {who}")
        for acct, names in locates.items():
            console.print(f"locates {acct}: {', '.join(names)}")


@app.command()
def utilisation(
    account: AccountOpt = None,
    as_json: JsonOpt = False,
    limits: LimitsOpt = None,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Used / limit of every configured limit (positions include open orders)."""
    with open_risk(data_dir, store, limits) as (a, risk):
        rows: list[Usage] = [u for u in risk.utilisation() if account in (None, u.account)]
        if as_json:
            for u in rows:  # JSON Lines, amounts as decimals in their unit
                write_json_line(
                    dict(
                        u._asdict(),
                        used=_json_amount(a, u.unit, u.used),
                        limit_value=_json_amount(a, u.unit, u.limit_value),
                        utilisation_bps=u.utilisation_bps,
                    )
                )
            return
        t = Table("account", "limit", "on", "used", "limit", "%", title="utilisation")
        for u in sorted(rows, key=lambda u: -u.utilisation_bps):
            pct = u.utilisation_bps / 100
            style = "red" if pct >= 100 else "yellow" if pct >= risk.config.warn_pct else ""
            t.add_row(
                u.account,
                u.limit,
                u.key,
                _amount(a, u.unit, u.used),
                _amount(a, u.unit, u.limit_value),
                f"[{style}]{pct:.1f}[/]" if style else f"{pct:.1f}",
            )
        console.print(t)


@app.command()
def rejects(
    n: Annotated[int, typer.Option("-n", help="how many")] = 20,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
    limits: LimitsOpt = None,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Recent rejected orders (by the engine's checks or by a venue), newest last."""
    with open_risk(data_dir, store, limits) as (_a, risk):
        recs = [r for r in risk.recent_rejects(10**9) if account in (None, r.account)][-n:]
        if as_json:
            for r in recs:
                write_json_line(dict(r._asdict(), ts=iso_time(r.ts)))
            return
        t = Table("time (UTC)", "cl_ord_id", "account", "instrument", "code", "by", "reason")
        for r in recs:
            t.add_row(_ts(r.ts), r.cl_ord_id, r.account, r.instrument, r.code, r.by, r.reason)
        console.print(t)


@app.command()
def alerts(
    n: Annotated[int, typer.Option("-n", help="how many")] = 20,
    as_json: JsonOpt = False,
    limits: LimitsOpt = None,
    data_dir: DataDir = None,
    store: StoreOpt = None,
) -> None:
    """Recent utilisation alerts (WARNING, BREACH, back to OK)."""
    with open_risk(data_dir, store, limits) as (a, risk):
        recs = list(risk.alerts)[-n:]
        if as_json:
            for e in recs:
                line = msgspec.to_builtins(e)
                line.update(
                    ts=iso_time(e.ts),
                    used=_json_amount(a, e.unit, e.used),
                    limit_value=_json_amount(a, e.unit, e.limit_value),
                )
                write_json_line(line)
            return
        t = Table("time (UTC)", "level", "account", "limit", "on", "used", "limit", "%")
        for e in recs:
            t.add_row(
                _ts(e.ts),
                e.level,
                e.account,
                e.limit,
                e.key,
                _amount(a, e.unit, e.used),
                _amount(a, e.unit, e.limit_value),
                f"{e.utilisation_bps / 100:.1f}",
            )
        console.print(t)


def _control(
    data_dir: Path | None,
    store: str | None,
    limits: Path | None,
    url: str | None,
    *,
    remote: Callable[[Remote], T],
    local: Callable[[RiskEngine], T],
    report: Callable[[T], None],
) -> None:
    """A control (kill, reset, set-limit, locate): sent to the server that holds the log, else done
    here with the writer lease (an engine refusal: exit 1); ``report`` prints the outcome."""
    server = remote_for(data_dir, store, url)
    if server is not None:
        with server:
            return report(remote(server))
    with open_risk(data_dir, store, limits, read_only=False) as (a, risk):
        try:
            result = local(risk)
        except ExecflowError as exc:
            raise _fail(exc) from None
        a.engine.run_until_idle()
        report(result)


def _scope(account: str | None, all_accounts: bool) -> str | None:
    if (account is None) == (not all_accounts):
        err_console.print("[red]error:[/] give --account ACCOUNT or --all")
        raise typer.Exit(EXIT_ERROR)
    return account


@app.command()
def kill(
    who: WhoOpt,
    why: WhyOpt,
    account: AccountOpt = None,
    all_accounts: Annotated[bool, typer.Option("--all", help="every account")] = False,
    limits: LimitsOpt = None,
    data_dir: DataDir = None,
    store: StoreOpt = None,
    url: UrlOpt = None,
) -> None:
    """Kill switch: cancel the open orders and block new ones (one account or --all)."""
    scope = _scope(account, all_accounts)
    body = {"account": scope, "who": who, "why": why}
    _control(
        data_dir, store, limits, url,
        remote=lambda r: remote_cli.admin(r, "POST", "/v1/admin/kill-switch", body)[
            "cancels_sent"
        ],
        local=lambda risk: risk.engage_kill_switch(account=scope, who=who, why=why),
        report=lambda sent: _killed(scope, sent, who, why),
    )  # fmt: skip


def _killed(scope: str | None, sent: int, who: str, why: str) -> None:
    console.print(
        f"[bold red]Kill switch engaged[/] for {_who_scope(scope)} by {escape(who)} "
        f"({escape(why)}): new orders are refused; {sent} open order(s) being canceled."
    )


@app.command()
def reset(
    who: WhoOpt,
    why: WhyOpt,
    account: AccountOpt = None,
    all_accounts: Annotated[bool, typer.Option("--all", help="the global switch")] = False,
    limits: LimitsOpt = None,
    data_dir: DataDir = None,
    store: StoreOpt = None,
    url: UrlOpt = None,
) -> None:
    """Release a kill switch (admin); recorded with who and why."""
    scope = _scope(account, all_accounts)
    body = {"account": scope, "who": who, "why": why}
    _control(
        data_dir, store, limits, url,
        remote=lambda r: bool(
            remote_cli.admin(r, "POST", "/v1/admin/kill-switch/release", body)["released"]
        ),
        local=lambda risk: risk.release_kill_switch(account=scope, who=who, why=why),
        report=lambda done: _released(scope, done, who, why),
    )  # fmt: skip


def _released(scope: str | None, done: bool, who: str, why: str) -> None:
    if not done:
        err_console.print(f"The kill switch for {_who_scope(scope)} was not engaged.")
        raise typer.Exit(EXIT_ERROR)
    console.print(
        f"Kill switch released for {_who_scope(scope)} by {escape(who)} ({escape(why)}): "
        "orders are accepted again."
    )


def _who_scope(scope: str | None) -> str:
    return "all accounts" if scope is None else f"account {escape(scope)}"


@app.command("set-limit")
def set_limit(
    limit: Annotated[str, typer.Argument(help=f"one of: {', '.join(ALL_LIMITS)}")],
    value: Annotated[str, typer.Argument(help="new value, or 'none' to remove")],
    who: WhoOpt,
    why: WhyOpt,
    account: AccountOpt = None,
    instrument: Annotated[str | None, typer.Option("--instrument", "-i")] = None,
    currency: Annotated[str | None, typer.Option("--currency", "-c")] = None,
    limits: LimitsOpt = None,
    data_dir: DataDir = None,
    store: StoreOpt = None,
    url: UrlOpt = None,
) -> None:
    """Change a limit at run time (recorded; in force at once, survives restarts)."""
    new = None if value.lower() == "none" else value
    body = {
        "limit": limit, "value": new, "who": who, "why": why, "account": account,
        "instrument": instrument, "currency": currency,
    }  # fmt: skip

    def local(risk: RiskEngine) -> tuple[object, object]:
        ev = risk.set_limit(
            limit, new, who=who, why=why, account=account, instrument=instrument, currency=currency
        )
        return ev.previous, ev.value

    def remote(r: Remote) -> tuple[object, object]:
        ev = remote_cli.admin(r, "PUT", "/v1/admin/limits", body)
        return ev["previous"], ev["value"]

    _control(
        data_dir, store, limits, url, remote=remote, local=local,
        report=lambda pv: _limit_changed(limit, *pv, account, instrument, currency),
    )  # fmt: skip


def _limit_changed(
    limit: str,
    previous: object,
    value: object,
    account: str | None,
    instrument: str | None,
    currency: str | None,
) -> None:
    console.print(
        f"{limit}: {previous} -> {value} (account={account or '*'}, "
        f"instrument={instrument or '*'}{', ' + currency if currency else ''})"
    )


@app.command()
def locate(
    account: Annotated[str, typer.Argument()],
    instrument: Annotated[str, typer.Argument()],
    who: WhoOpt,
    why: WhyOpt = "",
    off: Annotated[bool, typer.Option("--off", help="withdraw the locate")] = False,
    limits: LimitsOpt = None,
    data_dir: DataDir = None,
    store: StoreOpt = None,
    url: UrlOpt = None,
) -> None:
    """Grant (or withdraw with --off) a short-sale locate for an account and instrument."""
    body = {"account": account, "instrument": instrument, "granted": not off,
            "who": who, "why": why}  # fmt: skip
    _control(
        data_dir, store, limits, url,
        remote=lambda r: remote_cli.admin(r, "POST", "/v1/admin/locates", body),
        local=lambda risk: risk.set_locate(account, instrument, not off, who=who, why=why),
        report=lambda _: console.print(
            f"locate {'withdrawn' if off else 'granted'}: {account} {instrument}"
        ),
    )  # fmt: skip


# exposure (firm-wide view), stress, var: cli/risk_stress.py
from execflow.cli.risk_stress import register as _register_stress  # noqa: E402

_register_stress(app)
