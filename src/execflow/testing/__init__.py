"""Test support shipped with the package: fakes of the ports, builders, market scenarios."""
