"""Disaster recovery (docs/dr.md): backup and restore, the hot standby, drills."""
