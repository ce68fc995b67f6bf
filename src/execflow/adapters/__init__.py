"""Adapters: everything that touches the outside world, each behind an application port."""
