"""Request and response schemas of the REST API (pydantic v2), with OpenAPI examples.

Prices and quantities are decimal strings on the wire, converted exactly to the instrument's
fixed point by the service; never floats.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

ID_PATTERN = r"^[A-Za-z0-9._:\-]{1,64}$"

# Times and dates on the wire are RFC 3339 strings, as the OpenAPI document says (format
# date-time / date). Pydantic alone would also take numbers (``0`` as 1970) and other shapes the
# document does not allow; these validators keep the server and the document in agreement.
_DATETIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _rfc3339_datetime(value: object) -> object:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATETIME_RE.match(value):
        raise ValueError("expected an RFC 3339 date-time such as 2026-03-02T15:30:00Z")
    return value


def _rfc3339_date(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE_RE.match(value):
        raise ValueError("expected a date such as 2026-03-02")
    return value


def _json_integer(value: object) -> object:
    """A JSON integer as JSON Schema counts it: ``2`` or ``2.0``, never ``true`` or ``"2"``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("expected an integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("expected an integer")
        return int(value)
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(_rfc3339_datetime)]
# constraints before the validator: the schema then says minimum/maximum
TrailBps = Annotated[int, Field(ge=0, le=1_000_000), BeforeValidator(_json_integer)]
IsoDate = Annotated[date, BeforeValidator(_rfc3339_date)]
AccountId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]


DECIMAL = r"^[0-9]{1,15}(\.[0-9]{1,9})?$"
SIGNED_DECIMAL = r"^-?[0-9]{1,15}(\.[0-9]{1,9})?$"
ORDER_TYPES = Literal[
    "MARKET", "LIMIT", "STOP", "STOP_LIMIT", "MARKET_IF_TOUCHED", "LIMIT_IF_TOUCHED",
    "TRAILING_STOP", "MARKET_TO_LIMIT",
]  # fmt: skip
TIME_IN_FORCES = Literal["DAY", "GTC", "IOC", "FOK", "GTD", "AT_OPEN", "AT_CLOSE"]
TYPE_DEFAULT = (
    "default: TRAILING_STOP with a trail, STOP (STOP_LIMIT with a price) with a stop price, "
    "else LIMIT with a price, else MARKET"
)


class OrderInstructionsOut(BaseModel):
    """An order's institutional instructions (decimals in the instrument's units)."""

    peg: str | None = None
    peg_offset: str | None = None
    display_qty: str | None = None
    min_qty: str | None = None
    discretion_offset: str | None = None
    not_held: bool = False
    conditional: bool = False
    firm_up_of: str | None = None
    ioi_id: str | None = None


class SubmitOrderBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "instrument": "AAPL", "side": "BUY", "quantity": "100", "price": "190.50",
                    "order_type": "LIMIT", "time_in_force": "DAY", "account": "ACC-1",
                    "cl_ord_id": "my-order-1",
                },
                {"instrument": "AAPL", "side": "SELL", "quantity": "10"},
                {
                    "instrument": "AAPL", "side": "BUY", "quantity": "100",
                    "order_type": "STOP_LIMIT", "stop_price": "190.50", "price": "190.70",
                    "time_in_force": "GTC",
                },
                {
                    "instrument": "AAPL", "side": "SELL", "quantity": "100",
                    "order_type": "TRAILING_STOP", "trail_offset": "0.50",
                },
                {
                    "instrument": "AAPL", "side": "BUY", "quantity": "200", "price": "190.00",
                    "parent_id": "P1", "cl_ord_id": "P1-slice-1",
                },
            ]
        },
    )  # fmt: skip

    instrument: str = Field(max_length=32, description="instrument id, e.g. AAPL")
    side: Literal["BUY", "SELL"]
    quantity: str = Field(
        pattern=DECIMAL, max_length=25,
        description="decimal string; a multiple of the instrument's lot size",
    )  # fmt: skip
    price: str | None = Field(
        default=None, pattern=DECIMAL, max_length=25,
        description="limit price (LIMIT, STOP_LIMIT, LIMIT_IF_TOUCHED), decimal string on the "
        "tick; omit for market, stop, if-touched market, trailing and market-to-limit orders",
    )  # fmt: skip
    order_type: ORDER_TYPES | None = Field(default=None, description=TYPE_DEFAULT)
    time_in_force: TIME_IN_FORCES = Field(
        default="DAY",
        description="AT_OPEN/AT_CLOSE only where the venue supports them (the paper venue "
        "does not: TIME_IN_FORCE_NOT_SUPPORTED); triggered types take DAY, GTC or GTD",
    )
    expire_at: IsoDateTime | None = Field(default=None, description="GTD only")
    account: str | None = Field(
        default=None, pattern=ID_PATTERN, description="default: the key's only account"
    )
    cl_ord_id: str | None = Field(
        default=None, pattern=ID_PATTERN, description="client order id; default: generated"
    )
    venue: str | None = Field(default=None, max_length=32, description="default: routed")
    stop_price: str | None = Field(
        default=None, pattern=DECIMAL, max_length=25,
        description="trigger price of STOP, STOP_LIMIT, MARKET_IF_TOUCHED, LIMIT_IF_TOUCHED; "
        "a TRAILING_STOP's first stop (optional)",
    )  # fmt: skip
    trail_offset: str | None = Field(
        default=None, pattern=DECIMAL, max_length=25,
        description="TRAILING_STOP: distance from the best price, a decimal price on the tick",
    )  # fmt: skip
    trail_bps: TrailBps | None = Field(
        default=None,
        description="TRAILING_STOP: distance in basis points of the best price (1 to 9999); "
        "either this or trail_offset",
    )  # fmt: skip
    parent_id: str | None = Field(
        default=None, pattern=ID_PATTERN,
        description="a child slice of this parent order (POST /v1/parents): same account, "
        "instrument and side, within the parent's quantity and limit",
    )  # fmt: skip
    decision_price: str | None = Field(
        default=None, pattern=DECIMAL, max_length=25,
        description="TCA: the price when the decision to trade was taken (the arrival / "
        "decision benchmark of implementation shortfall: delay cost = side x (arrival - "
        "decision) x filled); a decimal at the instrument's price decimals, not held to the "
        "tick; default: the arrival mid (docs/tca.md)",
    )  # fmt: skip
    # institutional instructions (docs/orders.md "Institutional order types"): LIMIT orders
    peg: Literal["PRIMARY", "MARKET", "MIDPOINT"] | None = Field(
        default=None,
        description="pegged: PRIMARY follows the same side's best price, MARKET the opposite "
        "side's, MIDPOINT the mid (not displayed); the limit price is the cap",
    )
    peg_offset: str | None = Field(
        default=None, pattern=SIGNED_DECIMAL, max_length=26,
        description="signed decimal on the tick, added to the peg's reference price",
    )  # fmt: skip
    display_qty: str | None = Field(
        default=None, pattern=DECIMAL, max_length=25,
        description="reserve (iceberg): the quantity shown, replenished at the back of the "
        "queue; 0: not displayed",
    )  # fmt: skip
    min_qty: str | None = Field(
        default=None, pattern=DECIMAL, max_length=25,
        description="minimum quantity: never executed below min(min_qty, leaves) in one match",
    )  # fmt: skip
    discretion_offset: str | None = Field(
        default=None, pattern=DECIMAL, max_length=25,
        description="discretion: may trade this far beyond the limit against hidden contra",
    )  # fmt: skip
    not_held: bool = Field(
        default=False, description="not held: the venue/broker has time and price discretion"
    )
    conditional: bool = Field(
        default=False,
        description="a dark pool conditional order: invited to firm up on a potential match "
        "(order.firm_up_requested), never trades itself (docs/routing.md)",
    )
    firm_up_of: str | None = Field(
        default=None, pattern=ID_PATTERN,
        description="this IOC order firms up that conditional order (same venue and account)",
    )  # fmt: skip
    ioi_id: str | None = Field(
        default=None, pattern=ID_PATTERN,
        description="the indication of interest this firm order answers (a negotiated block)",
    )  # fmt: skip


DecimalText = Annotated[str, Field(pattern=DECIMAL, max_length=25)]


class ReplaceOrderBody(BaseModel):
    """At least one field; each given field has a value (no ``null``): the document says so
    (``minProperties``, no null type) and the server enforces the same."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "minProperties": 1,
            "examples": [{"quantity": "200", "price": "190.45"}, {"stop_price": "189.90"}],
        },
    )
    quantity: DecimalText | SkipJsonSchema[None] = None
    price: DecimalText | SkipJsonSchema[None] = None
    stop_price: DecimalText | SkipJsonSchema[None] = Field(
        default=None,
        description="new trigger of an order the engine still holds (PENDING_TRIGGER, HELD); "
        "once triggered: 409 ALREADY_TRIGGERED",
    )
    time_in_force: Literal["DAY", "GTC"] | SkipJsonSchema[None] = Field(
        default=None,
        description="a working order's time in force can move between DAY and GTC; the venue "
        "confirms it like any replace",
    )

    @field_validator("quantity", "price", "stop_price", "time_in_force", mode="before")
    @classmethod
    def _no_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("give a value or leave the field out")
        return value

    @model_validator(mode="after")
    def _something(self) -> ReplaceOrderBody:
        if not self.model_fields_set:
            raise ValueError("give a new quantity, price, stop_price and/or time_in_force")
        return self


class OrderAck(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "cl_ord_id": "my-order-1", "status": "SUBMITTED", "account": "ACC-1",
                    "instrument": "AAPL", "side": "BUY", "order_type": "LIMIT",
                    "time_in_force": "DAY", "quantity": "100", "price": "190.50",
                }
            ]
        }
    )  # fmt: skip
    cl_ord_id: str
    status: str = Field(description="status once the order's events are durable")
    account: str
    instrument: str
    side: str
    order_type: str
    time_in_force: str
    quantity: str
    price: str | None
    stop_price: str | None = None
    trail_offset: str | None = None
    trail_bps: int | None = None
    parent_id: str | None = None


class CommandAck(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"cl_ord_id": "my-order-1", "status": "PENDING_CANCEL"}]}
    )
    cl_ord_id: str
    status: str


class OrderOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "cl_ord_id": "my-order-1", "account": "ACC-1", "instrument": "AAPL",
                    "side": "BUY", "order_type": "LIMIT", "time_in_force": "DAY",
                    "quantity": "100", "price": "190.50", "status": "PARTIALLY_FILLED",
                    "filled_quantity": "40", "leaves_quantity": "60", "average_price": "190.49",
                    "venue": "PAPER", "venue_order_id": "PAPER-O17", "reject_code": None,
                    "reject_reason": None, "expire_at": None,
                    "created_at": "2024-05-01T14:30:00.000001Z",
                    "updated_at": "2024-05-01T14:30:00.004100Z", "version": 4,
                    "stop_price": None, "trigger_price": None, "trail_offset": None,
                    "trail_bps": None, "group_id": None, "role": None, "parent_id": None,
                    "is_parent": False,
                },
                {
                    "cl_ord_id": "G1-SL", "account": "ACC-1", "instrument": "AAPL",
                    "side": "SELL", "order_type": "STOP", "time_in_force": "DAY",
                    "quantity": "100", "price": None, "status": "PENDING_TRIGGER",
                    "filled_quantity": "0", "leaves_quantity": "100", "average_price": None,
                    "venue": None, "venue_order_id": None, "reject_code": None,
                    "reject_reason": None, "expire_at": None,
                    "created_at": "2024-05-01T14:30:00.000001Z",
                    "updated_at": "2024-05-01T14:30:02.000100Z", "version": 4,
                    "stop_price": "187.00", "trigger_price": None, "trail_offset": None,
                    "trail_bps": None, "group_id": "G1", "role": "stop_loss", "parent_id": None,
                    "is_parent": False,
                },
            ]
        }
    )  # fmt: skip
    cl_ord_id: str
    account: str
    instrument: str
    side: str
    order_type: str
    time_in_force: str
    quantity: str
    price: str | None
    status: str
    filled_quantity: str
    leaves_quantity: str
    average_price: str | None
    venue: str | None
    venue_order_id: str | None
    reject_code: str | None
    reject_reason: str | None
    expire_at: str | None
    created_at: str | None
    updated_at: str | None
    version: int
    stop_price: str | None = Field(
        default=None, description="trigger in force (a trailing stop's current stop)"
    )
    trigger_price: str | None = Field(
        default=None, description="the market price that triggered the order"
    )
    trail_offset: str | None = None
    trail_bps: int | None = None
    group_id: str | None = Field(default=None, description="contingent group (/v1/groups)")
    role: str | None = Field(
        default=None,
        description="role in the group: leg, primary, secondary, entry, take_profit, stop_loss",
    )
    parent_id: str | None = Field(default=None, description="the parent of a child order")
    is_parent: bool = Field(default=False, description="a parent order (never at a venue)")
    instructions: OrderInstructionsOut | None = Field(
        default=None, description="institutional instructions (docs/orders.md), if any"
    )


class OrderPage(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page")


class GroupBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "group_id": "G-oco-1", "kind": "OCO",
                    "orders": [
                        {"instrument": "AAPL", "side": "SELL", "quantity": "100",
                         "price": "195.00"},
                        {"instrument": "AAPL", "side": "SELL", "quantity": "100",
                         "order_type": "STOP", "stop_price": "187.00"},
                    ],
                },
                {
                    "kind": "OTO",
                    "orders": [
                        {"instrument": "AAPL", "side": "BUY", "quantity": "100",
                         "price": "190.00"},
                        {"instrument": "MSFT", "side": "SELL", "quantity": "50",
                         "price": "420.00"},
                    ],
                },
            ]
        },
    )  # fmt: skip
    group_id: str | None = Field(
        default=None, pattern=ID_PATTERN, description="unique group id; default: generated"
    )
    kind: Literal["OCO", "OTO", "OUO"] = Field(
        description="OCO: the first fill on a leg cancels the others; OUO: a fill reduces the "
        "others; OTO: the first order is the primary, the others go out once it is done"
    )
    orders: list[SubmitOrderBody] = Field(
        min_length=2, max_length=10,
        description="members (cl_ord_id default: <group_id>-1, -2, ...), all of one account",
    )  # fmt: skip


class ExitOrderBody(BaseModel):
    """A bracket exit: instrument, quantity and account default to the entry's, side to the
    opposite side."""

    model_config = ConfigDict(extra="forbid")
    instrument: str | None = Field(default=None, max_length=32)
    side: Literal["BUY", "SELL"] | None = None
    quantity: str | None = Field(default=None, pattern=DECIMAL, max_length=25)
    price: str | None = Field(default=None, pattern=DECIMAL, max_length=25)
    order_type: ORDER_TYPES | None = Field(default=None, description=TYPE_DEFAULT)
    time_in_force: TIME_IN_FORCES = "DAY"
    expire_at: IsoDateTime | None = None
    account: str | None = Field(default=None, pattern=ID_PATTERN)
    cl_ord_id: str | None = Field(
        default=None, pattern=ID_PATTERN, description="default: <group_id>-TP / <group_id>-SL"
    )
    venue: str | None = Field(default=None, max_length=32)
    stop_price: str | None = Field(default=None, pattern=DECIMAL, max_length=25)
    trail_offset: str | None = Field(default=None, pattern=DECIMAL, max_length=25)
    trail_bps: TrailBps | None = None


class BracketBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "group_id": "B1",
                    "entry": {"instrument": "AAPL", "side": "BUY", "quantity": "100",
                              "price": "190.00"},
                    "take_profit": {"price": "195.00"},
                    "stop_loss": {"stop_price": "187.00"},
                }
            ]
        },
    )  # fmt: skip
    group_id: str | None = Field(default=None, pattern=ID_PATTERN, description="default: generated")
    entry: SubmitOrderBody = Field(description="cl_ord_id default: <group_id>-E")
    take_profit: ExitOrderBody | None = Field(
        default=None, description="LIMIT, LIMIT_IF_TOUCHED or MARKET_IF_TOUCHED"
    )
    stop_loss: ExitOrderBody | None = Field(
        default=None, description="STOP, STOP_LIMIT or TRAILING_STOP"
    )


class ParentOrderBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"instrument": "AAPL", "side": "BUY", "quantity": "1000", "price": "191.00",
                 "cl_ord_id": "P1"}
            ]
        },
    )  # fmt: skip
    instrument: str = Field(max_length=32)
    side: Literal["BUY", "SELL"]
    quantity: str = Field(pattern=DECIMAL, max_length=25)
    price: str | None = Field(
        default=None, pattern=DECIMAL, max_length=25,
        description="a limit no child may be worse than; omit: children at any price",
    )  # fmt: skip
    time_in_force: Literal["DAY", "GTC", "GTD"] = "DAY"
    expire_at: IsoDateTime | None = Field(default=None, description="GTD only")
    account: str | None = Field(default=None, pattern=ID_PATTERN)
    cl_ord_id: str | None = Field(default=None, pattern=ID_PATTERN)
    decision_price: str | None = Field(
        default=None, pattern=DECIMAL, max_length=25,
        description="TCA: the price when the decision to trade was taken (the arrival / "
        "decision benchmark of implementation shortfall: delay cost = side x (arrival - "
        "decision) x filled); a decimal at the instrument's price decimals, not held to the "
        "tick; default: the arrival mid (docs/tca.md)",
    )  # fmt: skip


class GroupMemberOut(BaseModel):
    cl_ord_id: str
    role: str
    quantity: str = Field(description="the quantity the group intends for this member")


class GroupAck(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "group_id": "B1", "kind": "BRACKET", "status": "ACCEPTED", "account": "ACC-1",
                    "members": [
                        {"cl_ord_id": "B1-E", "role": "entry", "quantity": "100"},
                        {"cl_ord_id": "B1-TP", "role": "take_profit", "quantity": "100"},
                        {"cl_ord_id": "B1-SL", "role": "stop_loss", "quantity": "100"},
                    ],
                }
            ]
        }
    )  # fmt: skip
    group_id: str
    kind: str
    status: str
    account: str
    members: list[GroupMemberOut]


class GroupOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "group_id": "G-oco-1", "kind": "OCO", "account": "ACC-1", "status": "OPEN",
                    "members": [
                        {"cl_ord_id": "G-oco-1-1", "role": "leg", "quantity": "100"},
                        {"cl_ord_id": "G-oco-1-2", "role": "leg", "quantity": "100"},
                    ],
                    "orders": [],
                }
            ]
        }
    )  # fmt: skip
    group_id: str
    kind: str
    account: str
    status: Literal["OPEN", "CANCELING", "DONE"]
    members: list[GroupMemberOut]
    orders: list[OrderOut] = Field(description="the members' current state, in member order")


class GroupCommandAck(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"group_id": "G-oco-1", "status": "PENDING_CANCEL"}]}
    )
    group_id: str
    status: str


NEXT_CURSOR = "pass as ?cursor= for the next page; null on the last page"
MAX_BULK = 1000


class BulkOrderBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    orders: list[SubmitOrderBody] = Field(
        min_length=1, max_length=MAX_BULK, description="each as for POST /v1/orders"
    )


class BulkOrderResult(BaseModel):
    index: int = Field(description="position of the order in the request")
    status: int = Field(description="what POST /v1/orders would have answered: 201, 409, ...")
    order: OrderAck | None = Field(default=None, description="the acknowledgement (201)")
    problem: Problem | None = Field(default=None, description="the refusal (otherwise)")


class BulkOrderAck(BaseModel):
    accepted: int
    refused: int
    results: list[BulkOrderResult]


class EventOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    seq: int = Field(description="global event position")
    type: str = Field(examples=["order.filled"])
    stream: str
    version: int
    cl_ord_id: str | None
    account: str | None
    instrument: str | None
    time: str | None
    data: dict[str, Any]


class EventList(BaseModel):
    items: list[EventOut]
    next_cursor: str | None = Field(default=None, description=NEXT_CURSOR)


class ExecutionOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "seq": 1042, "exec_id": "PAPER-x-E17", "cl_ord_id": "my-order-1",
                    "account": "ACC-1", "instrument": "AAPL", "side": "BUY", "quantity": "40",
                    "price": "190.49", "liquidity": "TAKER", "venue": "PAPER",
                    "executed_at": "2024-05-01T14:30:00.004100Z",
                }
            ]
        }
    )  # fmt: skip
    seq: int = Field(description="global event position of the fill")
    exec_id: str
    cl_ord_id: str
    account: str
    instrument: str
    side: str
    quantity: str
    price: str | None
    liquidity: str
    venue: str
    executed_at: str | None


class ExecutionPage(BaseModel):
    items: list[ExecutionOut]
    next_after: int | None = Field(description="pass as ?after= for the next page")
    next_cursor: str | None = Field(default=None, description=NEXT_CURSOR)


class PositionOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "account": "ACC-1", "instrument": "AAPL", "currency": "USD",
                    "net_quantity": "100", "average_cost": "190.4950", "realized_pnl": "12.50",
                    "traded_quantity": "300", "fills": 7,
                }
            ]
        }
    )  # fmt: skip
    account: str
    instrument: str
    currency: str | None
    net_quantity: str = Field(description="signed: negative is short")
    average_cost: str | None
    realized_pnl: str = Field(
        description="in the instrument's currency, average-cost method, net of fees: the "
        "settlement book's realised P&L for the same fills (each fill's cash rounded to the "
        "currency's minor unit)"
    )
    traded_quantity: str
    fills: int


class PositionList(BaseModel):
    items: list[PositionOut]
    next_cursor: str | None = Field(default=None, description=NEXT_CURSOR)


class SettlementOut(BaseModel):
    market: str
    days: int


class InstrumentOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "AAPL", "currency": "USD", "asset_class": "EQUITY", "tick_size": "0.01",
                    "lot_size": "1", "price_decimals": 2, "qty_decimals": 0,
                    "default_venue": "PAPER", "settlement": {"market": "US", "days": 1},
                    "multiplier": 1,
                }
            ]
        }
    )  # fmt: skip
    id: str
    currency: str
    asset_class: str
    tick_size: str
    lot_size: str
    price_decimals: int
    qty_decimals: int
    default_venue: str | None
    settlement: SettlementOut
    multiplier: int


class InstrumentList(BaseModel):
    items: list[InstrumentOut]
    next_cursor: str | None = Field(default=None, description=NEXT_CURSOR)


class VenuesOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "position": 1042,
                    "venues": {
                        "PAPER": {"venue": "PAPER", "status": "up", "sent": 20, "fills": 31,
                                  "fill_rate": 0.95, "reject_rate": 0.0,
                                  "fees": {"USD": "0.60"}},
                    },
                }
            ]
        }
    )  # fmt: skip
    position: int = Field(description="log position the statistics are folded up to")
    venues: dict[str, dict[str, Any]] = Field(
        description="per venue: status (up/down), down_reason, unknown_orders, sent, acked, "
        "rejected, ack_overdue, reject_rate, fills, filled_qty, fill_rate, maker_share, "
        "price_improvement_bps, fees and venue_fees per currency (decimal strings, + = paid), "
        "latency_ns (ack, first_fill), markouts (per horizon 1s/5s/60s: fills, mean_bps, "
        "qty_weighted_bps; + = the mid moved in the fill's favour; null: none measured yet)"
    )


class MonitoringOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "engine": {"position": 1042, "inbox": 0, "commands": 210, "events": 1042},
                    "execution": {"orders": 200, "fills": 180},
                    "api": {"ws_clients": 3, "grpc_streams": 0, "rate_limited": 0},
                }
            ]
        }
    )  # fmt: skip
    engine: dict[str, Any]
    execution: dict[str, Any] | None = Field(
        description="the execution monitoring projection's snapshot (null when not wired)"
    )
    api: dict[str, Any]


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    engine_running: bool
    position: int


class Problem(BaseModel):
    """RFC 9457 problem details, with our machine-readable ``code``."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "https://execflow.dev/problems/price-off-tick",
                    "title": "Unprocessable request", "status": 422,
                    "detail": "AAPL: price 190.505 is not a multiple of the tick size 0.01",
                    "instance": "/v1/orders", "code": "PRICE_OFF_TICK",
                }
            ]
        },
    )  # fmt: skip
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    code: str
