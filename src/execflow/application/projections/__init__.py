"""Read models folded from committed events, fed by the bus."""
