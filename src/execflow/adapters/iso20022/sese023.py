"""Settlement instructions as ISO 20022 sese.023 (SecuritiesSettlementTransactionInstruction)
XML, a subset with our own XSD (``schemas/sese.023.subset.xsd``, namespace
:data:`NAMESPACE`), one document per obligation, grouped per custodian by the account's
standing settlement instructions.

Writing needs only the standard library (``xml.etree``); :func:`validate` needs the
``iso20022`` extra (``xmlschema``). Amounts and quantities are decimals at the currency's and
instrument's scale, never floats.

``TxId`` is the obligation id when it fits the 35 characters of ISO's ``Max35Text``; a longer
one is replaced by ``H`` + 34 hex digits of its BLAKE2b hash (:func:`transaction_id`), and
:class:`InstructionBatch` keeps the map back.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from execflow.domain.enums import Side
from execflow.domain.errors import InvalidValueError
from execflow.domain.instruments import Instrument
from execflow.domain.numbers import currency_decimals, from_scaled
from execflow.domain.settlement.obligations import SettlementObligation
from execflow.domain.settlement.ssi import SsiBook, StandingSettlementInstruction
from execflow.extras import require

NAMESPACE = "urn:execflow:iso20022:sese.023.001.09:subset:1"
_NS = f"{{{NAMESPACE}}}"


def schema_path() -> Path:
    ref = resources.files("execflow.adapters.iso20022") / "schemas" / "sese.023.subset.xsd"
    return Path(str(ref))


def transaction_id(obligation_id: str) -> str:
    if len(obligation_id) <= 35:
        return obligation_id
    return "H" + hashlib.blake2b(obligation_id.encode(), digest_size=17).hexdigest()


@dataclass(frozen=True, slots=True)
class SettlementInstruction:
    tx_id: str
    movement: str  # RECE (we receive the securities) or DELI
    trade_date: date
    settle_date: date
    instrument: str
    quantity: Decimal
    currency: str
    amount: Decimal  # the cash leg, >= 0; debit for a receipt, credit for a delivery
    price: Decimal | None
    safekeeping_account: str
    cash_account: str
    custodian_bic: str
    place_of_settlement: str
    counterparty: str  # the venue / CCP (a MIC or a name)
    partial_allowed: bool = True
    isin: str = ""

    @property
    def credit_debit(self) -> str:
        return "DBIT" if self.movement == "RECE" else "CRDT"


def instruction_for(
    ob: SettlementObligation,
    ssi: StandingSettlementInstruction,
    instrument: Instrument,
    *,
    isin: str = "",
    partial_allowed: bool = True,
) -> SettlementInstruction:
    """The instruction for what remains of ``ob`` (remaining quantity and cash)."""
    return SettlementInstruction(
        tx_id=transaction_id(ob.obligation_id),
        movement="RECE" if ob.side is Side.BUY else "DELI",
        trade_date=ob.trade_date,
        settle_date=ob.intended_settle_date,
        instrument=ob.instrument,
        quantity=instrument.qty_to_decimal(ob.remaining_quantity),
        currency=ob.currency,
        amount=from_scaled(ob.remaining_cash, currency_decimals(ob.currency)),
        price=instrument.price_to_decimal(ob.price),
        safekeeping_account=ssi.safekeeping_account,
        cash_account=ssi.cash_account,
        custodian_bic=ssi.custodian_bic,
        place_of_settlement=ssi.place_of_settlement,
        counterparty=ob.venue,
        partial_allowed=partial_allowed,
        isin=isin,
    )


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrib)
    if text is not None:
        el.text = text
    return el


def _date(parent: ET.Element, tag: str, d: date) -> None:
    _sub(_sub(_sub(parent, tag), "Dt"), "Dt", d.isoformat())


def _other_id(parent: ET.Element, tag: str, value: str, kind: str) -> None:
    el = _sub(parent, tag)
    _sub(el, "Id", value)
    _sub(_sub(el, "Tp"), "Prtry", kind)


def _num(d: Decimal) -> str:
    return format(d, "f")


def to_xml(ins: SettlementInstruction) -> bytes:
    """One sese.023 document (UTF-8, with the XML declaration)."""
    # unqualified tags under an explicit xmlns: the namespace without a global
    # ET.register_namespace (other writers use it) nor an ns0: prefix
    doc = ET.Element("Document", xmlns=NAMESPACE)
    tx = _sub(doc, "SctiesSttlmTxInstr")
    _sub(tx, "TxId", ins.tx_id)
    params = _sub(tx, "SttlmTpAndAddtlParams")
    _sub(params, "SctiesMvmntTp", ins.movement)
    _sub(params, "Pmt", "APMT")
    trade = _sub(tx, "TradDtls")
    _sub(_sub(trade, "PlcOfTrad"), "MktId", ins.counterparty)
    _date(trade, "TradDt", ins.trade_date)
    _date(trade, "SttlmDt", ins.settle_date)
    if ins.price is not None:
        _sub(_sub(_sub(trade, "DealPric"), "Val"), "Amt", _num(ins.price), Ccy=ins.currency)
    fin = _sub(tx, "FinInstrmId")
    if ins.isin:
        _sub(fin, "ISIN", ins.isin)
    _other_id(fin, "OthrId", ins.instrument, "TICKER")
    qty = _sub(tx, "QtyAndAcctDtls")
    _sub(_sub(_sub(qty, "SttlmQty"), "Qty"), "Unit", _num(ins.quantity))
    _sub(_sub(_sub(qty, "AcctOwnr"), "Id"), "AnyBIC", ins.custodian_bic)
    _sub(_sub(qty, "SfkpgAcct"), "Id", ins.safekeeping_account)
    if ins.cash_account:
        _sub(_sub(qty, "CshAcct"), "Id", ins.cash_account)
    sp = _sub(tx, "SttlmParams")
    _sub(_sub(sp, "SctiesTxTp"), "Cd", "TRAD")
    _sub(sp, "PrtlSttlmInd", "PART" if ins.partial_allowed else "NPAR")
    parties = _sub(tx, "DlvrgSttlmPties" if ins.movement == "RECE" else "RcvgSttlmPties")
    _sub(_sub(_sub(parties, "Dpstry"), "Id"), "AnyBIC", ins.place_of_settlement)
    _other_id(_sub(_sub(parties, "Pty1"), "Id"), "PrtryId", ins.counterparty, "MIC")
    amt = _sub(tx, "SttlmAmt")
    _sub(amt, "Amt", _num(ins.amount), Ccy=ins.currency)
    _sub(amt, "CdtDbtInd", ins.credit_debit)
    out: bytes = ET.tostring(doc, encoding="utf-8", xml_declaration=True)
    return out


def _text(root: ET.Element, path: str) -> str:
    el = root.find(_path(path))
    if el is None or el.text is None:
        raise InvalidValueError(f"sese.023: missing {path}", "SESE023_INVALID")
    return el.text


def _path(path: str) -> str:
    return "/".join(_NS + p for p in path.split("/"))


def from_xml(data: bytes) -> SettlementInstruction:
    """Read back a document written by :func:`to_xml` (the subset's fields)."""
    root = ET.fromstring(data)
    tx = root.find(_NS + "SctiesSttlmTxInstr")
    if root.tag != _NS + "Document" or tx is None:
        raise InvalidValueError("not a sese.023 subset document", "SESE023_INVALID")
    movement = _text(tx, "SttlmTpAndAddtlParams/SctiesMvmntTp")
    parties = "DlvrgSttlmPties" if movement == "RECE" else "RcvgSttlmPties"
    price = tx.find(_path("TradDtls/DealPric/Val/Amt"))
    isin = tx.find(_path("FinInstrmId/ISIN"))
    cash = tx.find(_path("QtyAndAcctDtls/CshAcct/Id"))
    amt = tx.find(_path("SttlmAmt/Amt"))
    if amt is None or amt.text is None:
        raise InvalidValueError("sese.023: missing SttlmAmt", "SESE023_INVALID")
    return SettlementInstruction(
        tx_id=_text(tx, "TxId"),
        movement=movement,
        trade_date=date.fromisoformat(_text(tx, "TradDtls/TradDt/Dt/Dt")),
        settle_date=date.fromisoformat(_text(tx, "TradDtls/SttlmDt/Dt/Dt")),
        instrument=_text(tx, "FinInstrmId/OthrId/Id"),
        quantity=Decimal(_text(tx, "QtyAndAcctDtls/SttlmQty/Qty/Unit")),
        currency=amt.get("Ccy", ""),
        amount=Decimal(amt.text),
        price=Decimal(price.text) if price is not None and price.text else None,
        safekeeping_account=_text(tx, "QtyAndAcctDtls/SfkpgAcct/Id"),
        cash_account=cash.text or "" if cash is not None else "",
        custodian_bic=_text(tx, "QtyAndAcctDtls/AcctOwnr/Id/AnyBIC"),
        place_of_settlement=_text(tx, f"{parties}/Dpstry/Id/AnyBIC"),
        counterparty=_text(tx, f"{parties}/Pty1/Id/PrtryId/Id"),
        partial_allowed=_text(tx, "SttlmParams/PrtlSttlmInd") == "PART",
        isin=isin.text or "" if isin is not None else "",
    )


def validate(data: bytes) -> None:
    """Validate a document against the shipped XSD; raises ``InvalidValueError`` (code
    ``SESE023_INVALID``) with the validator's reason. Needs the ``iso20022`` extra."""
    xmlschema = require("xmlschema", "ISO 20022 validation")
    schema = _schema(xmlschema)
    errors = list(schema.iter_errors(data.decode("utf-8")))
    if errors:
        raise InvalidValueError(f"sese.023 invalid: {errors[0].reason}", "SESE023_INVALID")


_SCHEMAS: dict[str, Any] = {}


def _schema(xmlschema: Any) -> Any:
    """The compiled XSD, once per process."""
    if "sese023" not in _SCHEMAS:
        _SCHEMAS["sese023"] = xmlschema.XMLSchema(str(schema_path()))
    return _SCHEMAS["sese023"]


@dataclass(slots=True)
class InstructionBatch:
    """The documents for one custodian, and each TxId's obligation."""

    custodian_bic: str
    documents: list[bytes] = field(default_factory=list)
    obligations: dict[str, str] = field(default_factory=dict)  # TxId -> obligation id


def instructions_by_custodian(
    obligations: Iterable[SettlementObligation],
    ssis: SsiBook,
    instruments: Callable[[str], Instrument | None],
    *,
    isin_of: Callable[[str], str] = lambda _: "",
) -> dict[str, InstructionBatch]:
    """One sese.023 per open obligation with something left to settle, grouped by the
    custodian of the account's SSI for the obligation's market and currency. An obligation
    without an SSI or instrument raises (``SSI_MISSING``): nothing is sent half-instructed."""
    out: dict[str, InstructionBatch] = {}
    for ob in sorted(obligations, key=lambda o: o.obligation_id):
        if not ob.is_open or ob.remaining_quantity <= 0:
            continue
        ins = instruments(ob.instrument)
        if ins is None:
            raise InvalidValueError(f"unknown instrument {ob.instrument}", "UNKNOWN_INSTRUMENT")
        ssi = ssis.resolve(ob.account, ob.market, ob.currency)
        doc = instruction_for(ob, ssi, ins, isin=isin_of(ob.instrument))
        batch = out.setdefault(ssi.custodian_bic, InstructionBatch(ssi.custodian_bic))
        batch.documents.append(to_xml(doc))
        batch.obligations[doc.tx_id] = ob.obligation_id
    return out
