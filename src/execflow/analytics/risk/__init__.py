"""Portfolio risk off the order path: stress tests and scenarios, VaR and expected shortfall.

Numbers inside the kernels are float64 arrays (JAX when installed, NumPy otherwise); money
goes in and out as :class:`~decimal.Decimal` in the base currency. docs/risk.md.
"""
