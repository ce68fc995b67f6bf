"""Client-side waits of the test suite, in one place.

The suite must pass on a loaded 2-core machine (issue 15): a wait is an upper bound that a
correct server meets however slowly it is scheduled, never a speed assertion. A test that needs
something to *not* happen waits on an event or the Clock port, not on a short timeout."""

from __future__ import annotations

# one request/RPC to a served instance (HTTP, gRPC, WebSocket open/receive)
CLIENT_TIMEOUT_S = 120.0
# waiting for a stream to deliver a condition (several events)
STREAM_TIMEOUT_S = 120.0
# a served process (``execflow serve``/``fix serve`` in a subprocess) answering its health check:
# imports, recovery and binding take seconds idle and over a minute at a load average of 20
PROCESS_START_TIMEOUT_S = 300.0
