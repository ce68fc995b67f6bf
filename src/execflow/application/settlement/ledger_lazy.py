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

import logging
from collections import defaultdict
from collections.abc import Callable, Iterator

import msgspec

from execflow.application.snapshot_codec import SnapshotFormatError
from execflow.domain.errors import StoreError
from execflow.domain.settlement.events import JournalPosted
from execflow.domain.settlement.ledger import Ledger

log = logging.getLogger(__name__)

_entries = msgspec.msgpack.Decoder(list[JournalPosted])
_encoder = msgspec.msgpack.Encoder()


class LedgerState(msgspec.Struct, array_like=True):
    """The ledger in a snapshot: entries in posting order, in encoded chunks."""

    chunks: list[bytes]  # each an encoded list[JournalPosted], as msgpack bin: not scanned
    count: int  # entries in the chunks
    # every entry's id, in posting order, and the obligations that have entries: chunks of
    # encoded list[str] (bin), decoded the first time an entry is validated or looked up
    ids: list[bytes]
    obligations: list[bytes]
    reversed_by: dict[str, str]
    balances: list[tuple[str, str, int]]


_strs = msgspec.msgpack.Decoder(list[str])


def _decode_strs(chunks: list[bytes]) -> list[str]:
    out: list[str] = []
    for c in chunks:
        out += _strs.decode(c)
    return out


class RestoredLedger(Ledger):
    """A :class:`Ledger`; entries restored from a snapshot are decoded on first use. Entries
    posted after the restore are held as by any ledger (they come after the restored ones; an
    obligation's list of entries is filed again over all of them when they are decoded)."""

    def __init__(self) -> None:
        super().__init__()
        self._cold = False  # restored entries not decoded yet
        self._cold_count = 0
        # their encoded chunks; None: in a part of the snapshot, read by ``_loader`` on first
        # need (``_fallback``: the same entries read from the log, if that part is unusable)
        self._chunks: list[bytes] | None = []
        self._loader: Callable[[], list[bytes]] | None = None
        self._fallback: Callable[[], list[JournalPosted]] | None = None
        # the restored entries' ids and obligations, encoded until first needed
        self._cold_ids_raw: list[bytes] = []
        self._cold_obligations_raw: list[bytes] = []
        self._cold_sets: tuple[set[str], set[str]] | None = None

    def restore(
        self,
        state: LedgerState,
        loader: Callable[[], list[bytes]] | None = None,
        fallback: Callable[[], list[JournalPosted]] | None = None,
    ) -> None:
        """Into a new ledger (the chunks are the decoder's own copies: bin fields). ``loader``:
        the chunks are not in ``state`` but read by it when first needed; ``fallback``: the
        restored entries from elsewhere (the log) if ``loader`` fails."""
        if len(self):
            raise RuntimeError("ledger snapshot restored into a ledger that has entries")
        if state.count < 0 or (state.count and not state.chunks and loader is None):
            raise msgspec.ValidationError("ledger snapshot: entry count does not fit")
        self._cold = True
        self._chunks = None if loader is not None else list(state.chunks)
        self._loader, self._fallback = loader, fallback
        self._cold_count = state.count
        self._cold_ids_raw = list(state.ids)
        self._cold_obligations_raw = list(state.obligations)
        self._cold_sets = None
        self._reversed_by.update(state.reversed_by)
        self._balances = defaultdict(int, {(a, u): v for a, u, v in state.balances})

    @property
    def encoded_entries(self) -> int:
        return self._cold_count if self._cold else 0

    def _sets(self) -> tuple[set[str], set[str]]:
        """The restored entries' ids and their obligations (decoded on first use)."""
        sets = self._cold_sets
        if sets is None:
            sets = self._cold_sets = (
                set(_decode_strs(self._cold_ids_raw)),
                set(_decode_strs(self._cold_obligations_raw)),
            )
        return sets

    @property
    def _cold_id_set(self) -> set[str]:
        return self._sets()[0] if self._cold else set()

    @property
    def _cold_obligations(self) -> set[str]:
        return self._sets()[1] if self._cold else set()

    def cold_chunks(self) -> list[bytes] | None:
        """The restored entries' encoded chunks (read from the snapshot's part if need be);
        None if they could only be had from the fallback: the ledger is then thawed."""
        if not self._cold:
            return []
        if self._chunks is None:
            try:
                assert self._loader is not None
                self._chunks = self._loader()
            except (SnapshotFormatError, msgspec.DecodeError, StoreError) as exc:
                self._thaw_from_fallback(exc)
                return None
        return self._chunks

    def _thaw_from_fallback(self, exc: Exception) -> None:
        if self._fallback is None:
            raise exc
        log.warning(
            "event=snapshot_part_ignored name=settlement-ledger reason=%s from_log=true", exc
        )
        self._thaw(self._fallback())

    def thaw(self) -> None:
        """Decode the restored entries; they go before those posted since."""
        if not self._cold:
            return
        chunks = self.cold_chunks()
        if chunks is None:
            return  # thawed from the fallback
        try:
            cold = [e for chunk in chunks for e in _entries.decode(chunk)]
        except msgspec.DecodeError as exc:
            self._thaw_from_fallback(exc)
            return
        self._thaw(cold)

    def _thaw(self, cold: list[JournalPosted]) -> None:
        if len(cold) != self._cold_count:
            raise SnapshotFormatError(
                f"ledger: {len(cold)} restored entries where the snapshot counted"
                f" {self._cold_count}"
            )
        entries = cold + self._entries
        by_id = {e.entry_id: e for e in cold}
        by_id.update(self._by_id)
        by_obligation: dict[str, list[str]] = defaultdict(list)
        for e in entries:
            by_obligation[e.obligation_id].append(e.entry_id)
        self._entries, self._by_id, self._by_obligation = entries, by_id, by_obligation
        self._cold, self._cold_count, self._chunks = False, 0, []
        self._loader = self._fallback = None
        self._cold_ids_raw, self._cold_obligations_raw, self._cold_sets = [], [], None

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
    chunks: list[bytes] = []
    ids: list[bytes] = []
    obligations: list[bytes] = []
    count = 0
    cold = ledger.cold_chunks() if isinstance(ledger, RestoredLedger) else None
    if isinstance(ledger, RestoredLedger) and ledger._cold and cold is not None:
        chunks, count = list(cold), ledger._cold_count
        ids, obligations = list(ledger._cold_ids_raw), list(ledger._cold_obligations_raw)
    hot = ledger._entries
    if hot or not chunks:
        chunks.append(_encoder.encode(hot))
        count += len(hot)
        ids.append(_encoder.encode([e.entry_id for e in hot]))
        obligations.append(_encoder.encode(sorted({e.obligation_id for e in hot})))
    balances = [(a, u, v) for (a, u), v in ledger._balances.items()]
    return (chunks, count, ids, obligations, ledger._reversed_by, balances)
