"""Bus bridges: committed events from the log to other processes.

* :mod:`execflow.adapters.bus.nats` - NATS JetStream outbox publisher (resumable, exactly once
  per position in the stream) and a reader that resumes from a position with no gap and no
  duplicate. Needs ``nats-py`` (``pip install execflow[nats]``); import it explicitly.

The in-process bus is :class:`execflow.application.bus.MessageBus`; the in-process fan-out to
WebSocket/gRPC subscribers is :class:`execflow.application.feed.EventFeed`.
"""
