"""The settlement desk's ledger, whose journal entries a snapshot restored stay encoded until
one of them is needed: :class:`RestoredLedger`.

A restart decodes no journal entry (one or two per fill, each with its postings: 380,000 on the
1M-event benchmark log, about a quarter of a start-up's CPU). What a new fill needs is decoded
eagerly and is small: the running balances, what reversed what, the ids of the entries (a new
entry's id must be new) and which obligations have entries (a new obligation's entry ids are
numbered from its entries). An entry is decoded, with all the others, the first time something
reads one: a reversal (it checks its original), ``entries_for`` an obligation that has entries,
``entry``, iteration (reports). A snapshot written meanwhile copies the encoded chunks as they
are and adds the entries posted since as one more chunk (docs/adr/0011-state-snapshots.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

import msgspec

from execflow.domain.settlement.events import JournalPosted
from execflow.domain.settlement.ledger import Ledger

_entries = msgspec.msgpack.Decoder(list[JournalPosted])
_encoder = msgspec.msgpack.Encoder()


class LedgerState(msgspec.Struct, array_like=True):
    """The ledger in a snapshot: entries in posting order, in encoded chunks."""

    chunks: list[bytes]  # each an encoded list[JournalPosted], as msgpack bin: not scanned
    ids: list[str]  # every entry's id, in posting order
    obligations: list[str]  # the obligations that have entries
    reversed_by: dict[str, str]
    balances: list[tuple[str, str, int]]


class RestoredLedger(Ledger):
    """A :class:`Ledger`; entries restored from a snapshot are decoded on first use. Entries
    posted after the restore are held as by any ledger (they come after the restored ones; an
    obligation's list of entries is filed again over all of them when they are decoded)."""

    def __init__(self) -> None:
        super().__init__()
        self._cold: list[bytes] = []
        self._cold_ids: list[str] = []
        self._cold_id_set: set[str] = set()
        self._cold_obligations: set[str] = set()

    def restore(self, state: LedgerState) -> None:
        """Into a new ledger (the chunks are the decoder's own copies: bin fields)."""
        if len(self):
            raise RuntimeError("ledger snapshot restored into a ledger that has entries")
        self._cold = list(state.chunks)
        self._cold_ids = state.ids
        self._cold_id_set = set(state.ids)
        self._cold_obligations = set(state.obligations)
        self._reversed_by.update(state.reversed_by)
        self._balances = defaultdict(int, {(a, u): v for a, u, v in state.balances})

    @property
    def encoded_entries(self) -> int:
        return len(self._cold_ids) if self._cold else 0

    def thaw(self) -> None:
        """Decode the restored entries; they go before those posted since."""
        if not self._cold:
            return
        cold = [e for chunk in self._cold for e in _entries.decode(chunk)]
        entries = cold + self._entries
        by_id = {e.entry_id: e for e in cold}
        by_id.update(self._by_id)
        by_obligation: dict[str, list[str]] = defaultdict(list)
        for e in entries:
            by_obligation[e.obligation_id].append(e.entry_id)
        self._entries, self._by_id, self._by_obligation = entries, by_id, by_obligation
        self._cold, self._cold_ids = [], []
        self._cold_id_set, self._cold_obligations = set(), set()

    # -- what needs a restored entry decodes them ----------------------------------------------
    def validate(self, entry: JournalPosted) -> None:
        if self._cold and (entry.reverses or entry.entry_id in self._cold_id_set):
            self.thaw()  # a reversal checks its original; a duplicate is refused by the base
        super().validate(entry)

    def __len__(self) -> int:
        return len(self._entries) + self.encoded_entries

    def __iter__(self) -> Iterator[JournalPosted]:
        self.thaw()
        return super().__iter__()

    def entry(self, entry_id: str) -> JournalPosted:
        if entry_id in self._cold_id_set:
            self.thaw()
        return super().entry(entry_id)

    def entries_for(self, obligation_id: str) -> list[JournalPosted]:
        if obligation_id in self._cold_obligations:
            self.thaw()
        return super().entries_for(obligation_id)


def ledger_state(ledger: Ledger) -> tuple[object, ...]:
    """The ledger as :class:`LedgerState` encodes it (a restored ledger's encoded chunks are
    copied as they are, its entries posted since added as one more chunk)."""
    cold: list[bytes] = []
    ids: list[str] = []
    obligations: set[str] = set()
    if isinstance(ledger, RestoredLedger) and ledger._cold:
        cold, ids = list(ledger._cold), list(ledger._cold_ids)
        obligations = set(ledger._cold_obligations)
    hot = ledger._entries
    chunks = list(cold)
    if hot or not chunks:
        chunks.append(_encoder.encode(hot))
    ids.extend(e.entry_id for e in hot)
    obligations.update(e.obligation_id for e in hot)
    balances = [(a, u, v) for (a, u), v in ledger._balances.items()]
    return (chunks, ids, sorted(obligations), ledger._reversed_by, balances)
