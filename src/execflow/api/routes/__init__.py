"""REST and WebSocket routes, one file per resource."""
