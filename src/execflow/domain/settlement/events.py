"""Settlement events: what happened to an obligation and to the ledger, tagged ``settlement.*``.

They follow the rules of :mod:`execflow.domain.events`: frozen msgspec structs, integers and
strings only (dates are ``datetime.date``, which msgspec writes as an ISO ``YYYY-MM-DD`` string),
never floats. FX rates travel as exact decimal strings. The state of every obligation and of the
ledger is the fold of these events (see :meth:`SettlementObligation.apply` and
:meth:`Ledger.post`), so a settlement service can be rebuilt from its own stream.
"""

from __future__ import annotations

from datetime import date

import msgspec

from execflow.domain.enums import Side
from execflow.domain.events import Event, register_event_types

SETTLEMENT_STREAM_PREFIX = "settlement-"


def settlement_stream(obligation_id: str) -> str:
    """Event stream of one obligation (its journal entries go to the same stream)."""
    return SETTLEMENT_STREAM_PREFIX + obligation_id


class SettlementEvent(Event, frozen=True, kw_only=True, gc=False):
    """Every settlement event names its obligation and the order, account and instrument it
    belongs to, so account-, instrument- and order-filtered streams receive it (empty in logs
    written before these fields existed)."""

    obligation_id: str
    cl_ord_id: str = ""
    account: str = ""
    instrument: str = ""


class SettlementObligationCreated(
    SettlementEvent, frozen=True, kw_only=True, gc=False, tag="settlement.obligation_created"
):
    """A fill became an obligation to deliver/receive securities against cash."""

    cl_ord_id: str
    exec_id: str
    account: str
    instrument: str
    side: Side
    quantity: int  # security leg, in the instrument's quantity units (always > 0)
    price: int  # in the instrument's price units
    cash_amount: int  # cash leg, minor units of ``currency`` (always >= 0; direction from side)
    currency: str
    trade_date: date
    intended_settle_date: date
    market: str
    venue: str  # the counterparty: the venue / its CCP
    custodian_account: str
    # FX leg, when the trade currency differs from the account's base currency:
    fx_base_currency: str = ""
    fx_rate: str = ""  # units of base currency per one unit of ``currency``, exact decimal
    fx_base_amount: int = 0  # minor units of the base currency (always >= 0)
    corrects: str = ""  # obligation id this one replaces (trade correction)
    # fees (docs/adr/0007-fees-on-fills.md): ``cash_amount`` is the NET cash that settles
    # (a buy pays notional + fees, a sell receives notional - fees); the gross stays visible:
    gross_amount: int = 0  # the notional, minor units of ``currency`` (0 in older logs: = cash)
    fee_amount: int = 0  # the fill's fees, minor units of ``currency`` (+ = paid)


class SettlementStatusChanged(
    SettlementEvent, frozen=True, kw_only=True, gc=False, tag="settlement.status_changed"
):
    """MATCHED, AFFIRMED, or a retry of a failed obligation (FAILED -> AFFIRMED)."""

    from_status: str
    to_status: str
    on_date: date
    reason: str = ""


class SettlementFailed(
    SettlementEvent, frozen=True, kw_only=True, gc=False, tag="settlement.failed"
):
    """A settlement attempt failed; ``age_days`` counts business days past the intended date."""

    on_date: date
    reason: str
    age_days: int
    retry_date: date | None = None


class SettlementSettled(
    SettlementEvent, frozen=True, kw_only=True, gc=False, tag="settlement.settled"
):
    """Securities and cash moved (all of what remained, or part of it: ``complete`` says)."""

    on_date: date
    quantity: int
    cash_amount: int
    fx_base_amount: int = 0
    complete: bool = True


class SettlementCanceled(
    SettlementEvent, frozen=True, kw_only=True, gc=False, tag="settlement.canceled"
):
    """The obligation will not settle (trade bust or correction); its entries are reversed."""

    on_date: date
    reason: str
    replaced_by: str = ""


def allocation_id(block_cl_ord_id: str) -> str:
    """Id (and settlement stream suffix) of a block order's allocation."""
    return f"ALLOC-{block_cl_ord_id}"


class SettlementAllocationInstructed(
    SettlementEvent, frozen=True, kw_only=True, gc=False, tag="settlement.allocation_instructed"
):
    """How a block order (``cl_ord_id``) is to be split; ``obligation_id`` is the allocation's
    id (:func:`allocation_id`). Quantities (pre-trade: they add up to the order's quantity) or
    weights, one per account (docs/settlement.md "Allocations")."""

    accounts: tuple[str, ...]
    quantities: tuple[int, ...] = ()
    weights: tuple[int, ...] = ()
    pre_trade: bool = False


class SettlementAllocated(
    SettlementEvent, frozen=True, kw_only=True, gc=False, tag="settlement.allocated"
):
    """A block's fills were allocated at their average price: the block's obligations
    (``block_obligations``) are canceled and replaced by one obligation per account
    (``obligations``, in the order of ``accounts``)."""

    on_date: date
    block_obligations: tuple[str, ...]
    accounts: tuple[str, ...]
    quantities: tuple[int, ...]
    gross_amounts: tuple[int, ...]  # minor units of the instrument's currency
    fee_amounts: tuple[int, ...]
    obligations: tuple[str, ...]
    average_price: str  # exact average, decimal text at the price decimals + 4
    quantity: int  # filled quantity of the block
    gross_amount: int  # the block's notional, rounded once


class SettlementCorporateAction(
    SettlementEvent, frozen=True, kw_only=True, gc=False, tag="settlement.corporate_action"
):
    """One step of a corporate action for one account (``obligation_id`` =
    ``CA-<action id>/<step>/<account>``; its journal entry follows on the same stream).

    ``step``: ``split`` (also reverse splits and stock dividends), ``symbol_change``,
    ``dividend_entitlement`` (record date) or ``dividend_paid`` (pay date)."""

    action_id: str
    step: str
    on_date: date
    quantity_before: int = 0  # the account's trade-date position before (quantity units)
    quantity_after: int = 0
    split_new: int = 0
    split_old: int = 0
    new_instrument: str = ""  # symbol change
    cash_amount: int = 0  # cash in lieu / dividend, minor units of ``currency`` (+ = received)
    currency: str = ""
    cash_in_lieu_price: int = 0  # price units after the split


def corporate_action_id(action_id: str, step: str, account: str) -> str:
    return f"CA-{action_id}/{step}/{account}"


class PostingRecord(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """One line of a journal entry: ``amount`` minor units (or quantity units) of ``unit``."""

    account: str
    unit: str
    amount: int


class JournalPosted(Event, frozen=True, kw_only=True, gc=False, tag="settlement.journal_posted"):
    """A balanced journal entry was posted. Entries are never edited, only reversed."""

    entry_id: str
    obligation_id: str
    booking_date: date
    value_date: date
    description: str
    postings: tuple[PostingRecord, ...]
    reverses: str = ""  # entry id this entry reverses
    # the order, account and instrument of the obligation (for filtered streams; empty in logs
    # written before these fields existed)
    cl_ord_id: str = ""
    account: str = ""
    instrument: str = ""


SETTLEMENT_EVENT_TYPES: tuple[type[Event], ...] = (
    SettlementObligationCreated,
    SettlementStatusChanged,
    SettlementFailed,
    SettlementSettled,
    SettlementCanceled,
    JournalPosted,
    SettlementAllocationInstructed,
    SettlementAllocated,
    SettlementCorporateAction,
)

register_event_types(*SETTLEMENT_EVENT_TYPES)
