"""Application layer: ports, the single-writer engine, bus, projections and policies."""
