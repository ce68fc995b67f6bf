"""MiFIR transaction report (RTS 22, Commission Delegated Regulation (EU) 2017/590, Annex I
Table 2): a subset of the fields, for fills in instruments with an EEA ISIN, as XML against
``rts22_subset.xsd`` (written from the published field list; element names follow the ISO
20022 auth.016 short names loosely, in our own namespace: this is not the ESMA schema).

Fields (RTS 22 field number): 1 report status, 2 transaction reference number, 3 trading
venue transaction identification code, 4 executing entity (LEI), 5 investment firm covered by
MiFID II, 6 submitting entity (LEI), 7 buyer identification code, 16 seller identification
code, 28 trading date time, 29 trading capacity, 30 quantity, 33 price, 34 price currency,
36 venue (MIC, ``XOFF`` off venue), 41 instrument identification code (ISIN), 59 execution
within firm, 62 short selling indicator (sells only)."""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal

from execflow.analytics.regulatory.lifecycle import Book

SCHEMA = "rts22_subset.xsd"
NS = "urn:execflow:mifir:rts22:subset:1"
S = 1_000_000_000
EEA = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IS",
        "IT",
        "LI",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "NO",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    }
)  # the EEA: RTS 22 here covers ISINs of these countries
DEFAULT_ISINS = {"SAP.DE": "DE0007164600"}
VENUE_MICS = {"PAPER": "XOFF"}  # the paper venue is no trading venue: off venue


_ID52 = re.compile(r"[A-Za-z0-9:.\-_/+]{1,52}")  # the XSD's Id52


def transaction_id(cl_ord_id: str, exec_id: str) -> str:
    """Field 2, unique per fill and the same in every report: ``{cl_ord_id}-{exec_id}`` when
    it is a valid Id52; otherwise (too long, or characters the schema refuses) ``H`` + 50 hex
    digits of the full key's BLAKE2b hash. A cut key would let fills of one order with a long
    cl_ord_id share an id; a hashed one has no ``-``, so it never equals a plain one."""
    key = f"{cl_ord_id}-{exec_id}"
    if _ID52.fullmatch(key):
        return key
    return "H" + hashlib.blake2b(key.encode(), digest_size=25).hexdigest()


def _ts(ns: int) -> str:
    dt = datetime.fromtimestamp(ns // S, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{(ns % S) // 1_000_000:03d}Z"


def report(
    book: Book,
    start_ns: int,
    end_ns: int,
    executing_lei: str,
    price_of: Callable[[str, int], Decimal],
    qty_of: Callable[[str, int], Decimal],
    currency_of: Callable[[str], str],
    *,
    isins: Mapping[str, str] = DEFAULT_ISINS,
    client_ids: Mapping[str, str] | None = None,
    submitting_lei: str | None = None,
) -> ET.Element:
    """``<TxRpt>`` with one ``<Tx>`` per fill of an EEA instrument in [start, end)."""
    ET.register_namespace("", NS)
    root = ET.Element(f"{{{NS}}}TxRpt")
    hdr = ET.SubElement(root, f"{{{NS}}}Hdr")
    _el(hdr, "SubmitgPty", submitting_lei or executing_lei)
    _el(hdr, "CreDtTm", _ts(end_ns))
    clients = client_ids or {}
    for o in book.between(start_ns, end_ns):
        isin = isins.get(o.instrument)
        if isin is None or isin[:2] not in EEA:
            continue
        for f in o.fills:
            if not start_ns <= f.ts < end_ns:
                continue
            tx = ET.SubElement(root, f"{{{NS}}}Tx")
            _el(tx, "RptSts", "NEWT")  # 1
            _el(tx, "TxId", transaction_id(o.cl_ord_id, f.exec_id))  # 2
            _el(tx, "TradgVnTxId", f.exec_id[:52])  # 3
            _el(tx, "ExctgPty", executing_lei)  # 4
            _el(tx, "InvstmtPtyInd", "true")  # 5
            _el(tx, "SubmitgPty", submitting_lei or executing_lei)  # 6
            client = clients.get(o.account, "INTC")
            venue = VENUE_MICS.get(f.venue, "XOFF")
            _el(tx, "Buyr", client if o.side > 0 else venue)  # 7
            _el(tx, "Sellr", venue if o.side > 0 else client)  # 16
            _el(tx, "TradDt", _ts(f.ts))  # 28
            _el(tx, "TradgCpcty", "AOTC")  # 29: on the client's account
            _el(tx, "Qty", str(qty_of(o.instrument, f.qty)))  # 30
            price = ET.SubElement(tx, f"{{{NS}}}Pric")  # 33, 34
            price.text = str(price_of(o.instrument, f.px))
            price.set("Ccy", currency_of(o.instrument))
            _el(tx, "TradVn", venue)  # 36
            _el(tx, "FinInstrmId", isin)  # 41
            _el(tx, "ExctgPrsn", "ALGO" if o.parent_id else "NORE")  # 59
            if o.side < 0:
                _el(tx, "ShrtSellgInd", "UNDI")  # 62: not known to execflow
    return root


def _el(parent: ET.Element, name: str, text: str) -> None:
    ET.SubElement(parent, f"{{{NS}}}{name}").text = text


def to_bytes(root: ET.Element) -> bytes:
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data
