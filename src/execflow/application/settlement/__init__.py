"""Settlement: from committed fills to obligations, journal entries and settlement events.

``service`` decides (:class:`SettlementService`, no engine: events in, events out) over what
``book`` knows and answers (obligations, ledger, P&L; the queries); ``ports`` holds the calendar
and FX ports; ``on_engine`` runs that service on the engine's log and bus
(:class:`SettlementDesk`: records through the engine, recovers in the shared pass, from its
``snapshot`` when there is one).
"""
