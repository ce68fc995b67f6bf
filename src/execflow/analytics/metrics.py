"""Custom TCA metrics: users register them in a TOML file, or as Python entry points, and they
appear in ``execflow tca report`` (HTML, Parquet, JSON), ``GET /v1/tca/...`` and the CLI.

A metrics file (``--metrics FILE``; docs/tca.md#custom-metrics)::

    [metrics.maker_share]
    description = "share of filled quantity that added liquidity"
    level = "fills"                      # fills (one row per fill) or orders (per order)
    polars = "(pl.col('liquidity') == 'MAKER').mean()"

    [metrics.big_order_cost_bps]
    level = "orders"
    sql = '''SELECT venue, avg(total_bps) AS big_order_cost_bps
             FROM orders WHERE quantity >= 1000 GROUP BY venue'''

    [metrics.my_metric]
    python = "my_package.tca:metric"     # called as fn(frame) -> pl.Expr | pl.DataFrame

* ``polars``: an aggregation expression over the level's frame (the text is evaluated with
  ``pl`` in scope and no builtins: it is code from your own file, like a plugin). It is
  computed over everything and per group of the report's ``group_by`` columns.
* ``sql``: a DuckDB query over the tables ``fills`` and ``orders``; its result is shown as is.
* ``python``: ``module:function``; also every entry point of the group
  ``execflow.tca_metrics`` (name = metric name) is loaded.

The frames' columns are those of ``analytics.tca.fill_metrics`` and ``order_costs``.
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from execflow.domain.errors import InvalidValueError

if TYPE_CHECKING:
    import polars as pl

ENTRY_POINT_GROUP = "execflow.tca_metrics"
LEVELS = ("fills", "orders")


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    level: str = "orders"
    description: str = ""
    polars: str | None = None
    sql: str | None = None
    python: str | Callable[..., Any] | None = None

    def __post_init__(self) -> None:
        given = [k for k in ("polars", "sql", "python") if getattr(self, k) is not None]
        if len(given) != 1:
            raise InvalidValueError(
                f"metric {self.name!r}: give exactly one of polars, sql, python (got {given})"
            )
        if self.level not in LEVELS:
            raise InvalidValueError(f"metric {self.name!r}: level must be one of {LEVELS}")

    def expr(self, frame: pl.DataFrame) -> pl.Expr | pl.DataFrame:
        import polars as pl

        if self.polars is not None:
            try:
                out = eval(self.polars, {"pl": pl, "__builtins__": {}})
            except Exception as exc:
                raise InvalidValueError(f"metric {self.name!r}: {exc}") from None
            if not isinstance(out, pl.Expr):
                raise InvalidValueError(f"metric {self.name!r}: not a Polars expression")
            return out
        fn = _resolve(self.python) if self.python is not None else None
        assert fn is not None
        result = fn(frame)
        if not isinstance(result, pl.Expr | pl.DataFrame):
            raise InvalidValueError(f"metric {self.name!r}: must return a pl.Expr or DataFrame")
        return result


def _resolve(ref: str | Callable[..., Any]) -> Callable[..., Any]:
    if callable(ref):
        return ref
    module, _, attr = ref.partition(":")
    if not module or not attr:
        raise InvalidValueError(f"python metric {ref!r} must be 'module:function'")
    fn = getattr(importlib.import_module(module), attr, None)
    if not callable(fn):
        raise InvalidValueError(f"python metric {ref!r} is not callable")
    return fn  # type: ignore[no-any-return]


def metrics_from_mapping(doc: Mapping[str, Any]) -> list[Metric]:
    table = doc.get("metrics", {})
    if not isinstance(table, Mapping):
        raise InvalidValueError("metrics file: [metrics.NAME] tables expected")
    out = []
    for name, m in table.items():
        unknown = set(m) - {"level", "description", "polars", "sql", "python"}
        if unknown:
            raise InvalidValueError(f"metric {name!r}: unknown keys {sorted(unknown)}")
        out.append(Metric(name=name, **m))
    return out


def load_metrics(path: str | Path | None = None, *, plugins: bool = True) -> list[Metric]:
    """The metrics of a TOML file, plus those of installed entry points."""
    out: list[Metric] = []
    if path is not None:
        p = Path(path)
        try:
            doc = tomllib.loads(p.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InvalidValueError(f"metrics file {p}: {exc}") from None
        out += metrics_from_mapping(doc)
    if plugins:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            obj = ep.load()
            out.append(obj if isinstance(obj, Metric) else Metric(ep.name, python=obj))
    return out


def evaluate(
    metrics: Sequence[Metric],
    frames: Mapping[str, pl.DataFrame],
    group_by: Sequence[str] = (),
) -> dict[str, pl.DataFrame]:
    """Each metric's result: one frame per metric (``overall`` row first for the Polars ones
    when grouped; an SQL metric's own result)."""
    import polars as pl

    out: dict[str, pl.DataFrame] = {}
    for m in metrics:
        frame = frames[m.level]
        if m.sql is not None:
            out[m.name] = _sql(m, frames)
            continue
        e = m.expr(frame)
        if isinstance(e, pl.DataFrame):
            out[m.name] = e
            continue
        keys = [k for k in group_by if k in frame.columns]
        try:
            total = frame.select(e.alias(m.name))
            if keys:
                per = frame.group_by(keys).agg(e.alias(m.name)).sort(keys)
                per = per.with_columns([pl.col(k).cast(pl.String) for k in keys])
                total = total.with_columns([pl.lit("(all)").alias(k) for k in keys])
                out[m.name] = pl.concat([total.select(*keys, m.name), per], how="vertical_relaxed")
            else:
                out[m.name] = total
        except Exception as exc:
            raise InvalidValueError(f"metric {m.name!r}: {exc}") from None
    return out


def _sql(m: Metric, frames: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """DuckDB over the frames, passed as Parquet files (no pyarrow needed)."""
    import tempfile

    import duckdb
    import polars as pl

    with tempfile.TemporaryDirectory(prefix="execflow-tca-") as tmp:
        con = duckdb.connect()
        try:
            for name, df in frames.items():
                path = Path(tmp) / f"{name}.parquet"
                df.write_parquet(path)
                con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path}')")
            try:
                rel = con.execute(m.sql or "")
                cols = [c[0] for c in rel.description]
                rows = rel.fetchall()
            except duckdb.Error as exc:
                raise InvalidValueError(f"metric {m.name!r}: {exc}") from None
        finally:
            con.close()
    return pl.DataFrame(rows, schema=cols, orient="row")
