"""Surveillance thresholds: which rules run and the limit of each (``EXECFLOW_COMPLIANCE_CONFIG``,
TOML or JSON; docs/compliance.md). The rules are :mod:`execflow.domain.compliance.surveillance`."""

from __future__ import annotations

import msgspec

SECOND = 1_000_000_000
RULES = (
    "wash_trade",
    "spoofing",
    "layering",
    "marking_the_close",
    "order_to_trade_ratio",
    "restricted_list",
    "outside_hours",
    "best_execution",
)


class SurveillanceConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Thresholds of every rule (TOML/JSON: ``EXECFLOW_COMPLIANCE_CONFIG``)."""

    rules: tuple[str, ...] = RULES
    owners: dict[str, str] = {}  # account -> beneficial owner
    wash_window_ns: int = 60 * SECOND
    wash_price_tolerance: int = 0  # price units
    spoof_min_qty: int = 5_000
    spoof_near_touch_bps: int = 20
    spoof_max_life_ns: int = 10 * SECOND
    spoof_max_fill_bps: int = 1_000
    layering_min_orders: int = 3
    close_window_ns: int = 10 * 60 * SECOND
    close_min_qty: int = 1_000
    close_share_bps: int = 6_000
    otr_min_orders: int = 100
    otr_max_ratio: int = 20
    restricted: dict[str, str] = {}  # instrument -> why it is restricted
    timezone: str = "America/New_York"
    open_time: str = "09:30"
    close_time: str = "16:00"
    bestex_tolerance_bps: int = 10  # a fill this far outside the venue's quote is an alert

    def owner(self, account: str) -> str:
        return self.owners.get(account, account)


def load_surveillance_config(data: bytes, *, toml: bool = True) -> SurveillanceConfig:
    """A config from TOML (default) or JSON bytes; unknown keys are an error."""
    if toml:
        import tomllib

        raw = tomllib.loads(data.decode())
        return msgspec.convert(raw, SurveillanceConfig)
    return msgspec.json.decode(data, type=SurveillanceConfig)
