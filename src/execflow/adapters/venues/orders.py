"""The paper venue's record of one of our orders, and its acceptance rules.

A new order is checked with the engine's own rules (``validate_submit``: same codes, same
sentences) plus what only a venue knows: a duplicate client order id, a halted instrument.
"""

from __future__ import annotations

from typing import Final

from execflow.domain.commands import SubmitOrder
from execflow.domain.enums import TimeInForce, tif_of
from execflow.domain.errors import RejectCode
from execflow.domain.instruments import Instrument
from execflow.domain.reports import StatusFill, VenueOrder
from execflow.domain.validation import Rejection, validate_submit, validate_tif_change

OPEN: Final = "OPEN"
FILLED: Final = "FILLED"
CANCELED: Final = "CANCELED"
REJECTED: Final = "REJECTED"
EXPIRED: Final = "EXPIRED"


class OrderRecord:
    """What the venue knows of an order: state, current quantity/price, fills, book id."""

    __slots__ = (
        "book_oid",
        "cum",
        "expiry_gen",
        "fills",
        "order",
        "price",
        "quantity",
        "state",
        "tif",
        "venue_order_id",
    )

    def __init__(self, order: VenueOrder, venue_order_id: str | None, state: str) -> None:
        self.order = order
        self.venue_order_id = venue_order_id
        self.state = state
        self.quantity = order.quantity
        self.price = order.price
        self.tif: TimeInForce = tif_of(order.tif)  # a replace may change DAY <-> GTC
        self.expiry_gen = 0  # bumped when the time in force changes: older expiries are void
        self.cum = 0
        self.fills: list[StatusFill] = []
        self.book_oid = 0  # 0: not resting

    def finish(self, state: str) -> None:
        self.state = state
        self.book_oid = 0


def check_order(
    order: VenueOrder, instrument: Instrument | None, now_ns: int, *, duplicate: bool, halted: bool
) -> Rejection | None:
    if duplicate:
        return Rejection(
            RejectCode.DUPLICATE_CL_ORD_ID, f"client order id {order.cl_ord_id!r} already used"
        )
    if instrument is not None and halted:
        return Rejection(RejectCode.INSTRUMENT_HALTED, f"{instrument.id} is halted")
    cmd = SubmitOrder(
        cl_ord_id=order.cl_ord_id,
        account=order.account,
        instrument=order.instrument,
        side=order.side,
        order_type=order.order_type,
        quantity=order.quantity,
        price=order.price,
        tif=order.tif,
        expire_at=order.expire_at,
    )
    return validate_submit(cmd, instrument, now_ns)


def check_replace(
    rec: OrderRecord,
    instrument: Instrument,
    quantity: int,
    price: int | None,
    halted: bool,
    tif: TimeInForce | None = None,
) -> Rejection | None:
    """Rules for a replace of an open (resting, hence limit) order to ``quantity``/``price``."""
    if halted:
        return Rejection(RejectCode.INSTRUMENT_HALTED, f"{instrument.id} is halted")
    if quantity <= 0:
        return Rejection(RejectCode.NON_POSITIVE_QUANTITY, "quantity must be greater than zero")
    if quantity % instrument.lot_size:
        return Rejection(RejectCode.QUANTITY_OFF_LOT, "quantity is not a multiple of the lot size")
    if price is None or price <= 0:
        return Rejection(RejectCode.NON_POSITIVE_PRICE, "limit price must be positive")
    if price % instrument.tick_size:
        return Rejection(RejectCode.PRICE_OFF_TICK, "price is not a multiple of the tick size")
    if quantity <= rec.cum:
        return Rejection(
            RejectCode.REPLACE_BELOW_FILLED,
            f"new quantity {quantity} is not above the filled quantity {rec.cum}",
        )
    if tif is not None and tif != rec.tif:
        return validate_tif_change(rec.tif, tif)
    if quantity == rec.quantity and price == rec.price:
        return Rejection(RejectCode.REPLACE_NO_CHANGE, "neither quantity nor price changes")
    return None
