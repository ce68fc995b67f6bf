"""`execflow risk exposure|stress|var`: the firm-wide view, stress tests, VaR/ES (docs/risk.md).

Positions come from ``--positions FILE`` (CSV/JSON) or, by default, from the log (the risk
engine's live positions at their marks, read-only). The base currency and FX rates come from
the risk config (``base_currency``, ``[fx]``) and/or ``--base`` / ``--fx CCY=RATE``. Stress and
VaR need the ``risk`` extra (NumPy, JAX); the firm view does not.
"""

from __future__ import annotations

import csv
import json
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from execflow.cli.common import EXIT_ERROR, DataDir, StoreOpt, console, err_console
from execflow.domain.errors import ExecflowError
from execflow.domain.fx import FxTable
from execflow.extras import MissingExtraError

if TYPE_CHECKING:
    from execflow.analytics.risk.portfolio import Portfolio, RiskPosition

PositionsOpt = Annotated[
    Path | None,
    typer.Option("--positions", help="positions CSV/JSON (default: live positions of the log)"),
]
BaseOpt = Annotated[str | None, typer.Option("--base", help="base currency (default: config)")]
FxOpt = Annotated[
    list[str] | None, typer.Option("--fx", help="CCY=RATE: units of base per unit (repeat)")
]
SectorsOpt = Annotated[
    Path | None, typer.Option("--sectors", help="TOML/JSON: instrument = sector (live positions)")
]
BackendOpt = Annotated[str | None, typer.Option("--backend", help="jax | numpy (default: auto)")]
LimitsOpt = Annotated[
    Path | None,
    typer.Option("--limits", help="risk config, TOML or JSON [settings engine.risk_config]"),
]
JsonOut = Annotated[bool, typer.Option("--json", help="one JSON object")]


def _fail(msg: str) -> typer.Exit:
    err_console.print(f"[red]error:[/] {escape(msg)}")
    return typer.Exit(EXIT_ERROR)


def _fx(
    cfg_base: str | None, cfg_fx: dict[str, Any], base: str | None, fx: list[str] | None
) -> FxTable:
    b = base or cfg_base or "USD"
    rates: dict[str, object] = dict(cfg_fx) if (cfg_base or "").upper() == b.upper() else {}
    for item in fx or []:
        ccy, sep, rate = item.partition("=")
        if not sep:
            raise _fail(f"--fx {item!r}: use CCY=RATE, e.g. EUR=1.08")
        rates[ccy.strip().upper()] = rate.strip()
    return FxTable(b, rates)


def _map_file(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    return {str(k): str(v) for k, v in data.items()}


def _portfolio(
    positions: Path | None,
    limits: Path | None,
    data_dir: Path | None,
    store: str | None,
    base: str | None,
    fx: list[str] | None,
    sectors: Path | None,
) -> Portfolio:
    from execflow.analytics.risk.portfolio import Portfolio, load_positions, positions_from_book
    from execflow.cli.risk import _config, open_risk

    cfg = _config(limits)
    table = _fx(cfg.base_currency, cfg.fx, base, fx)
    rows: list[RiskPosition]
    if positions is not None:
        rows = load_positions(positions)
    else:
        with open_risk(data_dir, store, limits) as (_a, risk):
            rows = positions_from_book(risk.core, _map_file(sectors))
    return Portfolio(rows, table)


def _run(fn: Any) -> Any:
    try:
        return fn()
    except MissingExtraError as exc:
        raise _fail(exc.message) from None
    except ExecflowError as exc:
        raise _fail(f"{exc.code}: {exc.message}") from None
    except (OSError, ValueError) as exc:
        raise _fail(str(exc)) from None


def register(app: typer.Typer) -> None:
    @app.command()
    def exposure(
        as_json: JsonOut = False,
        limits: LimitsOpt = None,
        data_dir: DataDir = None,
        store: StoreOpt = None,
    ) -> None:
        """Exposure and P&L in the base currency per account, desk and firm, with firm limits."""
        from execflow.cli.risk import open_risk

        with open_risk(data_dir, store, limits) as (_a, risk):
            if risk.firm is None:
                raise _fail("no base_currency in the risk config (docs/risk.md, firm-wide limits)")
            rows = risk.firm.firm.view()
        if as_json:
            console.print_json(json.dumps({"levels": rows}))
            return
        t = Table(
            "scope",
            "gross",
            "net",
            "P&L",
            "limits",
            title=f"exposure in {rows[0]['currency'] if rows else ''}",
        )
        for r in rows:
            lims = r["limits"]
            assert isinstance(lims, dict)
            text = ", ".join(f"{k} {v['used']}/{v['limit']} {v['level']}" for k, v in lims.items())
            if r["blocked"]:
                text += " [red]BLOCKED[/]"
            if r["missing_fx"]:
                text += f" [yellow]no FX: {r['missing_fx']}[/]"
            t.add_row(str(r["scope"]), str(r["gross"]), str(r["net"]), str(r["pnl"]), text)
        console.print(t)

    @app.command()
    def stress(
        positions: PositionsOpt = None,
        scenarios: Annotated[
            list[Path] | None, typer.Option("--scenarios", help="user scenarios TOML/JSON")
        ] = None,
        historical: Annotated[
            bool, typer.Option("--historical/--no-historical", help="shipped 1987/2008/2020")
        ] = True,
        hypothetical: Annotated[
            bool, typer.Option("--hypothetical", help="parallel, sigma and FX moves")
        ] = False,
        base: BaseOpt = None,
        fx: FxOpt = None,
        sectors: SectorsOpt = None,
        backend: BackendOpt = None,
        as_json: JsonOut = False,
        limits: LimitsOpt = None,
        data_dir: DataDir = None,
        store: StoreOpt = None,
    ) -> None:
        """Revalue the positions under historical, hypothetical and user scenarios."""

        def go() -> Any:
            from execflow.analytics.risk import scenarios as sc
            from execflow.analytics.risk.stress import run_stress

            pf = _portfolio(positions, limits, data_dir, store, base, fx, sectors)
            chosen = sc.historical() if historical else []
            if hypothetical:
                chosen += sc.hypothetical_grid(
                    fx_currencies=[c for c in pf.currencies if c != pf.base],
                    sigmas=("-3", "-5") if pf.vol_of else (),  # sigma moves need vols
                )
            for f in scenarios or []:
                chosen += sc.load_scenarios(f)
            if not chosen:
                raise _fail("no scenarios: --historical, --hypothetical or --scenarios FILE")
            return run_stress(pf, chosen, backend)

        res = _run(go)
        if as_json:
            console.print_json(json.dumps(res.as_dict()))
            return
        t = Table("scenario", "kind", f"P&L {res.base}", "worst account",
                  title=f"stress ({res.backend})")  # fmt: skip
        for r in res.results:
            worst = min(r.by_account.items(), key=lambda kv: kv[1], default=("-", Decimal(0)))
            style = "red" if r.pnl < 0 else ""
            t.add_row(r.name, r.kind, f"[{style}]{r.pnl}[/]" if style else str(r.pnl),
                      f"{worst[0]} {worst[1]}")  # fmt: skip
        console.print(t)
        if res.results:
            console.print(f"worst: {res.worst.name}, loss {res.worst_loss()} {res.base}")

    @app.command()
    def var(
        positions: PositionsOpt = None,
        history: Annotated[
            Path | None,
            typer.Option(
                "--history",
                help="CSV of daily returns: date, one column per "
                "instrument, FX:CCY columns for currencies",
            ),
        ] = None,
        simulate: Annotated[
            int, typer.Option("--simulate", help="no history: N seeded synthetic days")
        ] = 0,
        method: Annotated[
            str, typer.Option("--method", help="historical | monte-carlo")
        ] = "historical",
        confidence: Annotated[float, typer.Option("--confidence")] = 0.99,
        sims: Annotated[int, typer.Option("--sims", help="Monte Carlo draws")] = 10_000,
        seed: Annotated[int, typer.Option("--seed")] = 1,
        horizon: Annotated[int, typer.Option("--horizon", help="days (Monte Carlo)")] = 1,
        vol_multiplier: Annotated[float, typer.Option("--vol-multiplier")] = 1.0,
        correlation_shift: Annotated[float, typer.Option("--correlation-shift")] = 0.0,
        stressed: Annotated[
            str | None,
            typer.Option(
                "--stressed",
                help="Monte Carlo under a shipped scenario's volatility "
                "and correlation shocks (oct-1987, sep-oct-2008, mar-2020)",
            ),
        ] = None,
        backtest: Annotated[
            bool, typer.Option("--backtest", help="exceptions of a rolling historical VaR")
        ] = False,
        window: Annotated[int, typer.Option("--window")] = 250,
        base: BaseOpt = None,
        fx: FxOpt = None,
        backend: BackendOpt = None,
        as_json: JsonOut = False,
        limits: LimitsOpt = None,
        data_dir: DataDir = None,
        store: StoreOpt = None,
    ) -> None:
        """VaR and expected shortfall (historical or Monte Carlo), per account and firm, with
        contributions; optionally a backtest of VaR exceptions."""

        def go() -> dict[str, Any]:
            from execflow.analytics.risk import var as vr

            pf = _portfolio(positions, limits, data_dir, store, base, fx, None)
            if not len(pf):
                raise _fail("no positions")
            r, f = _history(pf, history, simulate, seed)
            if method == "historical":
                res = vr.var_from_scenarios(pf, r, f, confidence=confidence, backend=backend)
            elif method in ("monte-carlo", "mc"):
                vm, cs = vol_multiplier, correlation_shift
                if stressed is not None:
                    from execflow.analytics.risk.scenarios import historical

                    found = {sc.name: sc for sc in historical()}.get(stressed)
                    if found is None:
                        raise _fail(f"--stressed {stressed!r}: not a shipped scenario")
                    vm, cs = float(found.vol_multiplier), float(found.correlation_shift)
                res = vr.monte_carlo_var(
                    pf, r, f, n=sims, seed=seed, confidence=confidence, horizon_days=horizon,
                    vol_multiplier=vm, correlation_shift=cs, backend=backend,
                )  # fmt: skip
            else:
                raise _fail(f"--method {method!r}: historical or monte-carlo")
            out = res.as_dict()
            if backtest:
                from execflow.analytics.risk.stress import revalue

                firm, _, _ = revalue(pf, r, f, backend)
                out["backtest"] = vr.backtest(firm, confidence, window).as_dict()
            return out

        out = _run(go)
        if as_json:
            console.print_json(json.dumps(out))
            return
        ccy = out["base_currency"]
        console.print(
            f"{out['method']} VaR {out['confidence']:.1%} over {out['scenarios']} scenarios "
            f"({out['backend']}): VaR {out['var']} {ccy}, ES {out['es']} {ccy}"
        )
        t = Table("account", "exposure", "VaR alone", "ES alone", "component VaR",
                  "component ES", "marginal", "incremental", title="by account")  # fmt: skip
        for c in out["accounts"]:
            alone = out["by_account"][c["key"]]
            t.add_row(c["key"], c["exposure"], alone["var"], alone["es"], c["component_var"],
                      c["component_es"], c["marginal_var"], c["incremental_var"])  # fmt: skip
        console.print(t)
        if "backtest" in out:
            b = out["backtest"]
            console.print(
                f"backtest: {b['exceptions']} exceptions in {b['days']} days (expected "
                f"{b['expected']:.1f}), Kupiec LR {b['kupiec_lr']:.3f} p={b['kupiec_p_value']:.3f}"
                f", zone {b['zone']}"
            )


def _history(pf: Portfolio, path: Path | None, simulate: int, seed: int) -> tuple[Any, Any]:
    """Returns [T, I] and currency returns [T, C] in the portfolio's order."""
    from execflow.analytics.risk.backend import numpy
    from execflow.analytics.risk.var import simulated_history

    np = numpy()
    if path is None:
        if simulate <= 0:
            raise _fail("give --history FILE or --simulate DAYS")
        r = simulated_history(simulate, len(pf.instruments), seed)
        return r, np.zeros((simulate, len(pf.currencies)))
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise _fail(f"{path}: no rows")
    missing = [i for i in pf.instruments if i not in rows[0]]
    if missing:
        raise _fail(f"{path}: no returns for {missing}")
    r = np.array([[float(Decimal(row[i])) for i in pf.instruments] for row in rows])
    f = np.array([[float(Decimal(row.get(f"FX:{c}") or 0)) for c in pf.currencies] for row in rows])
    return r, f
