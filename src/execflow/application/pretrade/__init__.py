"""Pre-trade risk: limits, checks, real-time exposure/P&L monitoring, alerts, kill switch.

See docs/risk.md. Entry point: :class:`RiskEngine` (a ``PreTradeCheck`` and an
``OrderObserver`` of the engine), configured by a :class:`RiskConfig` (``load_config``).
"""

from execflow.application.pretrade.config import (
    LimitSet,
    RiskConfig,
    RuleConfig,
    config_from_mapping,
    default_config,
    load_config,
)
from execflow.application.pretrade.monitor import Usage
from execflow.application.pretrade.risk_engine import RISK_STREAMS, RejectRecord, RiskEngine

__all__ = [
    "RISK_STREAMS",
    "LimitSet",
    "RejectRecord",
    "RiskConfig",
    "RiskEngine",
    "RuleConfig",
    "Usage",
    "config_from_mapping",
    "default_config",
    "load_config",
]
