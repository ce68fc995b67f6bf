"""Pre-trade what-if: refuse an order whose post-trade stress loss would break a
``max_stress_loss`` limit (``what_if = true`` in the risk config): one :class:`WhatIf` per
firm limit with ``max_stress_loss``, at its scope (the firm, a desk, an account), each
counting only its scope's accounts.

Inputs, cached from the last stress run (``load``): per instrument, its relative move under
each scenario (price and currency, ``moves[i][s]``) and its base value per quantity unit at
that time (``unit[i]``). State: per instrument the firm's quantity as if every open order
filled (``net + buys - sells`` over accounts), and the firm's P&L per scenario ``pnl[s]`` for
those quantities.

Incremental: an order event only moves its instrument's quantity (O(1), the change is kept
pending). A check bounds the post-trade worst loss from above with the cached worst loss, the
pending changes and the order, each times its instrument's largest absolute move; when that
bound is under the limit (the common case) the order passes in O(instruments changed). Only
near the limit are the pending changes applied to ``pnl`` (O(scenarios) each) and the exact
post-trade worst loss computed (O(scenarios)). Floats inside, like the stress kernels; the
limit and the reason are in base currency decimals.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal

from execflow.application.pretrade.book import RiskBook
from execflow.application.pretrade.state import Pos
from execflow.domain.errors import RejectCode
from execflow.domain.validation import Rejection


class WhatIf:
    def __init__(
        self,
        book: RiskBook,
        limit: Decimal,
        base: str,
        scope: str = "firm",
        accounts: Collection[str] | None = None,
    ) -> None:
        self.book = book
        self.scope = scope
        self.accounts = None if accounts is None else frozenset(accounts)  # None: every one
        self.label = "the firm's" if scope == "firm" else f"{scope}'s"
        self.limit = float(limit)
        self.limit_text = f"{limit} {base}"
        self.scenarios: list[str] = []
        self.moves: dict[str, list[float]] = {}
        self.unit: dict[str, float] = {}
        self.max_move: dict[str, float] = {}
        self.qty: dict[str, int] = {}  # firm quantity (as if open orders filled) per instrument
        self.counted: dict[tuple[str, str], int] = {}  # (account, instrument) -> counted qty
        self.pending: dict[str, int] = {}  # quantity changes not yet in ``pnl``
        self.pnl: list[float] = []
        self.worst = 0.0  # worst loss of ``pnl`` (>= 0)
        self.exact_checks = 0  # checks that needed the O(scenarios) path (for the cost report)

    @property
    def loaded(self) -> bool:
        return bool(self.scenarios)

    def load(
        self,
        scenarios: Sequence[str],
        moves: Mapping[str, Sequence[float]],
        unit: Mapping[str, float],
    ) -> None:
        """Sensitivities from a stress run; the scenario P&L is rebuilt from the book."""
        n = len(scenarios)
        for ins, given in moves.items():
            if len(given) != n:
                raise ValueError(f"{ins}: {len(given)} moves for {n} scenarios")
        self.scenarios = list(scenarios)
        self.moves = {i: list(m) for i, m in moves.items()}
        self.unit = dict(unit)
        self.max_move = {i: max((abs(x) for x in m), default=0.0) for i, m in self.moves.items()}
        self.qty.clear()
        self.counted.clear()
        self.pending.clear()
        accounts = self.accounts
        for (acct, ins), pos in self.book.positions.items():
            if accounts is not None and acct not in accounts:
                continue
            q = pos.net + pos.buy - pos.sell
            self.counted[(acct, ins)] = q
            self.qty[ins] = self.qty.get(ins, 0) + q
        pnl = [0.0] * n
        for ins, q in self.qty.items():
            m = self.moves.get(ins)
            if m is None or not q:
                continue
            v = q * self.unit[ins]
            for s in range(n):
                pnl[s] += v * m[s]
        self.pnl = pnl
        self.worst = max(0.0, -min(pnl, default=0.0))

    def on_position(self, pos: Pos) -> None:
        """An order event moved ``pos``: O(1)."""
        if not self.scenarios or (
            self.accounts is not None and pos.account.id not in self.accounts
        ):
            return
        ins = str(pos.inst.id)
        key = (pos.account.id, ins)
        q = pos.net + pos.buy - pos.sell
        d = q - self.counted.get(key, 0)
        if d:
            self.counted[key] = q
            self.qty[ins] = self.qty.get(ins, 0) + d
            self.pending[ins] = self.pending.get(ins, 0) + d

    def _apply_pending(self) -> None:
        pnl = self.pnl
        for ins, d in self.pending.items():
            m = self.moves.get(ins)
            if m is None or not d:
                continue
            v = d * self.unit[ins]
            for s in range(len(pnl)):
                pnl[s] += v * m[s]
        self.pending.clear()
        self.worst = max(0.0, -min(pnl, default=0.0))

    def check(self, pos: Pos, side: int, qty: int) -> Rejection | None:
        if not self.scenarios or (
            self.accounts is not None and pos.account.id not in self.accounts
        ):
            return None
        ins = str(pos.inst.id)
        m = self.moves.get(ins)
        if m is None:
            return None  # an instrument the last stress run did not see: not valued
        dv = side * qty * self.unit[ins]
        bound = self.worst + abs(dv) * self.max_move[ins]
        for i, d in self.pending.items():
            if i in self.max_move:
                bound += abs(d * self.unit[i]) * self.max_move[i]
        if bound <= self.limit:
            return None
        self.exact_checks += 1
        if self.pending:
            self._apply_pending()
        pnl = self.pnl
        worst = 0.0
        at = -1
        for s in range(len(pnl)):
            loss = -(pnl[s] + dv * m[s])
            if loss > worst:
                worst, at = loss, s
        if worst > self.limit and worst > self.worst:
            return Rejection(
                RejectCode.WHAT_IF_STRESS_LOSS,
                f"after this order {self.label} stress loss would be {worst:,.2f} under "
                f"{self.scenarios[at]}; the limit is {self.limit_text}",
            )
        return None
