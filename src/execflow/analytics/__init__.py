"""Analytics: reports over the event log and its projections (Polars/DuckDB). Off the hot path."""
