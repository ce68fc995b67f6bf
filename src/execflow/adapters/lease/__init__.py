"""Writer leases (one writer per log): in-memory, OS file lock (SQLite), PostgreSQL lease row."""
