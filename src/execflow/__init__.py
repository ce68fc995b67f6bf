"""execflow: an event-sourced trade execution platform."""

__version__ = "0.1.0"
