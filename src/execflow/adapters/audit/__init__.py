"""The audit trail's adapters: the checkpoint signing key in the data directory."""
