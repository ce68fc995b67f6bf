"""Faults a simulated venue can inject, so tests can prove the engine survives them.

Each fault is either "the next N times" (deterministic) or a probability drawn from the venue's
own seeded ``random.Random`` (deterministic for a given seed). Disconnection is not here: it is
a state of the venue (``disconnect()``/``reconnect()``), not a per-report accident.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(slots=True)
class VenueFaults:
    """Mutable on purpose: a test arms a fault in the middle of a scenario.

    * ``drop_ack``: the Ack is lost (the order lives at the venue; only a status request tells).
    * ``duplicate_fill``: a Fill is delivered twice with the same exec id.
    """

    drop_next_acks: int = 0
    drop_ack_probability: float = 0.0
    duplicate_next_fills: int = 0
    duplicate_fill_probability: float = 0.0

    def take_drop_ack(self, rng: random.Random) -> bool:
        if self.drop_next_acks > 0:
            self.drop_next_acks -= 1
            return True
        return self.drop_ack_probability > 0.0 and rng.random() < self.drop_ack_probability

    def take_duplicate_fill(self, rng: random.Random) -> bool:
        if self.duplicate_next_fills > 0:
            self.duplicate_next_fills -= 1
            return True
        return (
            self.duplicate_fill_probability > 0.0 and rng.random() < self.duplicate_fill_probability
        )
