"""Generate and load the protobuf/gRPC modules of ``execflow.proto`` on first use.

Nothing generated is committed. The first import runs ``grpc_tools.protoc`` in process into a
cache directory keyed by a hash of the .proto and the grpcio-tools/protobuf versions, so a
changed .proto or an upgraded protobuf regenerates and a stale copy is never used. Candidates,
first writable wins: ``$EXECFLOW_GRPC_CACHE``, ``<package>/api/grpc/.generated``, the user cache
(``$XDG_CACHE_HOME`` or ``~/.cache``)/execflow/grpc, the temp dir. Concurrent first uses (several
workers, test processes) are safe: generation holds an exclusive file lock, writes into a
temporary directory beside the target and renames it into place (atomic); a reader only ever
sees a complete directory.

The generated modules are untyped: :mod:`execflow.api.grpc.server` uses them through
``Any``-typed handles, so ``mypy --strict`` never reads them.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from importlib import metadata, resources
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

PROTO = Path(__file__).with_name("execflow.proto")
PB2 = "execflow_pb2"
PB2_GRPC = "execflow_pb2_grpc"
_lock = threading.Lock()
_loaded: list[Generated] = []  # the process's one loaded copy


class Generated(NamedTuple):
    pb2: Any
    pb2_grpc: Any
    directory: Path


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def cache_key() -> str:
    h = hashlib.sha256(PROTO.read_bytes())
    h.update(_version("grpcio-tools").encode())
    h.update(_version("protobuf").encode())
    return h.hexdigest()[:16]


def _roots() -> Iterator[Path]:
    env = os.environ.get("EXECFLOW_GRPC_CACHE")
    if env:
        yield Path(env)
    yield Path(__file__).with_name(".generated")  # not a package name: linters skip it
    xdg = os.environ.get("XDG_CACHE_HOME")
    yield (Path(xdg) if xdg else Path.home() / ".cache") / "execflow" / "grpc"
    yield (
        Path(tempfile.gettempdir()) / f"execflow-grpc-{os.getuid() if hasattr(os, 'getuid') else 0}"
    )


def _complete(d: Path) -> bool:
    return (d / f"{PB2}.py").is_file() and (d / f"{PB2_GRPC}.py").is_file()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a+b") as fh:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: rename is still atomic
            yield
            return
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _protoc(out: Path) -> None:
    from grpc_tools import protoc  # type: ignore[import-untyped]

    include = str(resources.files("grpc_tools") / "_proto")
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO.parent}",
        f"-I{include}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        str(PROTO),
    ]
    rc = protoc.main(args)
    if rc != 0:
        raise RuntimeError(f"protoc failed ({rc}) on {PROTO}")


def generated_dir() -> Path:
    """The directory holding up-to-date generated modules; generate them if needed."""
    key = cache_key()
    errors: list[str] = []
    for root in _roots():
        target = root / key
        if _complete(target):
            return target
        try:
            root.mkdir(parents=True, exist_ok=True)
            ignore = root / ".gitignore"
            if not ignore.exists():
                ignore.write_text("*\n")
            with _file_lock(root / ".lock"):
                if _complete(target):
                    return target
                tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
                try:
                    tmp.chmod(0o755)
                    _protoc(tmp)
                    if not target.exists():
                        os.replace(tmp, target)
                finally:
                    if tmp.exists():
                        shutil.rmtree(tmp, ignore_errors=True)
            if _complete(target):
                return target
        except OSError as exc:
            errors.append(f"{root}: {exc}")
    raise RuntimeError("cannot generate the gRPC modules anywhere: " + "; ".join(errors))


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load() -> Generated:
    """The generated modules (generated on first use, loaded once per process)."""
    with _lock:
        if not _loaded:
            d = generated_dir()
            pb2 = sys.modules.get(PB2) or _load(PB2, d / f"{PB2}.py")
            pb2_grpc = sys.modules.get(PB2_GRPC) or _load(PB2_GRPC, d / f"{PB2_GRPC}.py")
            _loaded.append(Generated(pb2, pb2_grpc, d))
        return _loaded[0]
