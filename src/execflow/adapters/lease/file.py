"""Writer lease on an OS file lock: the embedded (SQLite) default.

``flock(LOCK_EX | LOCK_NB)`` on ``<data dir>/writer.lock``, held on an open descriptor for the
writer's whole life. The kernel releases it when the process dies, however it dies (SIGKILL,
OOM, power loss of the process), so a stale lock cannot exist and the lease needs no expiry.
The file also says who holds it (JSON: pid, host, since, epoch, owner) for the error message a
second writer gets; the epoch counts grants, so every writer gets a larger one than the last.

``flock`` locks belong to an open file description, so two writers in one process also
exclude each other (POSIX ``fcntl`` locks would not). Local file systems only: ``flock`` over
NFS is not a lock between hosts.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path

from execflow.application.ports import LeaseHolder
from execflow.domain.errors import LeaseHeldError, LeaseLostError

LOCK_FILE = "writer.lock"


_BUSY_RETRIES = 50
_BUSY_WAIT_S = 0.01


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _parse(raw: bytes) -> LeaseHolder | None:
    try:
        d = json.loads(raw)
        return LeaseHolder(
            int(d["pid"]), str(d["host"]), int(d["since_ns"]), int(d["epoch"]), str(d["owner"])
        )
    except (ValueError, KeyError, TypeError):
        return None


def _read(fd: int) -> LeaseHolder | None:
    return _parse(os.pread(fd, 4096, 0))


class FileWriterLease:
    ttl_s: float | None = None

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.name = str(self.path)
        self._fd: int | None = None
        self._inode: tuple[int, int] | None = None

    def acquire(self, owner: str = "") -> LeaseHolder:
        if self._fd is not None:
            self.release()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            self._lock(fd)
        except BaseException:
            os.close(fd)
            raise
        try:
            last = _read(fd)
            mine = LeaseHolder(
                os.getpid(),
                socket.gethostname(),
                time.time_ns(),
                1 if last is None else last.epoch + 1,
                owner,
            )
            raw = json.dumps(
                {"pid": mine.pid, "host": mine.host, "since_ns": mine.since_ns,
                 "epoch": mine.epoch, "owner": mine.owner}
            ).encode()  # fmt: skip
            os.ftruncate(fd, 0)
            os.pwrite(fd, raw, 0)
            os.fsync(fd)
            st = os.fstat(fd)
        except BaseException:
            os.close(fd)  # closing the descriptor drops the lock
            raise
        self._fd = fd
        self._inode = (st.st_dev, st.st_ino)
        return mine

    def _lock(self, fd: int) -> None:
        # A reader asking ``holder()`` holds a shared lock for a moment; only a holder that is
        # alive (or on another host) refuses at once, a dead one's record means such a reader.
        for _ in range(_BUSY_RETRIES):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                held = _read(fd)
                if held is not None and not (held.host == socket.gethostname() and not
                                             _alive(held.pid)):  # fmt: skip
                    raise LeaseHeldError(
                        f"the log in {self.path.parent} is held by {held.describe()}"
                    ) from None
                time.sleep(_BUSY_WAIT_S)
        raise LeaseHeldError(f"the log in {self.path.parent} is locked by another process")

    def holder(self) -> LeaseHolder | None:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                held = _read(fd)
                return held if held is not None else LeaseHolder(0, "?", 0, 0, "unknown")
            return None  # nobody holds it (our shared lock goes with the descriptor)
        finally:
            os.close(fd)

    def check(self) -> None:
        """Still ours: the descriptor is open and the path still names the locked file (a
        deleted or replaced lock file would let another writer lock a new one)."""
        if self._fd is None or self._inode is None:
            raise LeaseLostError(f"the writer lease of {self.path.parent} is not held")
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            st = None
        if st is None or (st.st_dev, st.st_ino) != self._inode:
            raise LeaseLostError(f"the lock file {self.path} was removed or replaced")

    def release(self) -> None:
        fd, self._fd = self._fd, None
        self._inode = None
        if fd is not None:
            os.close(fd)  # the file stays (with the last epoch); the lock goes

    def close(self) -> None:
        self.release()
