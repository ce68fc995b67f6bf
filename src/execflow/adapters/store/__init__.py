"""Event store adapters: memory, SQLite (embedded default), PostgreSQL (scale-out)."""
