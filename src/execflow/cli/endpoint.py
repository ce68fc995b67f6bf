"""Where the running server of a log listens: ``<data dir>/server.json``.

``execflow serve`` writes it once it holds the writer lease and listens (URL, pid, host,
since; the development API key when the server made one, hence mode 0600 for the whole
file) and removes it on a clean shutdown. A client trusts the file only while the log's lease
is held by that pid: a server that was killed leaves a stale file, and then the lease is free
(or held by someone else), so the file is ignored.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from execflow.bootstrap import open_lease
from execflow.config import Config

SERVER_FILE = "server.json"


@dataclass(frozen=True, slots=True)
class ServerInfo:
    url: str
    pid: int
    host: str
    since_ns: int
    api_key: str | None = None


def server_file(config: Config) -> Path:
    return config.data_dir / SERVER_FILE


def write_server_file(config: Config, url: str, api_key: str | None) -> ServerInfo:
    info = ServerInfo(url, os.getpid(), socket.gethostname(), time.time_ns(), api_key)
    path = server_file(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{SERVER_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # may hold a credential
    with os.fdopen(fd, "w") as f:
        json.dump(asdict(info), f)
    os.replace(tmp, path)
    return info


def remove_server_file(config: Config) -> None:
    """Remove the file if it is this process's (a newer server's is left alone)."""
    info = read_server_file(config)
    if info is not None and info.pid == os.getpid() and info.host == socket.gethostname():
        with contextlib.suppress(FileNotFoundError):
            server_file(config).unlink()


def read_server_file(config: Config) -> ServerInfo | None:
    try:
        d = json.loads(server_file(config).read_text())
        return ServerInfo(
            str(d["url"]), int(d["pid"]), str(d["host"]), int(d["since_ns"]), d.get("api_key")
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def running_server(config: Config) -> ServerInfo | None:
    """The server that holds this log's writer lease now, if its file says where it is."""
    info = read_server_file(config)
    if info is None:
        return None
    lease = open_lease(config)
    if lease is None:
        return None
    try:
        holder = lease.holder()
    finally:
        lease.close()
    if holder is None or (holder.pid, holder.host) != (info.pid, info.host):
        return None  # stale: the server is gone (the lease is free or someone else's)
    return info
