"""Pure domain model: identifiers, fixed-point numbers, instruments, orders, events.

Standard library plus msgspec (for frozen event structs, see docs/adr/0002). No I/O, no clock,
no randomness.
"""
