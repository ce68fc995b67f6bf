"""Compliance events: every command's origin (who, from where, why) and surveillance alerts.

Streams: ``audit-commands`` (one :class:`CommandAudited` per command the engine handled, in
the batch of the command's own events) and ``compliance-alerts`` (:class:`ComplianceAlert`).
"""

from __future__ import annotations

import msgspec

from execflow.domain.events import Event, register_event_types

AUDIT_STREAM = "audit-commands"
ALERT_STREAM = "compliance-alerts"


class Origin(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Who sent a command, from where, and why.

    ``who``: ``key:<api key id>``, ``jwt:<subject>``, ``fix:<SenderCompID>``,
    ``os:<user>`` (the CLI), ``system:<component>`` (the engine's own policies).
    ``where``: the client's address (``http:127.0.0.1``), ``fix:<session>``, ``cli``, ``engine``.
    ``why``: free text when the caller gave one (``--reason``, ``X-Execflow-Reason``, FIX Text).
    """

    who: str
    where: str
    why: str = ""


SYSTEM_ORIGIN = Origin(who="system:engine", where="engine")
MAX_REASON = 500


def origin(who: str, where: str, why: str | None = None) -> Origin:
    """An origin with the reason trimmed to :data:`MAX_REASON` characters."""
    return Origin(who=who, where=where, why=(why or "").strip()[:MAX_REASON])


class AuditedCommand(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    """One command: its tag, its order/group id, and the outcome."""

    command: str
    ref: str
    ok: bool = True
    code: str | None = None


class CommandAudited(Event, frozen=True, kw_only=True, gc=False, tag="audit.command"):
    """The commands of one engine batch from one origin: who, from where, why, and each
    command with its outcome (one event per origin and batch keeps the cost per command to
    a few bytes: docs/adr/0010)."""

    who: str
    where: str
    why: str = ""
    commands: tuple[AuditedCommand, ...] = ()


class ComplianceAlert(Event, frozen=True, kw_only=True, gc=False, tag="compliance.alert"):
    """A surveillance or best-execution rule fired. ``evidence``: the facts behind it (order
    ids, prices in instrument units, counts, thresholds), JSON-ready."""

    alert_id: str
    rule: str
    severity: str
    account: str
    instrument: str
    summary: str
    evidence: dict[str, str | int | bool | list[str] | None] = {}


register_event_types(CommandAudited, ComplianceAlert)
