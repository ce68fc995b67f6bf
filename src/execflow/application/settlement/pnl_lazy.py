"""The settlement desk's P&L book, whose trades a snapshot restored stay encoded per (account,
instrument) until that pair is used: :class:`RestoredPnLBook`.

A restart decodes no P&L trade (one per fill: 380,000 on the 1M-event benchmark log); the first
fill, cancel or P&L question on a pair decodes that pair's trades (docs/adr/0011).
"""

from __future__ import annotations

import msgspec

from execflow.domain.settlement.pnl import PnLBook, PnLTrade

_trades = msgspec.msgpack.Decoder(list[PnLTrade])

Key = tuple[str, str]


class RestoredPnLBook(PnLBook):
    """A :class:`PnLBook`; pairs restored from a snapshot are decoded on first use."""

    def __init__(self) -> None:
        super().__init__()
        self._cold: dict[Key, bytes] = {}

    def restore(self, key: Key, currency: str, trades: bytes) -> None:
        """One pair's trades as the snapshot stores them (an encoded list, in order)."""
        self._cold[key] = trades
        self._trades[key] = {}  # the pair exists (keys(), order of pairs) before it is decoded
        if currency:
            self._currency[key] = currency

    def _thaw(self, key: Key) -> None:
        raw = self._cold.pop(key, None)
        if raw is not None:
            self._trades[key] = {t.trade_id: t for t in _trades.decode(raw)}

    def thaw_all(self) -> None:
        for key in list(self._cold):
            self._thaw(key)

    @property
    def encoded_pairs(self) -> int:
        return len(self._cold)

    def add(self, account: str, instrument: str, currency: str, trade: PnLTrade) -> None:
        self._thaw((account, instrument))
        super().add(account, instrument, currency, trade)

    def remove(self, account: str, instrument: str, trade_id: str) -> None:
        self._thaw((account, instrument))
        super().remove(account, instrument, trade_id)

    def rename(self, account: str, old: str, new: str) -> None:
        self._thaw((account, old))
        self._thaw((account, new))
        super().rename(account, old, new)

    def trades(self, account: str, instrument: str) -> list[PnLTrade]:
        self._thaw((account, instrument))
        return super().trades(account, instrument)

    def packed(self) -> list[tuple[str, str, str, bytes | list[PnLTrade]]]:
        """Every pair as the snapshot stores it (a still-encoded pair as it is)."""
        cold = self._cold
        return [
            (
                a,
                i,
                self._currency.get((a, i), ""),
                cold[(a, i)] if (a, i) in cold else [*t.values()],
            )
            for (a, i), t in self._trades.items()
        ]
