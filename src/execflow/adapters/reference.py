"""Reference data shipped with execflow: a small synthetic instrument universe."""

from __future__ import annotations

from execflow.domain.ids import InstrumentId, VenueId
from execflow.domain.instruments import AssetClass, Instrument, SettlementConvention

PAPER = VenueId("PAPER")

# reference prices (in price units) the synthetic market starts from
START_PRICES: dict[str, int] = {
    "AAPL": 19_050,
    "MSFT": 41_520,
    "SPY": 58_010,
    "VOD.L": 7_212,
    "SAP.DE": 21_890,
}


def default_instruments() -> list[Instrument]:
    us = SettlementConvention("US", 1)
    return [
        Instrument(InstrumentId("AAPL"), "USD", 2, 1, 0, 1, AssetClass.EQUITY, us, PAPER),
        Instrument(InstrumentId("MSFT"), "USD", 2, 1, 0, 1, AssetClass.EQUITY, us, PAPER),
        Instrument(InstrumentId("SPY"), "USD", 2, 1, 0, 1, AssetClass.ETF, us, PAPER),
        Instrument(
            InstrumentId("VOD.L"), "GBP", 2, 2, 0, 1, AssetClass.EQUITY,
            SettlementConvention("UK", 2), PAPER,
        ),
        Instrument(
            InstrumentId("SAP.DE"), "EUR", 2, 1, 0, 1, AssetClass.EQUITY,
            SettlementConvention("EU", 2), PAPER,
        ),
    ]  # fmt: skip


# reference FX rates for the embedded default's settlement (base currency USD); a live
# deployment passes a rate provider fed by market data instead
REFERENCE_FX: dict[tuple[str, str], str] = {
    ("GBP", "USD"): "1.2650",
    ("EUR", "USD"): "1.0830",
    ("CHF", "USD"): "1.1320",
    ("JPY", "USD"): "0.006650",
}
