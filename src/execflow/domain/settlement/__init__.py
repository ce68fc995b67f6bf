"""Settlement: obligations from fills, their status machine, a double-entry ledger and P&L.

Pure domain (standard library + msgspec). Importing this package registers the ``settlement.*``
event types with the event codec.
"""

from execflow.domain.settlement.events import (
    SETTLEMENT_EVENT_TYPES,
    JournalPosted,
    PostingRecord,
    SettlementCanceled,
    SettlementEvent,
    SettlementFailed,
    SettlementObligationCreated,
    SettlementSettled,
    SettlementStatusChanged,
    settlement_stream,
)
from execflow.domain.settlement.ledger import (
    Ledger,
    PositionView,
    UnbalancedEntryError,
    security_unit,
)
from execflow.domain.settlement.obligations import (
    TRANSITIONS,
    SettlementError,
    SettlementObligation,
    SettlementStatus,
    SettlementTransitionError,
    UnknownObligationError,
    fail_age,
)
from execflow.domain.settlement.pnl import CostMethod, PnLBook, PnLState, PnLTrade

__all__ = [
    "SETTLEMENT_EVENT_TYPES",
    "TRANSITIONS",
    "CostMethod",
    "JournalPosted",
    "Ledger",
    "PnLBook",
    "PnLState",
    "PnLTrade",
    "PositionView",
    "PostingRecord",
    "SettlementCanceled",
    "SettlementError",
    "SettlementEvent",
    "SettlementFailed",
    "SettlementObligation",
    "SettlementObligationCreated",
    "SettlementSettled",
    "SettlementStatus",
    "SettlementStatusChanged",
    "SettlementTransitionError",
    "UnbalancedEntryError",
    "UnknownObligationError",
    "fail_age",
    "security_unit",
    "settlement_stream",
]
