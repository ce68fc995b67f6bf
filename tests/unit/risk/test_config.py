"""Loading limits from TOML or JSON, validation, defaults, resolution to fixed point."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from execflow.application.pretrade import RiskConfig, config_from_mapping, load_config
from execflow.application.pretrade.resolve import resolve_account, resolve_instrument
from execflow.domain.errors import InvalidValueError
from tests.unit.risk.helpers import AAPL

TOML = """
warn_pct = 75
collar_without_reference = "reject"

[[limits]]                      # every order
max_order_qty = 10000
price_collar_bps = 500
max_open_orders = 200

[[limits]]
account = "ACC1"
max_gross_exposure = { USD = "2000000.50", EUR = 1000000 }
daily_loss_limit = { USD = 50000 }
max_orders_per_second = 20
duplicate_window_ms = 250

[[limits]]
account = "ACC1"
instrument = "AAPL"
max_long_position = 1000.5
max_short_position = "200"

[locates]
ACC1 = ["AAPL"]

[[rules]]
name = "open"
kind = "time_of_day"
limits = ["max_order_qty"]
windows = [["13:30", "13:45", 50]]
"""


def test_toml_file(tmp_path: Path) -> None:
    p = tmp_path / "risk.toml"
    p.write_text(TOML)
    cfg = load_config(p)
    assert cfg.warn_pct == 75 and cfg.collar_without_reference == "reject"
    assert cfg.limits[1].max_gross_exposure == {
        "USD": Decimal("2000000.50"),
        "EUR": Decimal(1000000),
    }
    assert cfg.limits[2].max_long_position == Decimal("1000.5")  # never a float
    al = resolve_account(cfg, "ACC1")
    assert al.max_gross == {"USD": 200_000_050, "EUR": 100_000_000}
    assert (al.max_open_orders, al.max_rate, al.duplicate_window_ns) == (200, 20, 250_000_000)
    il = resolve_instrument(cfg, al, "ACC1", AAPL, {})
    assert (il.max_order_qty, il.max_long, il.max_short, il.collar_bps) == (10000, 1000, 200, 500)
    assert il.max_gross == 200_000_050 and il.daily_loss == 5_000_000
    other = resolve_instrument(cfg, resolve_account(cfg, "X"), "X", AAPL, {"max_order_qty": 50})
    assert (other.max_order_qty, other.max_long, other.max_gross) == (5000, None, None)


def test_json_file(tmp_path: Path) -> None:
    p = tmp_path / "risk.json"
    p.write_text('{"limits": [{"account": "A", "buying_power": {"USD": 1.25}}]}')
    assert resolve_account(load_config(p), "A").buying_power == {"USD": 125}


def test_defaults_limit_nothing() -> None:
    cfg = RiskConfig()
    cfg.validate()
    al = resolve_account(cfg, "A")
    il = resolve_instrument(cfg, al, "A", AAPL, {})
    assert il.max_order_qty is None and il.max_long is None and not il.restricted
    assert al.max_gross == {} and al.max_open_orders is None


@pytest.mark.parametrize(
    "data",
    [
        {"limits": [{"instrument": "AAPL", "max_gross_exposure": {"USD": "1"}}]},
        {"limits": [{"max_order_qty": "-1"}]},
        {"limits": [{"max_order_qty": "ten"}]},
        {"limits": [{"max_ordr_qty": "1"}]},
        {"warn_pct": 0},
        {"rules": [{"name": "r", "kind": "volatility", "limits": ["max_order_qty"]}]},
        {
            "rules": [
                {
                    "name": "r",
                    "kind": "time_of_day",
                    "limits": ["max_open_orders"],
                    "windows": [["09:00", "10:00", 50]],
                }
            ]
        },
        {
            "rules": [
                {
                    "name": "r",
                    "kind": "time_of_day",
                    "limits": ["max_order_qty"],
                    "windows": [["9h", "10:00", 50]],
                }
            ]
        },
    ],
)
def test_invalid_configs_are_refused_with_a_reason(data: dict[str, object]) -> None:
    with pytest.raises(InvalidValueError):
        config_from_mapping(data)
