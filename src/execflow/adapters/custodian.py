"""A simulated custodian that receives sese.023 settlement instructions and answers with
statuses, the way a custodian's status advices (sese.024) and confirmations (sese.025) do.

``receive(document)`` validates the XML against the XSD (an invalid one is rejected, ``REJT``)
and matches it with the obligation it names (``MACH``: the obligation is matched and
affirmed; unknown or different in quantity, amount, date or direction: ``NMAT``). ``run(day)``
attempts every matched instruction due that day: it settles (``SETT``), settles part of it
(``PART``: the rest pends failing), or fails (``PENF`` with an ISO reason code: ``LACK`` lack
of securities, ``MONY`` insufficient money, ``CLAC`` the counterparty lacks securities), with a
seeded random draw so runs are reproducible. Each status is applied to the settlement service
(match, affirm, settle, fail, retry) and returned.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from execflow.adapters.iso20022.sese023 import SettlementInstruction, from_xml, validate
from execflow.application.settlement.service import SettlementService
from execflow.domain.enums import Side
from execflow.domain.errors import InvalidValueError
from execflow.domain.instruments import Instrument
from execflow.domain.numbers import currency_decimals, from_scaled
from execflow.domain.settlement.obligations import (
    SettlementObligation,
    SettlementStatus,
    UnknownObligationError,
)

REASONS = {
    "LACK": "insufficient securities",
    "MONY": "insufficient cash",
    "CLAC": "counterparty failed to deliver",
}


@dataclass(frozen=True, slots=True)
class CustodianStatus:
    tx_id: str
    obligation_id: str
    code: str  # REJT, NMAT, MACH, SETT, PART, PENF
    status: str  # rejected, unmatched, matched, settled, partially settled, failed
    on: date | None = None
    quantity: int = 0  # settled (SETT, PART)
    reason: str = ""  # ISO reason code for PENF/NMAT/REJT


class SimulatedCustodian:
    def __init__(
        self,
        bic: str,
        service: SettlementService,
        obligations: dict[str, str],
        instruments: Callable[[str], Instrument | None],
        *,
        fail_rate: float = 0.0,
        partial_rate: float = 0.0,
        seed: int = 0,
    ) -> None:
        """``obligations``: TxId -> obligation id (an ``InstructionBatch``'s map)."""
        self.bic = bic
        self.service = service
        self.obligations = dict(obligations)
        self.instruments = instruments
        self.fail_rate = fail_rate
        self.partial_rate = partial_rate
        self.rng = random.Random(seed)
        self.matched: dict[str, str] = {}  # TxId -> obligation id

    def receive(self, document: bytes, on: date) -> CustodianStatus:
        try:
            validate(document)
            ins = from_xml(document)
        except InvalidValueError as exc:
            return CustodianStatus("", "", "REJT", "rejected", on, reason=exc.message)
        oid = self.obligations.get(ins.tx_id, "")
        try:
            ob = self.service.obligation(oid)
        except UnknownObligationError:
            return CustodianStatus(ins.tx_id, oid, "NMAT", "unmatched", on, reason="NCRR")
        instrument = self.instruments(ob.instrument)
        if ins.custodian_bic != self.bic or instrument is None:
            return CustodianStatus(ins.tx_id, oid, "NMAT", "unmatched", on, reason="NCRR")
        if _differs(ins, ob, instrument):
            return CustodianStatus(ins.tx_id, oid, "NMAT", "unmatched", on, reason="DDAT")
        if ob.status is SettlementStatus.PENDING:
            self.service.match(oid, on)
        if ob.status in (SettlementStatus.PENDING, SettlementStatus.MATCHED):
            self.service.affirm(oid, on)
        self.matched[ins.tx_id] = oid
        return CustodianStatus(ins.tx_id, oid, "MACH", "matched", on)

    def run(self, on: date) -> list[CustodianStatus]:
        out = []
        svc = self.service
        for tx_id, oid in sorted(self.matched.items()):
            ob = svc.obligation(oid)
            if not ob.is_open or not svc.calendar.is_business_day(on, ob.market):
                continue
            if ob.status is SettlementStatus.FAILED:
                if ob.next_attempt is None or ob.next_attempt > on:
                    continue
                svc.retry(oid, on)
                ob = svc.obligation(oid)
            if ob.intended_settle_date > on:
                continue
            draw = self.rng.random()
            if draw < self.fail_rate:
                code = "LACK" if ob.side is Side.SELL else self.rng.choice(("MONY", "CLAC"))
                svc.fail(oid, REASONS[code], on)
                out.append(CustodianStatus(tx_id, oid, "PENF", "failed", on, reason=code))
            elif draw < self.fail_rate + self.partial_rate and ob.remaining_quantity > 1:
                part = ob.remaining_quantity // 2
                svc.settle(oid, on, quantity=part)
                svc.fail(oid, REASONS["LACK"], on)
                out.append(CustodianStatus(tx_id, oid, "PART", "partially settled", on, part))
            else:
                qty = ob.remaining_quantity
                svc.settle(oid, on)
                out.append(CustodianStatus(tx_id, oid, "SETT", "settled", on, qty))
        return out


def _differs(ins: SettlementInstruction, ob: SettlementObligation, instrument: Instrument) -> bool:
    """The instruction does not say what the obligation (still) is: direction, instrument,
    settlement date, quantity, currency or amount (``DDAT``, ISO's "deal date/details")."""
    movement = "RECE" if ob.side is Side.BUY else "DELI"
    cash = from_scaled(ob.remaining_cash, currency_decimals(ob.currency))
    said = (ins.movement, ins.instrument, ins.settle_date, ins.quantity, ins.currency, ins.amount)
    qty = instrument.qty_to_decimal(ob.remaining_quantity)
    return said != (movement, ob.instrument, ob.intended_settle_date, qty, ob.currency, cash)
