"""Market data adapters: a seeded synthetic market and recorded-file replay."""
