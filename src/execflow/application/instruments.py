"""Reference data: the instruments the engine trades."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from execflow.domain.instruments import Instrument


class InstrumentCatalog:
    def __init__(self, instruments: Iterable[Instrument] = ()) -> None:
        self._by_id: dict[str, Instrument] = {}
        for ins in instruments:
            self.add(ins)

    def add(self, instrument: Instrument) -> None:
        self._by_id[instrument.id] = instrument

    def get(self, instrument_id: str) -> Instrument | None:
        return self._by_id.get(instrument_id)

    def __getitem__(self, instrument_id: str) -> Instrument:
        return self._by_id[instrument_id]

    def __contains__(self, instrument_id: object) -> bool:
        return instrument_id in self._by_id

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)
