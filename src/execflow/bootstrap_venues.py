"""Moved to :mod:`execflow.bootstrap.venues` (the composition root's package); this name stays
importable."""

from execflow.bootstrap.venues import (
    PaperVenueDepth,
    crossing_network,
    dark_pool,
    default_paper_venue,
    fix_venue,
    make_venues,
    paper_venue,
    routing_policy,
    venue_fee_rules,
    with_venue_fees,
)

__all__ = [
    "PaperVenueDepth",
    "crossing_network",
    "dark_pool",
    "default_paper_venue",
    "fix_venue",
    "make_venues",
    "paper_venue",
    "routing_policy",
    "venue_fee_rules",
    "with_venue_fees",
]
