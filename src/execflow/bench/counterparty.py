"""The independent C++ FIX counterparty (tests/interop/cpp_counterparty.cpp, built against the
Debian package libquickfix-dev): build it, write its session settings, run it.

Used by the interop tests and by ``execflow bench fix``. Nothing here is needed at run time:
when the headers, the library or g++ are missing, `build` says why and returns None.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

HEADER = Path("/usr/include/quickfix/Application.h")
SOURCE_NAME = "cpp_counterparty.cpp"


def default_source() -> Path | None:
    """tests/interop/cpp_counterparty.cpp of a source checkout (None when not found)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "tests" / "interop" / SOURCE_NAME
        if candidate.is_file():
            return candidate
    return None


def unavailable_reason() -> str | None:
    """Why the counterparty cannot be built here, or None if it can."""
    if not HEADER.is_file():
        return f"{HEADER} missing: install libquickfix-dev (scripts/install-system-deps.sh)"
    if shutil.which("g++") is None:
        return "g++ not found"
    libs = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib", "/usr/local/lib")
    if not any(Path(d, "libquickfix.so").exists() for d in libs):
        return "libquickfix.so not found: install libquickfix-dev"
    return None


def build(source: Path, cache_dir: Path) -> Path:
    """Compile ``source`` into ``cache_dir`` (once per source content). Raises RuntimeError
    with the compiler's output when it fails."""
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    cache_dir.mkdir(parents=True, exist_ok=True)
    binary = cache_dir / f"cpp_counterparty-{digest}"
    if binary.is_file() and os.access(binary, os.X_OK):
        return binary
    tmp = binary.with_suffix(f".tmp{os.getpid()}")
    cmd = [
        "g++", "-O2", "-std=gnu++14", "-Wno-deprecated", "-Wno-deprecated-declarations",
        "-o", str(tmp), str(source), "-lquickfix", "-lpthread",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"building {source.name} failed:\n{proc.stderr[-4000:]}")
    tmp.replace(binary)
    return binary


def spec_path(name: str) -> Path:
    """One of our shipped dictionaries (standard format, readable by the C++ engine)."""
    return Path(str(resources.files("execflow.fix").joinpath("spec", name)))


def transport_dictionary(directory: Path) -> Path:
    """Our FIXT11.xml with the application MsgTypes of FIX50SP2.xml added to MsgType (35).

    Our transport dictionary enumerates only the session-level MsgTypes (our validator checks
    MsgType against the messages, not the enum); the C++ engine checks header values against
    the transport dictionary's enums, so it needs the full list."""
    import xml.etree.ElementTree as ET

    tree = ET.parse(spec_path("FIXT11.xml"))
    app = ET.parse(spec_path("FIX50SP2.xml"))
    msg_type = tree.getroot().find("./fields/field[@number='35']")
    app_type = app.getroot().find("./fields/field[@number='35']")
    if msg_type is not None and app_type is not None:
        have = {v.get("enum") for v in msg_type.findall("value")}
        for value in app_type.findall("value"):
            if value.get("enum") not in have:
                msg_type.append(value)
    path = directory / "FIXT11-with-app-msgtypes.xml"
    tree.write(path, encoding="utf-8", xml_declaration=True)
    return path


@dataclass(frozen=True, slots=True)
class CounterpartySession:
    """One session of the C++ counterparty, from its side."""

    begin_string: str
    sender_comp_id: str
    target_comp_id: str
    port: int
    acceptor: bool
    heartbeat_s: int = 30
    use_dictionary: bool = True
    reset_on_logon: bool = False

    def write(self, directory: Path) -> Path:
        """Write the settings file (and its store/log directories) into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        lines = [
            "[DEFAULT]",
            f"ConnectionType={'acceptor' if self.acceptor else 'initiator'}",
            "StartTime=00:00:00",
            "EndTime=00:00:00",
            f"HeartBtInt={self.heartbeat_s}",
            f"FileStorePath={directory / 'store'}",
            f"FileLogPath={directory / 'log'}",
            "ValidateUserDefinedFields=N",
            "ReconnectInterval=1",
            f"ResetOnLogon={'Y' if self.reset_on_logon else 'N'}",
            "PersistMessages=Y",
            "",
            "[SESSION]",
            f"BeginString={self.begin_string}",
            f"SenderCompID={self.sender_comp_id}",
            f"TargetCompID={self.target_comp_id}",
        ]
        if self.acceptor:
            lines.append(f"SocketAcceptPort={self.port}")
            lines.append("SocketAcceptHost=127.0.0.1")
        else:
            lines += ["SocketConnectHost=127.0.0.1", f"SocketConnectPort={self.port}"]
        fixt = self.begin_string == "FIXT.1.1"
        if fixt:
            lines.append("DefaultApplVerID=FIX.5.0SP2")
        if not self.use_dictionary:
            lines.append("UseDataDictionary=N")
        elif fixt:
            lines.append("UseDataDictionary=Y")
            lines.append(f"TransportDataDictionary={transport_dictionary(directory)}")
            lines.append(f"AppDataDictionary={spec_path('FIX50SP2.xml')}")
        else:
            lines.append("UseDataDictionary=Y")
            lines.append(f"DataDictionary={spec_path('FIX44.xml')}")
        path = directory / "session.cfg"
        path.write_text("\n".join(lines) + "\n")
        return path


class CounterpartyProcess:
    """The C++ counterparty running as a child process; stdout lines are collected."""

    def __init__(self, binary: Path, mode: str, settings: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [str(binary), mode, str(settings), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self.lines: list[str] = []
        import threading

        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, prefix: str, timeout_s: float = 10.0, count: int = 1) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if sum(1 for line in self.lines if line.startswith(prefix)) >= count:
                return True
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.01)
        return sum(1 for line in self.lines if line.startswith(prefix)) >= count

    def count(self, prefix: str) -> int:
        return sum(1 for line in self.lines if line.startswith(prefix))

    def wait(self, timeout_s: float) -> int:
        rc = self.proc.wait(timeout_s)
        self._reader.join(2)
        return rc

    def stop(self, timeout_s: float = 5.0) -> None:
        if self.proc.poll() is None:
            if self.proc.stdin is not None:
                self.proc.stdin.close()  # the acceptor stops (and logs out) when stdin closes
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout_s)
        self._reader.join(2)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
