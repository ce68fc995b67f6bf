"""Event and record fields by what they hold, for every surface that turns integers into
decimals for people or programs (REST/WebSocket event views, CLI output): one list, so a new
price or quantity field is added once."""

from __future__ import annotations

from typing import Final

# fields holding prices in the instrument's price units (offsets too: same scale)
PRICE_FIELDS: Final = frozenset(
    {"price", "last_px", "bid", "ask", "nbbo_bid", "nbbo_ask", "arrival_mid", "stop_price",
     "limit_price", "new_price", "trigger_px", "trigger_price", "ref_px", "reference_price",
     "avg_px", "mark", "trail_offset", "decision_px"}
)  # fmt: skip

# fields holding quantities in the instrument's quantity units
QTY_FIELDS: Final = frozenset(
    {"quantity", "last_qty", "cum_qty", "leaves_qty", "new_quantity", "filled_qty", "qty",
     "min_qty", "max_qty"}
)  # fmt: skip
