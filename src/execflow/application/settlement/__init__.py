"""Settlement: from committed fills to obligations, journal entries and settlement events.

``service`` decides (:class:`SettlementService`, no engine: events in, events out, the
calendar and FX ports); ``on_engine`` runs that service on the engine's log and bus
(:class:`SettlementDesk`: records through the engine, recovers in the shared pass).
"""
