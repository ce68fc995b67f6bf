"""Service API: REST + WebSocket (FastAPI), gRPC, auth, rate limits, metrics. Thin by design."""
