"""Command handlers and venue-report handlers: small modules over the engine context
(:class:`execflow.application.context.EngineContext`), never the Engine itself."""
