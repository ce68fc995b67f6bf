"""What a caller gets back from the engine: a :class:`Ticket` per command, resolved with a
:class:`CommandResult` once the command's events are durable (never before the commit)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import NamedTuple

from execflow.domain.commands import Command
from execflow.domain.compliance.events import Origin


class CommandResult(NamedTuple):
    ok: bool
    cl_ord_id: str
    status: str
    code: str | None = None
    reason: str | None = None


class Ticket:
    """The caller's handle on a command: resolved once the command's events are durable."""

    __slots__ = ("_callbacks", "_event", "_staged", "command", "origin", "result")

    def __init__(self, command: Command, origin: Origin | None = None) -> None:
        self.command = command
        self.origin = origin  # who, from where, why (None: the engine's own policies)
        self.result: CommandResult | None = None
        self._staged: CommandResult | None = None
        self._event: threading.Event | None = None
        self._callbacks: list[Callable[[Ticket], None]] | None = None

    @property
    def done(self) -> bool:
        return self.result is not None

    def add_done_callback(self, fn: Callable[[Ticket], None]) -> None:
        if self.result is not None:
            fn(self)
            return
        if self._callbacks is None:
            self._callbacks = []
        self._callbacks.append(fn)

    def wait(self, timeout: float | None = None) -> CommandResult:
        """Block until resolved (when another thread runs the engine)."""
        if self.result is None:
            if self._event is None:
                self._event = threading.Event()
            if self.result is None and not self._event.wait(timeout):
                raise TimeoutError("command not processed in time")
        assert self.result is not None
        return self.result

    def _resolve(self, result: CommandResult) -> None:
        self.result = result
        if self._event is not None:
            self._event.set()
        if self._callbacks:
            for fn in self._callbacks:
                fn(self)
