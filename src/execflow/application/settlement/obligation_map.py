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
import operator
import typing
from collections.abc import Iterator, ValuesView
from datetime import date

import msgspec

from execflow.domain.enums import Side
from execflow.domain.settlement.obligations import SettlementObligation, SettlementStatus

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
_astuple = msgspec.structs.astuple
_fields_of = operator.attrgetter(*FIELDS)


def pack(ob: SettlementObligation) -> tuple[object, ...]:
    """The obligation as the array the snapshot stores."""
    return typing.cast(tuple[object, ...], _fields_of(ob))


def unpack(raw: msgspec.Raw | bytes) -> SettlementObligation:
    """An obligation from its stored array (raises ``msgspec.DecodeError`` if it does not fit)."""
    return SettlementObligation(*_astuple(_row_decoder.decode(raw)))


class ObligationMap:
    """A dict of obligations by id whose restored entries are decoded on first use."""

    __slots__ = ("_rows",)

    def __init__(self) -> None:
        self._rows: dict[str, SettlementObligation | msgspec.Raw] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, obligation_id: object) -> bool:
        return obligation_id in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __setitem__(self, obligation_id: str, ob: SettlementObligation) -> None:
        self._rows[obligation_id] = ob

    def __getitem__(self, obligation_id: str) -> SettlementObligation:
        ob = self.get(obligation_id)
        if ob is None:
            raise KeyError(obligation_id)
        return ob

    def get(self, obligation_id: str) -> SettlementObligation | None:
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
        return list(zip(self._rows, self.values(), strict=True))

    def decode_all(self) -> None:
        rows = self._rows
        for k, row in rows.items():
            if type(row) is not SettlementObligation:
                assert isinstance(row, msgspec.Raw)
                rows[k] = unpack(row)  # replacing a value while iterating keys is allowed

    @property
    def encoded(self) -> int:
        """How many are still as the snapshot stored them."""
        return sum(1 for r in self._rows.values() if type(r) is not SettlementObligation)

    def restore(self, rows: dict[str, msgspec.Raw]) -> None:
        """Take the snapshot's arrays (by id, in creation order) into an empty map."""
        if self._rows:
            raise RuntimeError("obligations restored into a map that has some")
        self._rows = dict(rows)

    def packed(self) -> dict[str, msgspec.Raw | tuple[object, ...]]:
        """Every obligation as the snapshot stores it (an encoded one as it is)."""
        return {
            k: pack(r) if isinstance(r, SettlementObligation) else r for k, r in self._rows.items()
        }
