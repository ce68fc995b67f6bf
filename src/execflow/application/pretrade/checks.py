"""The pre-trade checks: :class:`RiskCore` over the state of its :class:`RiskBook`.

``check`` only reads (apart from the once-a-day roll): the book it reads is kept up to date from
order events (:mod:`execflow.application.pretrade.book`). No I/O, no clock: time comes in as
``now_ns``.
"""

from __future__ import annotations

from execflow.application.pretrade.book import RiskBook, _reservation
from execflow.application.pretrade.resolve import InstrumentLimits
from execflow.application.pretrade.state import InstrumentState, Pos
from execflow.domain.commands import SubmitOrder
from execflow.domain.errors import RejectCode
from execflow.domain.instruments import Instrument
from execflow.domain.orders import Order
from execflow.domain.validation import Rejection


class RiskCore(RiskBook):
    """The checks of a new order, a replace and a release, over the book they read."""

    # -- the checks --------------------------------------------------------------------------
    def check(self, cmd: SubmitOrder, instrument: Instrument, now_ns: int) -> Rejection | None:
        if now_ns >= self.next_roll_ns:
            self.roll_day(now_ns)
        acct = cmd.account
        if self.kill_all or acct in self.killed:
            return self._kill_reject(acct)
        ins = instrument.id
        lim = self._limits.get((acct, ins))
        if lim is None:
            lim = self.limits(acct, instrument)
        if lim.restricted:
            return self._reject(
                RejectCode.RESTRICTED_INSTRUMENT, f"{ins} is restricted for account {acct}"
            )
        qty = cmd.quantity
        side = cmd.side
        price = cmd.price
        ist = self.insts.get(ins) or self.inst(instrument)
        ref = ist.ref_px(self.market)
        mark = ref if ref is not None else ist.order_px
        # a stop is collared and valued at its trigger price
        limit_px = price if price is not None else cmd.stop_price
        rej = self._check_order_limits(lim, ist, instrument, qty, limit_px, ref, mark)
        if rej is not None:
            return rej
        window = lim.duplicate_window_ns
        if window:
            t = self._dup.get((acct, ins, side, qty, price))
            if t is not None and now_ns - t < window:
                return self._reject(
                    RejectCode.DUPLICATE_ORDER,
                    f"same account, instrument, side, quantity and price as an order "
                    f"{(now_ns - t) // 1_000_000} ms ago (window {window // 1_000_000} ms)",
                )
        al = lim.account
        a = self.accounts.get(acct)
        if al.max_rate is not None:
            n = a.rate(now_ns) if a is not None else 0
            if n >= al.max_rate:
                return self._reject(
                    RejectCode.RATE_LIMIT,
                    f"{n} orders in the last second; the limit is {al.max_rate} per second",
                )
        if al.max_open_orders is not None and a is not None and a.open_orders >= al.max_open_orders:
            return self._reject(
                RejectCode.MAX_OPEN_ORDERS,
                f"account {acct} has {a.open_orders} open orders; the limit is "
                f"{al.max_open_orders}",
            )
        pos = self.positions.get((acct, ins))
        if pos is None:
            pos = self.position(acct, instrument)
        if lim.max_open_orders is not None and pos.open_orders >= lim.max_open_orders:
            return self._reject(
                RejectCode.MAX_OPEN_ORDERS,
                f"account {acct} has {pos.open_orders} open orders in {ins}; the limit is "
                f"{lim.max_open_orders}",
            )
        net, sell = pos.net, pos.sell
        rej = self._check_position(pos, lim, instrument, side, qty)
        if rej is not None:
            return rej
        if (
            side < 0
            and lim.require_locate
            and net - sell - qty < 0
            and (a is None or ins not in a.located)
        ):
            return self._reject(
                RejectCode.LOCATE_REQUIRED,
                f"this sell could make account {acct} short {ins}, which needs a locate",
            )
        if (
            lim.max_gross is not None
            or lim.max_net is not None
            or lim.daily_loss is not None
            or lim.buying_power is not None
        ):
            return self._check_money(pos, lim, side, qty, mark if mark is not None else price)
        return None

    def check_replace(
        self, order: Order, quantity: int, price: int | None, instrument: Instrument, now_ns: int
    ) -> Rejection | None:
        """A replace is checked on what it changes: the per-order limits (quantity, collar,
        notional) on the new values, and the position and money limits on the quantity it adds
        above what the order has reserved already. A replace that only reduces always passes
        the position and money limits, also under a kill switch."""
        if now_ns >= self.next_roll_ns:
            self.roll_day(now_ns)
        acct, ins = order.account, instrument.id
        lim = self._limits.get((acct, ins))
        if lim is None:
            lim = self.limits(acct, instrument)
        res = self.orders.get(order.cl_ord_id)
        reserved = res.reserved if res is not None else _reservation(order)
        extra = max(0, quantity - order.cum_qty - reserved)
        if extra and (self.kill_all or acct in self.killed):
            return self._kill_reject(acct, ": a replace may not add")
        ist = self.insts.get(ins) or self.inst(instrument)
        ref = ist.ref_px(self.market)
        mark = ref if ref is not None else ist.order_px
        rej = self._check_order_limits(lim, ist, instrument, quantity, price, ref, mark)
        if rej is not None or not extra:
            return rej
        pos = self.positions.get((acct, ins))
        if pos is None:
            pos = self.position(acct, instrument)
        side = int(order.side)
        rej = self._check_position(pos, lim, instrument, side, extra)
        if rej is not None:
            return rej
        if (
            lim.max_gross is not None
            or lim.max_net is not None
            or lim.daily_loss is not None
            or lim.buying_power is not None
        ):
            return self._check_money(pos, lim, side, extra, mark if mark is not None else price)
        return None

    def check_release(self, order: Order, now_ns: int) -> Rejection | None:
        """An order the engine held (emulated, contingent) is about to go to a venue: it was
        checked when accepted and is reserved; only a kill switch stops it now."""
        acct = order.account
        if self.kill_all or acct in self.killed:
            return self._kill_reject(acct)
        return None

    def _kill_reject(self, acct: str, detail: str = "") -> Rejection:
        who = "all accounts" if self.kill_all else f"account {acct}"
        return self._reject(RejectCode.KILL_SWITCH, f"kill switch engaged for {who}{detail}")

    def _check_order_limits(
        self,
        lim: InstrumentLimits,
        ist: InstrumentState,
        instrument: Instrument,
        qty: int,
        price: int | None,
        ref: int | None,
        mark: int | None,
    ) -> Rejection | None:
        """Per-order limits: quantity, price collar around the reference, notional."""
        if lim.max_order_qty is not None and qty > lim.max_order_qty:
            return self._reject(
                RejectCode.MAX_ORDER_QTY,
                f"quantity {instrument.qty_to_decimal(qty)} is above the maximum "
                f"{instrument.qty_to_decimal(lim.max_order_qty)} per order",
            )
        ins = instrument.id
        if lim.collar_bps is not None and price is not None:
            if ref is None:
                if self.config.collar_without_reference == "reject":
                    return self._reject(
                        RejectCode.NO_REFERENCE_PRICE,
                        f"no reference price for {ins} (no mid, trade or fill): price collar "
                        "cannot be checked",
                    )
            elif abs(price - ref) * 10_000 > lim.collar_bps * ref:
                return self._reject(
                    RejectCode.PRICE_COLLAR,
                    f"price {instrument.price_to_decimal(price)} is more than "
                    f"{lim.collar_bps} bps away from the reference "
                    f"{instrument.price_to_decimal(ref)}",
                )
        if lim.max_notional is not None:
            px = price if price is not None else mark
            if px is None:
                if self.config.notional_without_price == "reject":
                    return self._reject(
                        RejectCode.NO_REFERENCE_PRICE,
                        f"no price for {ins} to value a market order's notional",
                    )
            elif ist.ceil(qty * px) > lim.max_notional:
                ccy = instrument.currency
                return self._reject(
                    RejectCode.MAX_ORDER_NOTIONAL,
                    f"notional {ist.ceil(qty * px)} {ccy} minor units is above the maximum "
                    f"{lim.max_notional} per order",
                )
        return None

    def _check_position(
        self, pos: Pos, lim: InstrumentLimits, instrument: Instrument, side: int, qty: int
    ) -> Rejection | None:
        """Max long/short position counting every open order, plus ``qty`` more."""
        net, buy, sell = pos.net, pos.buy, pos.sell
        if side > 0:
            if lim.max_long is not None and net + buy + qty > lim.max_long:
                return self._reject(
                    RejectCode.MAX_POSITION,
                    f"long position could reach {instrument.qty_to_decimal(net + buy + qty)} "
                    f"with open orders; the limit is {instrument.qty_to_decimal(lim.max_long)}",
                )
        elif lim.max_short is not None and sell + qty - net > lim.max_short:
            return self._reject(
                RejectCode.MAX_POSITION,
                f"short position could reach {instrument.qty_to_decimal(sell + qty - net)} "
                f"with open orders; the limit is {instrument.qty_to_decimal(lim.max_short)}",
            )
        return None

    def _check_money(
        self, pos: Pos, lim: InstrumentLimits, side: int, qty: int, mark: int | None
    ) -> Rejection | None:
        book = pos.book
        ccy = book.currency
        if lim.daily_loss is not None and -book.pnl >= lim.daily_loss:
            reducing = (side < 0 < pos.net and qty + pos.sell <= pos.net) or (
                side > 0 > pos.net and qty + pos.buy <= -pos.net
            )
            if not reducing:
                return self._reject(
                    RejectCode.DAILY_LOSS_LIMIT,
                    f"loss of the day {-book.pnl} {ccy} minor units has reached the limit "
                    f"{lim.daily_loss}: only orders reducing a position are accepted",
                )
        if lim.max_gross is None and lim.max_net is None and lim.buying_power is None:
            return None
        if mark is None:
            if self.config.notional_without_price == "reject":
                return self._reject(
                    RejectCode.NO_REFERENCE_PRICE,
                    f"no price for {pos.inst.id} to value the order against exposure limits",
                )
            return None
        buy, sell = pos.buy, pos.sell
        nbuy, nsell = (buy + qty, sell) if side > 0 else (buy, sell + qty)
        if lim.max_gross is not None:
            old = pos.gross_at(mark, buy, sell)
            new = pos.gross_at(mark, nbuy, nsell)
            total = book.gross - pos.c_gross + new
            if new > old and total > lim.max_gross:
                return self._reject(
                    RejectCode.MAX_GROSS_EXPOSURE,
                    f"gross exposure could reach {total} {ccy} minor units; the limit is "
                    f"{lim.max_gross}",
                )
        if lim.max_net is not None:
            if side > 0:
                old = pos.long_at(mark, buy)
                new = pos.long_at(mark, nbuy)
                total = max(book.long - pos.c_long + new, -book.short)
            else:
                old = -pos.short_at(mark, sell)
                new = -pos.short_at(mark, nsell)
                total = max(book.long, -(book.short - pos.c_short) + new)
            if new > old and total > lim.max_net:
                return self._reject(
                    RejectCode.MAX_NET_EXPOSURE,
                    f"net exposure could reach {total} {ccy} minor units; the limit is "
                    f"{lim.max_net}",
                )
        if lim.buying_power is not None and side > 0:
            total = book.spent - pos.c_spent + pos.spent_at(mark, nbuy)
            if total > lim.buying_power:
                return self._reject(
                    RejectCode.BUYING_POWER,
                    f"this order needs {total} {ccy} minor units of buying power; the account "
                    f"has {lim.buying_power}",
                )
        return None

    def _reject(self, code: RejectCode, reason: str) -> Rejection:
        self.reject_counts[code] += 1
        return Rejection(code, reason)
