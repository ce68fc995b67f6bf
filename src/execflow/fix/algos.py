"""Algo orders over FIX (docs/algos.md, "FIX"): a NewOrderSingle (D) with TargetStrategy (847)
is an algo order, its parameters in StrategyParametersGrp: NoStrategyParameters (957) entries
of StrategyParameterName (958), StrategyParameterType (959, optional; when given it must be the
parameter's type) and StrategyParameterValue (960). A cancel/replace (G) of an algo order
amends it: OrderQty (38), Price (44), and the EndTime / ParticipationRate parameters.

The FIX names map to order entry's :class:`AlgoInput` fields; the values are decoded by their
FIX type (UTCTimestamp, Int, Percentage as a fraction, Float, Qty, Price, Boolean) and order
entry does the rest, so a bad value is refused with the same code and sentence as over REST.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Final

from execflow.application.algos.entry import AlgoInput, percent_of_fraction
from execflow.domain.algos.params import AlgoKind
from execflow.domain.errors import ExecflowError, RejectCode
from execflow.fix.errors import FixFieldError
from execflow.fix.message import FieldMap, Message

TARGET_STRATEGY: Final[Mapping[int, AlgoKind]] = {
    1000: AlgoKind.TWAP,
    1001: AlgoKind.VWAP,
    1002: AlgoKind.POV,
    1003: AlgoKind.IS,
    1004: AlgoKind.ICEBERG,
}
STRATEGY_OF: Final[Mapping[AlgoKind, int]] = {v: k for k, v in TARGET_STRATEGY.items()}

# StrategyParameterType (959)
INT, FLOAT, QTY, PRICE, PERCENTAGE, BOOLEAN, UTC_TIMESTAMP = 1, 6, 7, 8, 11, 13, 19

#: FIX parameter name -> (AlgoInput field, StrategyParameterType)
PARAMETERS: Final[Mapping[str, tuple[str, int]]] = {
    "StartTime": ("start_at", UTC_TIMESTAMP),
    "EndTime": ("end_at", UTC_TIMESTAMP),
    "Slices": ("slices", INT),
    "ParticipationRate": ("participation_pct", PERCENTAGE),
    "MinRate": ("min_rate_pct", PERCENTAGE),
    "MaxRate": ("max_rate_pct", PERCENTAGE),
    "Urgency": ("urgency", FLOAT),
    "RiskAversion": ("risk_aversion", FLOAT),
    "MinChild": ("min_child", QTY),
    "MaxChild": ("max_child", QTY),
    "DisplayQty": ("display_qty", QTY),
    "RandomizePct": ("randomize_pct", PERCENTAGE),
    "Seed": ("seed", INT),
    "WouldPrice": ("would_price", PRICE),
    "MaxSpreadBps": ("max_spread_bps", INT),
    "Passive": ("passive", BOOLEAN),
    "ImbalancePct": ("imbalance_pct", PERCENTAGE),
    "Adaptive": ("adaptive", BOOLEAN),
}
AMENDABLE: Final = frozenset({"EndTime", "ParticipationRate"})


def _bad(message: str) -> ExecflowError:
    return ExecflowError(message, RejectCode.INVALID_ALGO_PARAMS)


def _value(entry: FieldMap, name: str, ftype: int) -> object:
    try:
        if ftype == UTC_TIMESTAMP:
            return entry.get_timestamp(960)
        if ftype == INT:
            return entry.get_int(960)
        if ftype == BOOLEAN:
            return entry.get_bool(960)
        value = entry.get_decimal(960)
    except (FixFieldError, ValueError) as exc:
        raise _bad(f"StrategyParameterValue of {name} is not a valid value ({exc})") from None
    if value < 0:
        raise _bad(f"StrategyParameterValue of {name} must not be negative")
    if ftype == PERCENTAGE:
        return percent_of_fraction(value)
    return str(value) if ftype == FLOAT else value


def strategy_parameters(msg: Message, allowed: frozenset[str] | None = None) -> dict[str, object]:
    """The StrategyParametersGrp of ``msg`` as AlgoInput fields; an unknown name, a type that
    is not the parameter's or a bad value is refused, naming the parameter."""
    out: dict[str, object] = {}
    for entry in msg.groups(957):
        name = entry.get_str(958) if 958 in entry else ""
        spec = PARAMETERS.get(name)
        if spec is None or (allowed is not None and name not in allowed):
            known = ", ".join(sorted(allowed if allowed is not None else PARAMETERS))
            raise _bad(f"unknown strategy parameter {name!r} (known: {known})")
        field, ftype = spec
        if 959 in entry and entry.get_str(959) != str(ftype):
            raise _bad(f"StrategyParameterType of {name} must be {ftype}")
        if 960 not in entry:
            raise _bad(f"strategy parameter {name} has no StrategyParameterValue (960)")
        if field in out:
            raise _bad(f"strategy parameter {name} is given twice")
        out[field] = _value(entry, name, ftype)
    return out


def target_strategy(msg: Message) -> AlgoKind:
    try:
        code = msg.get_int(847)
    except (FixFieldError, ValueError):
        code = -1
    kind = TARGET_STRATEGY.get(code)
    if kind is None:
        known = ", ".join(f"{k} {v}" for k, v in TARGET_STRATEGY.items())
        raise _bad(f"TargetStrategy {msg.get_str(847)!r} is not one of {known}")
    return kind


def algo_input(msg: Message, side: str | int, account: str, venue: str | None) -> AlgoInput:
    """The algo order of a NewOrderSingle with TargetStrategy (847); its children go to
    ``venue`` (the gateway's, as its other orders)."""
    params = strategy_parameters(msg)
    return AlgoInput(
        algo=target_strategy(msg).value,
        instrument=msg.get_str(55),
        side=side,
        quantity=msg.get_decimal(38) if 38 in msg else None,
        price=msg.get_decimal(44) if 44 in msg else None,
        account=account,
        venue=venue,
        **params,  # type: ignore[arg-type]
    )


def amendment(msg: Message) -> dict[str, object]:
    """The changes of a cancel/replace (G) of an algo order: ``quantity``, ``price``,
    ``end_at``, ``participation_pct``."""
    out: dict[str, object] = strategy_parameters(msg, AMENDABLE)
    if 38 in msg:
        out["quantity"] = msg.get_decimal(38)
    if 44 in msg:
        out["price"] = msg.get_decimal(44)
    return out


def unchanged(value: Decimal, current: Decimal | None) -> bool:
    return current is not None and value == current
