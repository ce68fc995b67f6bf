"""Conditional orders and firm-ups in the dark pool (issue 20/25; docs/routing.md).

A **conditional** order (``instructions.conditional``) rests in the pool but never trades
itself. When the pool sees a potential match for it at the midpoint (a firm resting order, or
another conditional order, of another account, eligible at the mid, each at least its minimum:
the pool's ``min_qty`` or the order's own ``min_qty``, whichever is larger), it invites the
holder to firm up: a :class:`FirmUpInvite` report (quantity, mid, deadline), the engine's
``order.firm_up_requested``. The holder firms up by sending an IOC order with
``instructions.firm_up_of`` = the conditional's id before the deadline:

* against a firm contra, the firm-up trades at the mid like any IOC and the conditional order
  is canceled ("firmed up by ..."); a firm-up that finds the contra gone trades nothing, and the
  conditional order stays (its invitation lapses: "the contra was gone");
* against another conditional (block crossing), the firm-up waits for the contra's firm-up; when
  both are in, they trade at the mid (the first firm-up is the maker), and both conditional
  orders are canceled.

At the deadline an invitation without a trade lapses: a :class:`FirmUpLapsed` report for each
conditional that is still open (``order.firm_up_lapsed``), a waiting firm-up is canceled ("the
contra did not firm up"), and the conditional is not invited again for one more firm-up window
(no invitation storm). A firm-up without an open invitation is canceled at once.

Invitations are checked at each ``poll`` of the pool (after its due requests), so their times
follow the pool's clock. They are in the pool's snapshot (``dark_snapshot.py``): across a
restart the open invitations, waiting firm-ups and cool-downs go on where they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from execflow.adapters.venues.orders import CANCELED, OPEN, OrderRecord
from execflow.domain.enums import Liquidity, TimeInForce
from execflow.domain.reports import Canceled, FirmUpInvite, FirmUpLapsed

if TYPE_CHECKING:
    from execflow.adapters.venues.dark import DarkPool

DEFAULT_FIRM_UP_NS = 2_000_000_000


@dataclass(slots=True)
class _Invite:
    cond: OrderRecord
    contra: OrderRecord  # a firm resting order, or another conditional order
    qty: int
    expires_at: int
    firm: OrderRecord | None = None  # the holder's firm-up, once it arrived


def invite(
    cond: OrderRecord, contra: OrderRecord, qty: int, expires_at: int, firm: OrderRecord | None
) -> _Invite:
    """An open invitation (a snapshot's restore builds them)."""
    return _Invite(cond, contra, qty, expires_at, firm)


class Conditionals:
    """The pool's conditional orders, their open invitations and the firm-ups."""

    __slots__ = ("cooldown", "firm_up_ns", "invites", "orders", "pool")

    def __init__(self, pool: DarkPool, firm_up_ns: int = DEFAULT_FIRM_UP_NS) -> None:
        if firm_up_ns <= 0:
            raise ValueError("the firm-up window must be positive")
        self.pool = pool
        self.firm_up_ns = firm_up_ns
        self.orders: dict[str, list[OrderRecord]] = {}  # instrument -> conditionals, oldest first
        self.invites: dict[str, _Invite] = {}  # conditional's cl_ord_id -> its open invitation
        self.cooldown: dict[str, int] = {}  # conditional's cl_ord_id -> not invited before

    @staticmethod
    def handles(rec: OrderRecord) -> bool:
        ins = rec.order.instructions
        return ins is not None and (ins.conditional or ins.firm_up_of is not None)

    def incoming(self, rec: OrderRecord, ts: int) -> None:
        """A new conditional order rests; a firm-up meets its invitation."""
        ins = rec.order.instructions
        assert ins is not None
        if ins.firm_up_of is not None:
            self._firm(rec, ins.firm_up_of, ts)
            return
        self.orders.setdefault(rec.order.instrument, []).append(rec)
        pool = self.pool
        if rec.tif == TimeInForce.DAY:
            pool._push(pool.end_of_day(ts), partial(pool._on_expire, rec, rec.expiry_gen))
        elif rec.tif == TimeInForce.GTD and rec.order.expire_at is not None:
            pool._push(rec.order.expire_at, partial(pool._on_expire, rec, rec.expiry_gen))
        self.scan(ts)

    # -- invitations ----------------------------------------------------------------------------
    def scan(self, now: int) -> None:
        """Lapse what is due, then invite conditional orders that have a potential match."""
        for cl, inv in sorted(self.invites.items(), key=lambda kv: kv[1].expires_at):
            if inv.expires_at <= now and cl in self.invites:
                self._lapse(inv)
        for instrument, conds in list(self.orders.items()):
            live = [c for c in conds if c.state == OPEN]
            if not live:
                del self.orders[instrument]
                continue
            self.orders[instrument] = live
            for c in live:
                if self._invitable(c, now):
                    self._invite(c, live, now)

    def _invitable(self, c: OrderRecord, now: int) -> bool:
        return (
            c.state == OPEN
            and c.order.cl_ord_id not in self.invites
            and self.cooldown.get(c.order.cl_ord_id, 0) <= now
        )

    def _need(self, rec: OrderRecord) -> int:
        ins = rec.order.instructions
        own = ins.min_qty if ins is not None and ins.min_qty is not None else 0
        return min(max(self.pool.min_qty(rec.order.instrument), own), rec.quantity - rec.cum)

    def _invite(self, c: OrderRecord, conds: list[OrderRecord], now: int) -> None:
        pool = self.pool
        instrument = c.order.instrument
        mid = pool._mid(instrument)
        if mid is None or not pool._eligible(c, mid):
            return
        need = self._need(c)
        left = c.quantity - c.cum

        def fits(o: OrderRecord) -> bool:
            o_left = o.quantity - o.cum
            return (
                o.state == OPEN
                and o.order.side != c.order.side
                and o.order.account != c.order.account
                and pool._eligible(o, mid)
                and min(left, o_left) >= max(need, self._need(o))
            )

        firm = next((o for o in pool._resting[instrument] if fits(o)), None)
        if firm is not None:
            self._open(c, firm, min(left, firm.quantity - firm.cum), mid, now)
            return
        other = next((o for o in conds if o is not c and self._invitable(o, now) and fits(o)), None)
        if other is not None:
            qty = min(left, other.quantity - other.cum)
            self._open(c, other, qty, mid, now)
            self._open(other, c, qty, mid, now)

    def _open(self, c: OrderRecord, contra: OrderRecord, qty: int, mid: int, now: int) -> None:
        expires = now + self.firm_up_ns
        self.invites[c.order.cl_ord_id] = _Invite(c, contra, qty, expires)
        head = self.pool._head(c.order.cl_ord_id, now)
        self.pool._outbox.append(FirmUpInvite(**head, quantity=qty, price=mid, expires_at=expires))

    def _lapse(self, inv: _Invite) -> None:
        cl = inv.cond.order.cl_ord_id
        del self.invites[cl]
        ts = inv.expires_at
        self.cooldown[cl] = ts + self.firm_up_ns
        if inv.firm is not None and inv.firm.state == OPEN:
            self._cancel(inv.firm, "the contra did not firm up in time", ts)
        if inv.cond.state == OPEN:
            why = "no firm-up in time" if inv.firm is None else "the contra did not firm up"
            head = self.pool._head(cl, ts)
            self.pool._outbox.append(FirmUpLapsed(**head, reason=why))

    # -- firm-ups -------------------------------------------------------------------------------
    def _firm(self, rec: OrderRecord, cond_id: str, ts: int) -> None:
        inv = self.invites.get(cond_id)
        cond = inv.cond if inv is not None else None
        if (
            inv is None or cond is None or cond.state != OPEN or inv.firm is not None
            or cond.order.account != rec.order.account or cond.order.side != rec.order.side
            or cond.order.instrument != rec.order.instrument or rec.tif != TimeInForce.IOC
        ):  # fmt: skip
            self._cancel(rec, f"no open invitation to firm up {cond_id}", ts)
            return
        inv.firm = rec
        contra = inv.contra
        contra_ins = contra.order.instructions
        if contra_ins is None or not contra_ins.conditional:
            self.pool._match(rec, ts, Liquidity.TAKER)  # against the firm resting orders
            self._done(inv, ts)
            return
        other = self.invites.get(contra.order.cl_ord_id)
        if other is None or other.firm is None or other.firm.state != OPEN:
            return  # wait for the contra's firm-up (or the deadline)
        pool = self.pool
        instrument = rec.order.instrument
        mid = pool._mid(instrument)
        if mid is not None and pool._eligible(rec, mid) and pool._eligible(other.firm, mid):
            qty = min(rec.quantity - rec.cum, other.firm.quantity - other.firm.cum)
            bid, ask = pool.reference(instrument)
            pool._fill(other.firm, qty, mid, Liquidity.MAKER, bid, ask, ts)
            pool._fill(rec, qty, mid, Liquidity.TAKER, bid, ask, ts)
        self._done(other, ts)
        self._done(inv, ts)

    def _done(self, inv: _Invite, ts: int) -> None:
        """A firm-up has been worked: its remainder is canceled, and the conditional order
        too when the firm-up traded; when it found nothing (the contra was gone), the
        conditional order stays, its invitation lapses and it cools down for a window."""
        cl = inv.cond.order.cl_ord_id
        self.invites.pop(cl, None)
        firm = inv.firm
        assert firm is not None
        if firm.state == OPEN:
            self._cancel(firm, "IOC: unfilled remainder canceled (firm-up)", ts)
        if inv.cond.state != OPEN:
            return
        if firm.cum == 0:
            self.cooldown[cl] = ts + self.firm_up_ns
            head = self.pool._head(cl, ts)
            self.pool._outbox.append(FirmUpLapsed(**head, reason="the contra was gone"))
            return
        self._cancel(inv.cond, f"firmed up by {firm.order.cl_ord_id}", ts)

    def _cancel(self, rec: OrderRecord, why: str, ts: int) -> None:
        self.pool._remove(rec, CANCELED)
        self.pool._outbox.append(Canceled(**self.pool._head(rec.order.cl_ord_id, ts), reason=why))
