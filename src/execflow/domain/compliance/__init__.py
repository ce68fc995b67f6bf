"""Compliance: who asked for what (audit), surveillance alerts, best execution."""
