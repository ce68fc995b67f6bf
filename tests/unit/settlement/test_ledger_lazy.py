"""The settlement ledger restored from a snapshot keeps its journal entries encoded until one
is read (application/settlement/ledger_lazy.py): it answers, posts and refuses exactly as the
ledger that posted every entry, and a snapshot taken before or after the entries are decoded
restores the same ledger."""

from __future__ import annotations

from datetime import date

import msgspec
import pytest

from execflow.application.settlement.ledger_lazy import LedgerState, RestoredLedger, ledger_state
from execflow.domain.settlement.events import JournalPosted, PostingRecord
from execflow.domain.settlement.ledger import Ledger, SettlementError

D = date(2026, 12, 4)


def entry(ob: str, n: int, amount: int, reverses: JournalPosted | None = None) -> JournalPosted:
    lines = (
        PostingRecord(f"cash:{ob}", "USD", amount),
        PostingRecord(f"trading:{ob}", "USD", -amount),
    )
    if reverses is not None:
        lines = tuple(PostingRecord(p.account, p.unit, -p.amount) for p in reverses.postings)
    return JournalPosted(
        ts=n, entry_id=f"{ob}#J{n}", obligation_id=ob, booking_date=D, value_date=D,
        description="t", postings=lines, reverses="" if reverses is None else reverses.entry_id,
    )  # fmt: skip


def restored(ledger: Ledger) -> RestoredLedger:
    state = msgspec.msgpack.decode(msgspec.msgpack.encode(ledger_state(ledger)), type=LedgerState)
    out = RestoredLedger()
    out.restore(state)
    return out


def view(ledger: Ledger) -> tuple[object, ...]:
    obligations = {e.obligation_id for e in ledger}
    return (
        list(ledger), len(ledger), dict(ledger._balances), dict(ledger._reversed_by),
        {ob: ledger.entries_for(ob) for ob in sorted(obligations)},
    )  # fmt: skip


def test_a_restored_ledger_posts_without_decoding_and_equals_the_posted_one() -> None:
    first = [entry("A", 1, 100), entry("B", 2, 50), entry("A", 3, 7)]
    plain = Ledger()
    for e in first:
        plain.post(e)
    lazy = restored(plain)
    assert lazy.encoded_entries == 3 and len(lazy) == 3
    assert lazy.balance("cash:A", "USD") == 107
    # a new obligation's entries: nothing decoded (its entry ids are numbered from none)
    assert lazy.entries_for("C") == []
    new = entry("C", 4, 9)
    for ledger in (plain, lazy):
        ledger.post(new)
    assert lazy.encoded_entries == 3 and len(lazy) == 4
    # a snapshot now copies the encoded chunk and adds the new entry
    again = restored(lazy)
    assert again.encoded_entries == 4
    # a duplicate of a restored entry is refused, as by the ledger that posted it
    with pytest.raises(SettlementError):
        restored(plain).post(first[1])
    # a reversal of a restored entry checks its original: decodes, and posts
    rev = entry("B", 5, 0, reverses=first[1])
    for ledger in (plain, lazy, again):
        ledger.post(rev)
    assert lazy.encoded_entries == 0 and again.encoded_entries == 0
    assert view(lazy) == view(plain) == view(again)
    assert [e.entry_id for e in lazy] == ["A#J1", "B#J2", "A#J3", "C#J4", "B#J5"]


def test_entries_of_a_restored_obligation_come_in_posting_order() -> None:
    plain = Ledger()
    plain.post(entry("A", 1, 100))
    lazy = restored(plain)
    later = entry("A", 2, 5)
    plain.post(later)
    lazy.post(later)  # posted before the restored entries are decoded
    assert lazy.encoded_entries == 1
    assert [e.entry_id for e in lazy.entries_for("A")] == ["A#J1", "A#J2"]
    assert lazy.entry("A#J1") == plain.entry("A#J1")
    assert view(lazy) == view(plain)


def test_an_empty_ledger_round_trips() -> None:
    lazy = restored(Ledger())
    assert len(lazy) == 0 and list(lazy) == [] and lazy.encoded_entries == 0
