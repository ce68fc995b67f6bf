"""Simulated trading sessions on a simulated clock: the demo, benchmarks, replay tests."""
