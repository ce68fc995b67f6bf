"""Benchmarks behind `execflow bench`: fixed seeds, fresh processes, percentiles, JSON."""
