"""Request and response schemas of the REST API (pydantic v2), with OpenAPI examples.

Prices and quantities are decimal strings on the wire, converted exactly to the instrument's
fixed point by the service; never floats.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ID_PATTERN = r"^[A-Za-z0-9._:\-]{1,64}$"


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
            ]
        },
    )  # fmt: skip

    instrument: str = Field(max_length=32, description="instrument id, e.g. AAPL")
    side: Literal["BUY", "SELL"]
    quantity: str = Field(
        pattern=r"^[0-9]{1,15}(\.[0-9]{1,9})?$", max_length=25,
        description="decimal string; a multiple of the instrument's lot size",
    )  # fmt: skip
    price: str | None = Field(
        default=None, pattern=r"^[0-9]{1,15}(\.[0-9]{1,9})?$", max_length=25,
        description="limit price, decimal string on the tick; omit for a market order",
    )  # fmt: skip
    order_type: Literal["MARKET", "LIMIT"] | None = Field(
        default=None, description="default: LIMIT when a price is given, else MARKET"
    )
    time_in_force: Literal["DAY", "GTC", "IOC", "FOK", "GTD"] = "DAY"
    expire_at: datetime | None = Field(default=None, description="GTD only")
    account: str | None = Field(
        default=None, pattern=ID_PATTERN, description="default: the key's only account"
    )
    cl_ord_id: str | None = Field(
        default=None, pattern=ID_PATTERN, description="client order id; default: generated"
    )
    venue: str | None = Field(default=None, max_length=32, description="default: routed")


class ReplaceOrderBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"quantity": "200", "price": "190.45"}]},
    )
    quantity: str | None = Field(default=None, pattern=r"^[0-9]{1,15}(\.[0-9]{1,9})?$",
                                 max_length=25)  # fmt: skip
    price: str | None = Field(default=None, pattern=r"^[0-9]{1,15}(\.[0-9]{1,9})?$",
                              max_length=25)  # fmt: skip


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
                }
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


class OrderPage(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page")


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
    realized_pnl: str = Field(description="in the instrument's currency, average-cost method")
    traded_quantity: str
    fills: int


class PositionList(BaseModel):
    items: list[PositionOut]


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
