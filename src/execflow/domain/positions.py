"""Positions: the one keeper of an (account, instrument) position, for every consumer.

The positions projection (``application/projections/positions.py``), pre-trade risk
(``application/pretrade/state.py``: each ``Pos`` keeps its position in a :class:`Position`) and
settlement's P&L (``domain/settlement/pnl.py``, average cost) all keep their positions with this
class, so a position and its realised P&L are computed once, the same way.

Every booking moves the quantity (``net_qty``, ``traded_qty``, ``fills``, ``fees``); risk books
only that (:meth:`book_quantity`: it values a position at the market itself). On top, two exact
measures of the same fills:

* **in price units** (price x quantity units, gross of fees): net quantity, the cost of the open
  quantity, realised P&L by average cost, unrealised P&L at a mark (:meth:`apply_fill`). Plain
  ints while exact (adds and full closes), a ``Fraction`` after a partial close. ``fees`` sums
  the fills' fees in minor units (+ = paid): :meth:`realized_net` is the gross realised P&L in
  money minus every fee paid (docs/adr/0007-fees-on-fills.md).
* **in money** (minor units of the instrument's currency, :meth:`book_cash`): each fill books the
  cash that settles for it (:func:`fill_cash`: the notional rounded half-even to the minor unit
  per fill; a buy pays its fees, a sell gives them up) and ``realised`` is the average-cost P&L
  over that cash. This is what settlement books: with prices finer than the currency's minor
  unit (sub-cent prices) the per-fill rounding makes it differ from the price-unit measure, and
  the positions view shows this one, so it agrees with the settlement book to the cent.

Exact rationals appear after a partial close (the average cost divides); they turn back into
ints as soon as they are whole again (usually when the position closes), which keeps the
common path in integer arithmetic.
"""

from __future__ import annotations

from fractions import Fraction

from execflow.domain.instruments import Instrument
from execflow.domain.numbers import currency_decimals

Exact = int | Fraction


class MoneyScale:
    """Price x quantity units -> minor units of the instrument's currency: ``* num / den``."""

    __slots__ = ("den", "num")

    def __init__(self, instrument: Instrument) -> None:
        shift = currency_decimals(instrument.currency) - instrument.price_decimals
        shift -= instrument.qty_decimals
        self.num = instrument.multiplier * (10**shift if shift > 0 else 1)
        self.den = 10**-shift if shift < 0 else 1

    def notional(self, price: int, qty: int) -> int:
        """``Instrument.notional(price, qty).amount`` for price, qty >= 0 (rounded half-even),
        in integers."""
        q, r = divmod(price * qty * self.num, self.den)
        if 2 * r > self.den or (2 * r == self.den and q & 1):
            q += 1
        return q


def fill_cash(scale: MoneyScale, side: int, qty: int, price: int, fee: int = 0) -> int:
    """Cash into the account for a fill, minor units: - for a buy (notional + fees), + for a sell
    (notional - fees). The same amount settlement books for the trade (its obligation)."""
    return -side * scale.notional(price, qty) - fee


def _share(amount: Exact, part: int, whole: int) -> Exact:
    """``amount * part / whole`` exactly: an int when it divides evenly."""
    if type(amount) is int:
        n = amount * part
        return n // whole if n % whole == 0 else Fraction(n, whole)
    return _exact(Fraction(amount) * part / whole)


def _exact(x: Exact) -> Exact:
    """An int again when a Fraction has come back to a whole number (ints are much faster, and
    a position that closes usually does)."""
    if type(x) is Fraction and x.denominator == 1:
        return x.numerator
    return x


class Position:
    __slots__ = (
        "account", "basis", "cost", "fees", "fills", "instrument", "net_qty", "realised",
        "realized", "traded_qty",
    )  # fmt: skip

    def __init__(self, account: str, instrument: str) -> None:
        self.account = account
        self.instrument = instrument
        self.net_qty = 0  # signed, quantity units
        # price units: signed cost of the open quantity, realised P&L (gross)
        self.cost: Exact = 0
        self.realized: Exact = 0
        self.traded_qty = 0
        self.fills = 0
        self.fees = 0  # minor units of the currency, + = paid
        # money: signed cash basis of the open quantity (- paid), realised P&L (net of fees)
        self.basis: Exact = 0
        self.realised: Exact = 0

    # -- price units ---------------------------------------------------------------------------
    @property
    def avg_cost(self) -> Fraction | None:
        return None if self.net_qty == 0 else Fraction(self.cost) / self.net_qty

    def apply_fill(self, signed_qty: int, price: int) -> None:
        """Book a fill in price units (moves ``net_qty``); the money measure: :meth:`fill`."""
        self.book(signed_qty, abs(signed_qty) * price)

    def book(self, signed_qty: int, notional: int) -> None:
        """Book a quantity bought (+) or sold (-) for ``notional`` price x quantity units in all
        (>= 0): a fill (``qty * price``) or several at once (an order's ``cum_notional``)."""
        self.fills += 1
        qty = signed_qty if signed_qty >= 0 else -signed_qty
        self.traded_qty += qty
        net = self.net_qty
        if net == 0 or (net > 0) == (signed_qty > 0):
            self.cost += notional if signed_qty > 0 else -notional
            self.net_qty = net + signed_qty
            return
        held = net if net > 0 else -net
        closing = qty if qty < held else held
        sign = 1 if net > 0 else -1
        closed = notional if closing == qty else _share(notional, closing, qty)
        if closing == held:  # full close: integers stay integers
            self.realized = _exact(self.realized + (sign * closed - self.cost))
            self.cost = 0
        else:  # the closed part's cost at the average: cost * closing / held
            released = _share(self.cost, closing, held)
            self.realized = _exact(self.realized + (sign * closed - released))
            self.cost = _exact(self.cost - released)
        self.net_qty = net - sign * closing
        if closing < qty:  # through zero: the rest opens a position the other way
            self.net_qty -= sign * (qty - closing)
            self.cost = _exact(-sign * (notional - closed))

    def realized_net(self, value_scale: Fraction) -> Fraction:
        """Gross realised P&L in minor units of the currency minus every fee paid;
        ``value_scale`` = minor units per price unit x quantity unit
        (``Instrument.notional_exact(1, 1)``)."""
        return Fraction(self.realized) * value_scale - self.fees

    def unrealized(self, mark: int) -> Fraction:
        return Fraction(self.net_qty * mark - self.cost)

    # -- money -----------------------------------------------------------------------------------
    def book_cash(self, signed_qty: int, cash: int) -> None:
        """Book a trade's cash (minor units, signed like cash) by average cost against the
        position held *before* it (``net_qty`` is not moved: :meth:`fill` and :meth:`add_trade`
        do both). A trade with no quantity (a fee alone) is realised at once."""
        net = self.net_qty
        if signed_qty == 0:
            self.realised += cash
            return
        if net == 0 or (net > 0) == (signed_qty > 0):
            self.basis += cash
            return
        qty = signed_qty if signed_qty > 0 else -signed_qty
        held = net if net > 0 else -net
        closing = qty if qty < held else held
        # exact shares of the trade's cash and of the basis (ints while they divide evenly)
        closed_cash = cash if closing == qty else _share(cash, closing, qty)
        released = self.basis if closing == held else _share(self.basis, closing, held)
        self.realised = _exact(self.realised + (closed_cash + released))
        self.basis = _exact((self.basis - released) + (cash - closed_cash))

    def fill(self, side: int, qty: int, price: int, fee: int, scale: MoneyScale) -> None:
        """Book one fill in both measures (and its fee)."""
        self.book_cash(side * qty, fill_cash(scale, side, qty, price, fee))
        self.apply_fill(side * qty, price)
        self.fees += fee

    def book_quantity(self, signed_qty: int, fee: int = 0, fills: int = 1) -> None:
        """Book a fill's quantity (and fee) only, no P&L measure: for a keeper that values the
        position itself (pre-trade risk marks it to the market; its P&L is the day's cash).
        ``fills``: how many fills the quantity sums (a rebuild books an order's at once)."""
        self.fills += fills
        self.traded_qty += signed_qty if signed_qty >= 0 else -signed_qty
        self.net_qty += signed_qty
        self.fees += fee

    def split(self, new: int, old: int, cash_in_lieu: int = 0, lieu_px: int = 0) -> None:
        """A split of ``new`` for ``old``: the position becomes ``floor(|q| x new / old)`` with
        its sign, with the same cost; the share left over is sold for ``cash_in_lieu`` (minor
        units, signed like cash) at ``lieu_px`` (price units after the split): the left-over
        share's part of the basis and cost is released into the realised P&L."""
        q = self.net_qty
        if q == 0:
            self.realised = _exact(self.realised + cash_in_lieu)
            return
        exact = Fraction(abs(q) * new, old)
        whole = int(exact)
        sign = 1 if q > 0 else -1
        frac = exact - whole
        if frac:
            released = Fraction(self.basis) * frac / exact
            self.realised = _exact(self.realised + cash_in_lieu + released)
            self.basis = _exact(self.basis - released)
            cost_part = Fraction(self.cost) * frac / exact
            self.realized = _exact(self.realized + sign * lieu_px * frac - cost_part)
            self.cost = _exact(self.cost - cost_part)
        self.net_qty = sign * whole

    def add_trade(self, signed_qty: int, cash: int) -> None:
        """Book a trade known by its quantity and cash only (settlement's obligations)."""
        self.book_cash(signed_qty, cash)
        self.net_qty += signed_qty


__all__ = ["MoneyScale", "Position", "fill_cash"]
