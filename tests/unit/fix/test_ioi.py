"""IOIs at the IOI gateway, in process: the book (new, replace, cancel, expiry), a bad IOIQty,
advertising, and delegation of every other message."""

from __future__ import annotations

from decimal import Decimal

import pytest

from execflow.fix.application import SessionID
from execflow.fix.errors import FixBusinessRejectError
from execflow.fix.ioi import Ioi, IoiBook, IoiGateway, ioi_message, parse_ioi
from execflow.fix.message import Message
from tests.unit.fix.test_allocations import SID, _Orders, _Sessions

S = 1_000_000_000


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000 * S

    def __call__(self) -> int:
        return self.now


def _in(ioi: Ioi, trans: str = "N", ref: str = "") -> Message:
    return ioi_message(ioi, trans, ref)


def test_iois_in_are_kept_replaced_canceled_and_expire() -> None:
    clock = _Clock()
    book = IoiBook(clock)
    orders = _Orders()
    gw = IoiGateway(orders, book)
    sessions = _Sessions()
    gw.bind(sessions)  # type: ignore[arg-type]
    a = Ioi("I1", "ACME", "2", "L", Decimal("100.05"), valid_until_ns=1_060 * S, quality="H",
            natural=True, text="block")  # fmt: skip
    assert gw.from_app(_in(a), SID) is None
    (kept,) = book.live("ACME")
    assert kept == Ioi("I1", "ACME", "2", "L", Decimal("100.05"), 1_060 * S, "H", True, "block",
                       source="CLIENT")  # fmt: skip
    b = Ioi("I2", "ACME", "2", "25000")
    gw.from_app(_in(b, "R", "I1"), SID)  # replaces I1
    assert [i.ioi_id for i in book.live()] == ["I2"] and book.live("OTHER") == []
    gw.from_app(_in(Ioi("I3", "ACME", "1", "S"), "C", "I2"), SID)  # cancels I2
    assert book.live() == []
    gw.from_app(_in(a), SID)
    clock.now = 1_060 * S  # ValidUntilTime reached
    assert book.live() == []
    with pytest.raises(FixBusinessRejectError):
        gw.from_app(_in(Ioi("I4", "ACME", "1", "lots")), SID)
    with pytest.raises(FixBusinessRejectError):
        gw.from_app(_in(Ioi("I5", "ACME", "1", "-5")), SID)
    # advertise ours; everything else goes to the wrapped application
    gw.advertise(SessionID("FIX.4.4", "EXECFLOW", "CLIENT"), Ioi("O1", "ACME", "1", "M"))
    sent = sessions.one.sent[-1]
    assert (sent.msg_type, sent.get_str(23), sent.get_str(27), 60 in sent) == ("6", "O1", "M", True)
    assert parse_ioi(sent)[2].ioi_id == "O1" and gw.sent[0].ioi_id == "O1"
    gw.from_app(Message.new("D", (11, "X")), SID)
    assert orders.seen == ["bind", "D"]
    unbound = IoiGateway(_Orders(), book)
    with pytest.raises(RuntimeError):
        unbound.advertise(SID, Ioi("O2", "ACME", "1", "M"))


def test_a_firm_order_answering_an_ioi_must_answer_a_live_one_of_ours() -> None:
    """The negotiated block's firm step: a NewOrderSingle with IOIID (23) passes to the order
    gateway only when it answers one of our live IOIs, on its instrument, from the other side."""
    clock = _Clock()
    orders = _Orders()
    gw = IoiGateway(orders, IoiBook(clock))
    sessions = _Sessions()
    gw.bind(sessions)  # type: ignore[arg-type]
    client = SessionID("FIX.4.4", "EXECFLOW", "CLIENT")
    gw.advertise(client, Ioi("BLK1", "ACME", "2", "L", valid_until_ns=1_060 * S))  # we sell

    def answer(ioi_id: str, side: str = "1", symbol: str = "ACME") -> Message:
        return Message.new("D", (11, f"F-{ioi_id}"), (23, ioi_id), (55, symbol), (54, side))

    gw.from_app(answer("BLK1"), SID)  # a buy answering our sell IOI
    assert orders.seen == ["bind", "D"]
    for bad in (answer("NOPE"), answer("BLK1", side="2"), answer("BLK1", symbol="OTHER")):
        with pytest.raises(FixBusinessRejectError) as ei:
            gw.from_app(bad, SID)
        assert "IOIID" in ei.value.args[0] or "IOIID" in str(ei.value)
    gw.advertise(client, Ioi("BLK1", "ACME", "2", "L"), "C", "BLK1")  # we cancel it
    with pytest.raises(FixBusinessRejectError):
        gw.from_app(answer("BLK1"), SID)
    gw.advertise(client, Ioi("BLK2", "ACME", "2", "L", valid_until_ns=1_010 * S))
    clock.now = 1_010 * S  # expired
    with pytest.raises(FixBusinessRejectError):
        gw.from_app(answer("BLK2"), SID)
    assert orders.seen == ["bind", "D"]
