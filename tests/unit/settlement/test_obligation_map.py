"""Packed obligations in the settlement snapshot, decoded one by one on use (obligation_map)."""

from __future__ import annotations

import dataclasses
from datetime import date

import msgspec
import pytest

from execflow.application.ports import RecordedEvent
from execflow.application.settlement import snapshot
from execflow.application.settlement.obligation_map import FIELDS, ObligationMap, pack, unpack
from execflow.application.settlement.pnl_lazy import RestoredPnLBook
from execflow.application.settlement.service import SettlementService
from execflow.domain.enums import Side
from execflow.domain.events import Event
from execflow.domain.settlement.obligations import SettlementObligation, SettlementStatus
from execflow.domain.settlement.pnl import CostMethod
from tests.unit.settlement.support import AAPL, SAP, Blotter, make_service

D = date


def recorded(events: list[Event]) -> list[RecordedEvent]:
    return [RecordedEvent(i + 1, f"s-{i}", 1, e) for i, e in enumerate(events)]


def traded_service() -> SettlementService:
    svc = make_service(base_currencies={"ACC1": "USD"})
    b = Blotter()
    evs: list[Event] = []
    for i in range(6):
        evs += b.trade(AAPL if i % 2 else SAP, Side.BUY if i % 3 else Side.SELL, 10 + i,
                       15000 + i, D(2026, 10, 9))  # fmt: skip
    svc.handle(recorded(evs))
    return svc


def test_pack_unpack_round_trip_every_field() -> None:
    svc = traded_service()
    ob = next(iter(svc._obligations.values()))
    ob = dataclasses.replace(ob, status=SettlementStatus.FAILED, next_attempt=D(2026, 10, 14),
                             resume_status=SettlementStatus.MATCHED, fail_count=1)  # fmt: skip
    assert tuple(f.name for f in dataclasses.fields(SettlementObligation)) == FIELDS
    assert unpack(msgspec.msgpack.encode(pack(ob))) == ob


def test_restored_obligations_decode_on_use_in_creation_order() -> None:
    svc = traded_service()
    want = svc._obligations.items()
    again = make_service(base_currencies={"ACC1": "USD"})
    snapshot.load(snapshot.dump(svc), again)
    m = again._obligations
    assert len(m) == len(want) and m.encoded == len(want)  # nothing decoded yet
    last_id = want[-1][0]
    assert m.get(last_id) == want[-1][1] and m.encoded == len(want) - 1
    assert m[last_id] is m.get(last_id)  # decoded once, kept
    assert list(m) == [k for k, _ in want]  # its place kept
    assert last_id in m and "nope" not in m and m.get("nope") is None
    with pytest.raises(KeyError):
        m["nope"]
    # a snapshot of a partly decoded map copies the encoded arrays as they are
    third = make_service(base_currencies={"ACC1": "USD"})
    snapshot.load(snapshot.dump(again), third)
    assert third._obligations.items() == want
    assert again._obligations.items() == want and again._obligations.encoded == 0


def test_a_restored_obligation_goes_on_like_a_folded_one() -> None:
    svc = traded_service()
    again = make_service(base_currencies={"ACC1": "USD"})
    snapshot.load(snapshot.dump(svc), again)
    ob_id = next(iter(svc._obligations))
    assert again.cancel(ob_id, "bust", D(2026, 10, 9)) == svc.cancel(ob_id, "bust", D(2026, 10, 9))
    assert again.obligation(ob_id).status is SettlementStatus.CANCELED
    assert again.ledger.balances() == svc.ledger.balances()
    assert again.obligations() == svc.obligations()


def test_restore_into_a_map_that_has_obligations_is_refused() -> None:
    svc = traded_service()
    m = ObligationMap()
    ob = next(iter(svc._obligations.values()))
    m[ob.obligation_id] = ob
    with pytest.raises(RuntimeError):
        m.restore({})


def test_a_correction_root_is_kept_and_an_original_is_its_own() -> None:
    svc = traded_service()
    ob_id = next(iter(svc._obligations))
    svc.correct(ob_id, quantity=5, on=D(2026, 10, 9))
    assert svc._roots == {f"{ob_id}/C1": ob_id}
    again = make_service(base_currencies={"ACC1": "USD"})
    snapshot.load(snapshot.dump(svc), again)
    out = again.correct(f"{ob_id}/C1", quantity=4, on=D(2026, 10, 9))
    assert out == svc.correct(f"{ob_id}/C1", quantity=4, on=D(2026, 10, 9))


def test_pnl_trades_of_a_pair_are_decoded_when_it_is_first_used() -> None:
    svc = traded_service()
    again = make_service(base_currencies={"ACC1": "USD"})
    snapshot.load(snapshot.dump(svc), again)
    pnl = again.pnl
    assert isinstance(pnl, RestoredPnLBook)
    pairs = pnl.keys()
    before = {p: svc.pnl.trades(*p) for p in pairs}
    assert pairs == svc.pnl.keys() and pnl.encoded_pairs == len(pairs) == 2
    # a snapshot of a book still encoded copies the encoded pairs as they are
    third = make_service(base_currencies={"ACC1": "USD"})
    snapshot.load(snapshot.dump(again), third)
    a, i = pairs[0]
    assert pnl.trades(a, i) == svc.pnl.trades(a, i) and pnl.encoded_pairs == 1
    assert pnl.currency(a, i) == svc.pnl.currency(a, i)
    ob_id = next(ob for ob in svc._obligations if svc.obligation(ob).instrument == pairs[1][1])
    again.cancel(ob_id, "bust", D(2026, 10, 9))  # removes a trade: its pair decoded first
    svc.cancel(ob_id, "bust", D(2026, 10, 9))
    assert pnl.encoded_pairs == 0
    for m in CostMethod:
        assert [pnl.realised(a, i, m) for a, i in pairs] == [
            svc.pnl.realised(a, i, m) for a, i in pairs
        ]
    acct, sym = pairs[1]
    third.pnl.rename(acct, sym, "NEWSYM")  # a symbol change moves the pair, decoded
    assert third.pnl.trades(acct, "NEWSYM") == before[pairs[1]]
    assert third.pnl.trades(acct, sym) == []
    third.pnl.thaw_all()
    assert third.pnl.encoded_pairs == 0


def test_restored_chunks_are_split_only_when_an_id_is_needed() -> None:
    svc = traded_service()
    want = svc._obligations.items()
    again = make_service(base_currencies={"ACC1": "USD"})
    snapshot.load(snapshot.dump(svc), again)
    m = again._obligations
    assert m._chunks and len(m) == len(want) and bool(m)
    # a new obligation (a fill) splits nothing; a snapshot then copies the chunk as it is
    extra = dataclasses.replace(want[0][1], obligation_id="NEW-1")
    m["NEW-1"] = extra
    assert m._chunks and len(m) == len(want) + 1
    third = make_service(base_currencies={"ACC1": "USD"})
    snapshot.load(snapshot.dump(again), third)
    assert third._obligations._chunks and len(third._obligations) == len(want) + 1
    # an id needed: the chunks first, in creation order, then what was added since
    for mm in (m, third._obligations):
        assert mm.items() == [*want, ("NEW-1", extra)]
        assert not mm._chunks and mm.encoded == 0
