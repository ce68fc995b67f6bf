"""Who, from where and why of every command an entry point sends (docs/adr/0010): the
commands of one engine batch grouped by origin, one ``CommandAudited`` event per origin,
staged with the batch's own events (committed, or rolled back, with them)."""

from __future__ import annotations

from collections.abc import Callable

from execflow.application.tickets import CommandResult
from execflow.domain.commands import Command
from execflow.domain.compliance.events import (
    AUDIT_STREAM,
    AuditedCommand,
    CommandAudited,
    Origin,
)
from execflow.domain.events import Event


class CommandAudit:
    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending: dict[Origin, list[AuditedCommand]] = {}

    def __bool__(self) -> bool:
        return bool(self._pending)

    def add(self, origin: Origin, cmd: Command, result: CommandResult) -> None:
        tag = cmd.__struct_config__.tag
        ref = (
            getattr(cmd, "cl_ord_id", None)
            or getattr(cmd, "group_id", None)
            or getattr(cmd, "negotiation_id", "")
        )
        entry = AuditedCommand(
            command=tag if isinstance(tag, str) else type(cmd).__name__,
            ref=str(ref),
            ok=result.ok,
            code=result.code,
        )
        batch = self._pending.get(origin)
        if batch is None:
            self._pending[origin] = [entry]
        else:
            batch.append(entry)

    def flush(self, record: Callable[[str, Event], None], ts: int) -> None:
        for origin, commands in self._pending.items():
            record(
                AUDIT_STREAM,
                CommandAudited(
                    ts=ts, who=origin.who, where=origin.where, why=origin.why,
                    commands=tuple(commands),
                ),
            )  # fmt: skip
        self._pending.clear()
