"""Standing settlement instructions, sese.023 settlement instructions per custodian validated
against the shipped XSD, and the simulated custodian's statuses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import xmlschema

from execflow.adapters.custodian import SimulatedCustodian
from execflow.adapters.iso20022.sese023 import (
    from_xml,
    instructions_by_custodian,
    schema_path,
    to_xml,
    transaction_id,
    validate,
)
from execflow.application.ports import RecordedEvent
from execflow.application.settlement.service import SettlementService
from execflow.domain.enums import Side
from execflow.domain.errors import InvalidValueError
from execflow.domain.events import Event
from execflow.domain.settlement.obligations import SettlementStatus
from execflow.domain.settlement.ssi import (
    SsiBook,
    SsiMissingError,
    StandingSettlementInstruction,
)
from tests.unit.settlement.support import AAPL, INSTRUMENTS, NESN, SAP, Blotter, make_service

D = date
SSIS = SsiBook(
    [
        StandingSettlementInstruction("ACC1", "CUSTUS33", "SAFE-US-1", "DTCYUS33"),
        StandingSettlementInstruction("ACC1", "CUSTDEFF", "SAFE-EU-1", "DAKVDEFF", market="EU"),
        StandingSettlementInstruction(
            "ACC1", "PBRKGB2L", "PB-EUR-1", "DAKVDEFF", market="EU", currency="EUR",
            cash_account="PB-CASH-EUR", prime_broker=True,
        ),
        StandingSettlementInstruction("ACC2", "CUSTUS33", "SAFE-US-2", "DTCYUS33", market="US"),
    ]
)  # fmt: skip


def _feed(svc: SettlementService, events: list[Event]) -> None:
    svc.handle([RecordedEvent(i + 1, "x", i + 1, e) for i, e in enumerate(events)])


def test_the_most_specific_ssi_wins_and_a_missing_one_is_an_error() -> None:
    assert SSIS.resolve("ACC1", "US", "USD").custodian_bic == "CUSTUS33"
    assert SSIS.resolve("ACC1", "EU", "EUR").custodian_bic == "PBRKGB2L"  # market + currency
    assert SSIS.resolve("ACC1", "EU", "USD").custodian_bic == "CUSTDEFF"  # market only
    assert SSIS.resolve("ACC1", "CH", "CHF").custodian_bic == "CUSTUS33"  # the catch-all
    with pytest.raises(SsiMissingError):
        SSIS.resolve("ACC2", "CH", "CHF")
    assert SSIS.custodians() == ["CUSTDEFF", "CUSTUS33", "PBRKGB2L"]


def _service() -> SettlementService:
    svc = make_service()
    blotter = Blotter()
    _feed(svc, blotter.trade(SAP, Side.BUY, 10, 12345, D(2026, 10, 5), "ACC1", "XETR"))
    _feed(svc, blotter.trade(AAPL, Side.SELL, 30, 19050, D(2026, 10, 5), "ACC1", "XNAS"))
    _feed(svc, blotter.trade(AAPL, Side.BUY, 7, 19000, D(2026, 10, 5), "ACC2", "XNAS"))
    return svc


def test_sese023_per_custodian_validates_against_the_xsd() -> None:
    svc = _service()
    batches = instructions_by_custodian(svc.obligations(), SSIS, INSTRUMENTS.get)
    assert sorted(batches) == ["CUSTUS33", "PBRKGB2L"]
    assert batches["PBRKGB2L"].obligations == {"O1/E1": "O1/E1"}
    assert sorted(batches["CUSTUS33"].obligations) == ["O2/E2", "O3/E3"]
    schema = xmlschema.XMLSchema(str(schema_path()))
    for batch in batches.values():
        for doc in batch.documents:
            schema.validate(doc.decode())  # the XSD itself, not only our wrapper
            validate(doc)
    sap = from_xml(batches["PBRKGB2L"].documents[0])
    # buy 10 SAP @ 123.45 EUR: receive against a debit of 1,234.50 EUR at Clearstream Frankfurt
    assert (sap.movement, sap.quantity, sap.amount, sap.currency, sap.credit_debit) == (
        "RECE", Decimal(10), Decimal("1234.50"), "EUR", "DBIT",
    )  # fmt: skip
    assert (sap.place_of_settlement, sap.safekeeping_account, sap.cash_account) == (
        "DAKVDEFF", "PB-EUR-1", "PB-CASH-EUR",
    )  # fmt: skip
    assert (sap.settle_date, sap.counterparty, sap.price) == (
        D(2026, 10, 7), "XETR", Decimal("123.45"),
    )  # fmt: skip
    aapl = from_xml(batches["CUSTUS33"].documents[0])
    assert (aapl.movement, aapl.amount, aapl.credit_debit) == ("DELI", Decimal("5715.00"), "CRDT")
    text = batches["CUSTUS33"].documents[0].decode()
    assert "<RcvgSttlmPties>" in text and "<AnyBIC>DTCYUS33</AnyBIC>" in text
    assert to_xml(aapl) == batches["CUSTUS33"].documents[0]  # the round trip is exact


def test_an_invalid_document_is_refused_and_long_ids_are_hashed() -> None:
    svc = _service()
    doc = instructions_by_custodian(svc.obligations(), SSIS, INSTRUMENTS.get)["CUSTUS33"]
    bad = doc.documents[0].replace(b"<SctiesMvmntTp>DELI", b"<SctiesMvmntTp>SEND")
    with pytest.raises(InvalidValueError) as err:
        validate(bad)
    assert err.value.code == "SESE023_INVALID"
    long_id = "C" * 40 + "/E1"
    tx = transaction_id(long_id)
    assert len(tx) == 35 and tx.startswith("H") and tx == transaction_id(long_id)
    assert transaction_id("O1/E1") == "O1/E1"
    with pytest.raises(SsiMissingError):
        svc2 = make_service()
        _feed(svc2, Blotter().trade(NESN, Side.BUY, 1, 100, D(2026, 10, 5), "ACC2"))
        instructions_by_custodian(svc2.obligations(), SSIS, INSTRUMENTS.get)


def test_simulated_custodian_statuses() -> None:
    svc = _service()
    batches = instructions_by_custodian(svc.obligations(), SSIS, INSTRUMENTS.get)
    us = batches["CUSTUS33"]
    cust = SimulatedCustodian("CUSTUS33", svc, us.obligations, INSTRUMENTS.get, seed=1)
    got = [cust.receive(doc, D(2026, 10, 5)) for doc in us.documents]
    assert [(s.obligation_id, s.code) for s in got] == [("O2/E2", "MACH"), ("O3/E3", "MACH")]
    assert svc.obligation("O2/E2").status is SettlementStatus.AFFIRMED
    # a tampered amount does not match; a broken document is rejected; another custodian's
    # instruction is not ours
    tampered = us.documents[0].replace(b">5715.00<", b">5716.00<")
    assert cust.receive(tampered, D(2026, 10, 5)).code == "NMAT"
    assert cust.receive(b"<Document/>", D(2026, 10, 5)).code == "REJT"
    eu = batches["PBRKGB2L"]
    assert cust.receive(eu.documents[0], D(2026, 10, 5)).code == "NMAT"
    assert cust.run(D(2026, 10, 5)) == []  # nothing due before the settlement date
    statuses = cust.run(D(2026, 10, 6))
    assert [(s.obligation_id, s.code, s.quantity) for s in statuses] == [
        ("O2/E2", "SETT", 30), ("O3/E3", "SETT", 7),
    ]  # fmt: skip
    assert svc.obligation("O2/E2").status is SettlementStatus.SETTLED


def test_simulated_custodian_fails_and_partial_settlements() -> None:
    svc = _service()
    us = instructions_by_custodian(svc.obligations(), SSIS, INSTRUMENTS.get)["CUSTUS33"]
    failing = SimulatedCustodian("CUSTUS33", svc, us.obligations, INSTRUMENTS.get, fail_rate=1.0)
    for doc in us.documents:
        failing.receive(doc, D(2026, 10, 5))
    statuses = failing.run(D(2026, 10, 6))
    assert [(s.obligation_id, s.code) for s in statuses] == [("O2/E2", "PENF"), ("O3/E3", "PENF")]
    assert statuses[0].reason == "LACK"  # our delivery: lack of securities
    assert statuses[1].reason in ("MONY", "CLAC")
    assert svc.obligation("O2/E2").fail_reason == "insufficient securities"
    # the next day a partial: half of the 30 settles, the rest pends
    failing.fail_rate, failing.partial_rate = 0.0, 1.0
    statuses = failing.run(D(2026, 10, 7))
    assert [(s.obligation_id, s.code, s.quantity) for s in statuses] == [
        ("O2/E2", "PART", 15), ("O3/E3", "PART", 3),
    ]  # fmt: skip
    ob = svc.obligation("O2/E2")
    assert (ob.status, ob.settled_quantity) == (SettlementStatus.FAILED, 15)
