"""msgspec mirrors of the hot request schemas: decode + validate in one C pass.

:class:`SubmitOrderWire` accepts a *subset* of what the pydantic :class:`SubmitOrderBody`
accepts, with the same values: anything it rejects (or anything unusual, e.g. ``expire_at``)
goes through FastAPI's pydantic path, so clients see exactly the same 422 problem details. The
pydantic models stay the OpenAPI schema and the validator of record; this is only a fast lane
for well-formed requests.

Patterns end in ``\\Z``, not ``$``: msgspec matches with Python's ``re`` (where ``$`` also matches
before a final newline) and pydantic with Rust's regex (where it does not); ``\\Z`` keeps the two
identical.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

DECIMAL_PATTERN = r"^[0-9]{1,15}(\.[0-9]{1,9})?\Z"
ID_PATTERN_Z = r"^[A-Za-z0-9._:\-]{1,64}\Z"

Decimal = Annotated[str, msgspec.Meta(pattern=DECIMAL_PATTERN, max_length=25)]
SignedDecimal = Annotated[
    str, msgspec.Meta(pattern=r"^-?[0-9]{1,15}(\.[0-9]{1,9})?\Z", max_length=26)
]
Id = Annotated[str, msgspec.Meta(pattern=ID_PATTERN_Z)]
Short = Annotated[str, msgspec.Meta(max_length=32)]
Bps = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]


class SubmitOrderWire(msgspec.Struct, forbid_unknown_fields=True):
    """Mirror of :class:`execflow.api.schemas.SubmitOrderBody` (keep the two in step)."""

    instrument: Short
    side: Literal["BUY", "SELL"]
    quantity: Decimal
    price: Decimal | None = None
    order_type: (
        Literal[
            "MARKET", "LIMIT", "STOP", "STOP_LIMIT", "MARKET_IF_TOUCHED", "LIMIT_IF_TOUCHED",
            "TRAILING_STOP", "MARKET_TO_LIMIT",
        ]
        | None
    ) = None  # fmt: skip
    time_in_force: Literal["DAY", "GTC", "IOC", "FOK", "GTD", "AT_OPEN", "AT_CLOSE"] = "DAY"
    expire_at: str | None = None  # not parsed here: a request with one takes the pydantic path
    account: Id | None = None
    cl_ord_id: Id | None = None
    venue: Short | None = None
    # advanced orders (trail_bps: a JSON integer, strict in pydantic too)
    stop_price: Decimal | None = None
    trail_offset: Decimal | None = None
    trail_bps: Bps | None = None
    parent_id: Id | None = None
    decision_price: Decimal | None = None  # TCA's decision benchmark (docs/tca.md)
    # institutional instructions (docs/orders.md)
    peg: Literal["PRIMARY", "MARKET", "MIDPOINT"] | None = None
    peg_offset: SignedDecimal | None = None
    display_qty: Decimal | None = None
    min_qty: Decimal | None = None
    discretion_offset: Decimal | None = None
    not_held: bool = False
    conditional: bool = False
    firm_up_of: Id | None = None
    ioi_id: Id | None = None


submit_decoder = msgspec.json.Decoder(SubmitOrderWire)
encoder = msgspec.json.Encoder()


def decode_submit(body: bytes) -> SubmitOrderWire | None:
    """The order if ``body`` is a valid submit the fast lane handles, else None."""
    try:
        order = submit_decoder.decode(body)
    except msgspec.DecodeError:  # includes ValidationError
        return None
    return order if order.expire_at is None else None


def is_json(content_type: str | None) -> bool:
    """``application/json`` (with parameters): a subset of what FastAPI parses as JSON."""
    if not content_type:
        return False
    ct = content_type.lower()
    return ct == "application/json" or (
        ct.startswith("application/json") and ct[16:].lstrip().startswith(";")
    )
