"""Backup formats and raw store access for ``execflow backup`` (docs/dr.md)."""
