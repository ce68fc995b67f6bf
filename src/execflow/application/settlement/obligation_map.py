"""Settlement obligations by id, in creation order: :class:`ObligationMap`.

After a restart most obligations are never looked at again before the next snapshot (a fill
creates a new one; a settlement cycle touches those due). The settlement snapshot keeps each
obligation as one msgpack array (:data:`FIELDS`, the dataclass's fields in order); a restored map
holds those arrays undecoded (``msgspec.Raw``, a slice of the snapshot's obligations part) and
builds the :class:`SettlementObligation` of one the first time it is asked for, in its place
(creation order is kept). Iterating the values builds every one still encoded. A snapshot written
while most are still encoded copies their arrays as they are. The snapshot's checksum and its
schema version, which includes every field's name and type, are checked before anything is
restored (docs/adr/0011-state-snapshots.md); an array is decoded with those types later.
"""

from __future__ import annotations

import dataclasses
import logging
import operator
import typing
from collections.abc import Callable, Iterator, ValuesView
from datetime import date

import msgspec

from execflow.domain.enums import Side
from execflow.domain.errors import StoreError
from execflow.domain.settlement.obligations import SettlementObligation, SettlementStatus

log = logging.getLogger(__name__)

FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(SettlementObligation))
_HINTS = typing.get_type_hints(
    SettlementObligation,
    {"date": date, "Side": Side, "SettlementStatus": SettlementStatus},
)
LAYOUT: tuple[str, ...] = tuple(f"{n}:{_HINTS[n]}" for n in FIELDS)
"""Names and types of the packed fields (part of the snapshot's schema version)."""

_Row = msgspec.defstruct(
    "ObligationRow", [(n, _HINTS[n]) for n in FIELDS], array_like=True, gc=False
)
_row_decoder = msgspec.msgpack.Decoder(_Row)
_rows_decoder = msgspec.msgpack.Decoder(dict[str, msgspec.Raw])
_encoder = msgspec.msgpack.Encoder()
_astuple = msgspec.structs.astuple
_fields_of = operator.attrgetter(*FIELDS)


def pack(ob: SettlementObligation) -> tuple[object, ...]:
    """The obligation as the array the snapshot stores."""
    return typing.cast(tuple[object, ...], _fields_of(ob))


def unpack(raw: msgspec.Raw | bytes) -> SettlementObligation:
    """An obligation from its stored array (raises ``msgspec.DecodeError`` if it does not fit)."""
    return SettlementObligation(*_astuple(_row_decoder.decode(raw)))


class ObligationMap:
    """A dict of obligations by id whose restored entries are decoded on first use.

    A restored map keeps the snapshot's chunks (each an encoded ``{id: array}`` map, with its
    count) whole until something needs the ids: a lookup, ``in``, iteration. A new obligation
    (a fill) only adds to the map: it splits nothing, so a start-up and the first fills after
    it do not pay for the 380,000 obligations of the 1M-event benchmark log. A snapshot written
    meanwhile copies the chunks as they are and adds the new obligations as one more chunk.
    Ids are unique across chunks (an obligation is created once; changing one looks it up
    first, which splits the chunks into the map in their order, before the newer entries)."""

    __slots__ = ("_chunked", "_chunks", "_fallback", "_loader", "_rows")

    def __init__(self) -> None:
        self._rows: dict[str, SettlementObligation | msgspec.Raw] = {}
        self._chunks: list[tuple[int, bytes]] = []  # restored, not split yet: (count, map)
        self._chunked = 0  # obligations in _chunks
        # the chunks' bytes when they are in a part of the snapshot, read on first need
        # (``_fallback``: the same obligations from the log, if that part is unusable then)
        self._loader: Callable[[], list[bytes]] | None = None
        self._fallback: Callable[[], dict[str, SettlementObligation]] | None = None

    def _load(self) -> bool:
        """Read the chunks' bytes from the snapshot's part; False: the part was unusable and
        the obligations were taken from the fallback instead."""
        loader, self._loader = self._loader, None
        if loader is None:
            return True
        fallback, self._fallback = self._fallback, None
        try:
            data = loader()
            if len(data) != len(self._chunks):
                raise msgspec.ValidationError("obligations part: chunk count does not fit")
        except (ValueError, StoreError) as exc:  # SnapshotFormatError, msgspec errors
            if fallback is None:
                raise
            log.warning(
                "event=snapshot_part_ignored name=settlement-obligations reason=%s from_log=true",
                exc,
            )
            rows = fallback()
            if len(rows) != self._chunked:
                raise ValueError(
                    f"obligations: {len(rows)} from the log where the snapshot had {self._chunked}"
                ) from exc
            merged: dict[str, SettlementObligation | msgspec.Raw] = dict(rows)
            merged.update(self._rows)
            self._rows, self._chunks, self._chunked = merged, [], 0
            return False
        self._chunks = [(n, d) for (n, _), d in zip(self._chunks, data, strict=True)]
        return True

    def _split(self) -> None:
        """The restored chunks into the map, before the entries added since."""
        if not self._chunks or not self._load():
            return
        rows: dict[str, SettlementObligation | msgspec.Raw] = {}
        for _n, chunk in self._chunks:
            rows.update(_rows_decoder.decode(chunk))
        rows.update(self._rows)
        self._rows, self._chunks, self._chunked = rows, [], 0

    def __len__(self) -> int:
        return len(self._rows) + self._chunked

    def __bool__(self) -> bool:
        return bool(self._rows) or self._chunked > 0

    def __contains__(self, obligation_id: object) -> bool:
        self._split()
        return obligation_id in self._rows

    def __iter__(self) -> Iterator[str]:
        self._split()
        return iter(self._rows)

    def __setitem__(self, obligation_id: str, ob: SettlementObligation) -> None:
        self._rows[obligation_id] = ob

    def __getitem__(self, obligation_id: str) -> SettlementObligation:
        ob = self.get(obligation_id)
        if ob is None:
            raise KeyError(obligation_id)
        return ob

    def get(self, obligation_id: str) -> SettlementObligation | None:
        self._split()
        row = self._rows.get(obligation_id)
        if row is None or type(row) is SettlementObligation:
            return row
        assert isinstance(row, msgspec.Raw)
        ob = self._rows[obligation_id] = unpack(row)  # same key: keeps its place
        return ob

    def values(self) -> ValuesView[SettlementObligation]:
        self.decode_all()
        return typing.cast(ValuesView[SettlementObligation], self._rows.values())

    def items(self) -> list[tuple[str, SettlementObligation]]:
        values = self.values()  # splits the chunks first: then self._rows is every one
        return list(zip(self._rows, values, strict=True))

    def decode_all(self) -> None:
        self._split()
        rows = self._rows
        for k, row in rows.items():
            if type(row) is not SettlementObligation:
                assert isinstance(row, msgspec.Raw)
                rows[k] = unpack(row)  # replacing a value while iterating keys is allowed

    @property
    def encoded(self) -> int:
        """How many are still as the snapshot stored them."""
        return self._chunked + sum(
            1 for r in self._rows.values() if type(r) is not SettlementObligation
        )

    def restore(
        self,
        chunks: list[tuple[int, bytes]],
        loader: Callable[[], list[bytes]] | None = None,
        fallback: Callable[[], dict[str, SettlementObligation]] | None = None,
    ) -> None:
        """Take the snapshot's chunks (each ``(count, encoded {id: array})``, in creation
        order) into an empty map; they are split when an id is first needed. ``loader``: the
        chunks' bytes are not in ``chunks`` (only their counts) but read by it then, one per
        chunk; ``fallback``: the obligations from the log if the loader fails."""
        if self._rows or self._chunks:
            raise RuntimeError("obligations restored into a map that has some")
        if loader is not None:
            self._chunks = list(chunks)
            self._loader, self._fallback = loader, fallback
        else:
            self._chunks = [c for c in chunks if c[0]]
        self._chunked = sum(n for n, _ in self._chunks)

    def packed(self) -> list[tuple[int, bytes]]:
        """Every obligation as the snapshot stores it: the chunks not split yet as they are,
        the others (an encoded one as it is) as one more chunk."""
        self._load()  # the chunks' bytes (or, failing that, every obligation in _rows)
        rest = {
            k: pack(r) if isinstance(r, SettlementObligation) else r for k, r in self._rows.items()
        }
        out = list(self._chunks)
        if rest or not out:
            out.append((len(rest), _encoder.encode(rest)))
        return out
