"""The promoted fill-probability model asked by the smart order router (docs/routing.md,
docs/ml.md): the bridge between the execution models' :class:`FillProbabilityModel` (a resting
limit order's chance to trade within the model's horizon, from its book) and the router's
per-venue :class:`~execflow.application.routing.FillProbability` port.

When a model is promoted, the router's *post* step asks it, for each lit venue, with that
venue's own touch (sizes included) and the trailing volatility of the NBBO mid (the model's
features, ``domain/ml/features.py``). It answers in basis points like the port. It does not
answer (``None``: the router asks its configured port, Thompson sampling or the static
priors) when:

* no model is promoted (the engine's default is the plain rule, not a trained model);
* the venue shows no two-sided quote, or the order would cross its far touch (marketable:
  the model is trained on resting orders only);
* for the dark ping and the lit IOC sweep (the model answers nothing about those).

The volatility trackers are fed the NBBO quotes on the engine thread (``bootstrap``'s market
data handler, only when a model is in use)."""

from __future__ import annotations

from execflow.application.execution_models import FillProbabilityModel
from execflow.domain.instruments import Instrument
from execflow.domain.ml.features import (
    Book,
    FillQuery,
    TrailingVolatility,
    fill_features,
)
from execflow.domain.orders import Order


class PostedFillModel:
    """The fill-probability model behind the router's post step (see the module doc)."""

    __slots__ = ("_vol", "calls", "model")

    def __init__(self, model: FillProbabilityModel) -> None:
        self.model = model
        self._vol: dict[str, TrailingVolatility] = {}
        self.calls = 0  # answers given (tests, reports)

    @property
    def name(self) -> str:
        return self.model.name

    def on_quote(self, ts: int, instrument: str, bid: int | None, ask: int | None) -> None:
        vol = self._vol.get(instrument)
        if vol is None:
            vol = self._vol[instrument] = TrailingVolatility()
        vol.update(ts, bid, ask)

    def volatility_bps(self, instrument: str) -> float:
        vol = self._vol.get(instrument)
        return 0.0 if vol is None else vol.value()

    def bps(
        self,
        parent: Order,
        instrument: Instrument,
        quantity: int,
        near: list[tuple[int, int]],
        far: list[tuple[int, int]],
    ) -> int | None:
        """The chance (bps) that ``quantity`` of ``parent`` posted at its limit on a venue whose
        near side is ``near`` and far side ``far`` (best first) trades within the model's
        horizon; None when the model cannot say (the caller's port then answers)."""
        if parent.price is None or not near or not far:
            return None
        side = int(parent.side)
        (bid, bid_size), (ask, ask_size) = (near[0], far[0]) if side > 0 else (far[0], near[0])
        q = FillQuery(
            side=side,
            price=parent.price,
            quantity=quantity,
            tick=instrument.tick_size,
            lot=instrument.lot_size,
            book=Book(bid, ask, bid_size, ask_size, self.volatility_bps(parent.instrument)),
        )
        if fill_features(q) is None:  # marketable here: not a resting order's question
            return None
        self.calls += 1
        return max(0, min(10_000, round(self.model.probability(q) * 10_000)))


def posted_fill_model(model: FillProbabilityModel) -> PostedFillModel | None:
    """The router's bridge for ``model``; None for the plain default (no model promoted):
    the router keeps its own port (``[routing] adaptive``: Thompson sampling, else priors)."""
    from execflow.domain.ml.defaults import NaiveFillProbability

    if isinstance(model, NaiveFillProbability):
        return None
    return PostedFillModel(model)
