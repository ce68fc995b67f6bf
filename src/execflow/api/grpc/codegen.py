"""The protobuf/gRPC modules of ``execflow.proto``: generated, committed, checked current.

``execflow.api.grpc.gen`` holds what ``grpc_tools.protoc`` writes for ``execflow.proto``: the
messages (``execflow_pb2``), the service (``execflow_pb2_grpc``) and their typed stubs
(``.pyi``, by mypy-protobuf), so ``mypy --strict`` checks the servicer and clients against the
real message types. Regenerate after changing the .proto (or the pinned generator versions in
pyproject's ``dev`` extra) with::

    python -m execflow.api.grpc.codegen          # or: make grpc

and ``python -m execflow.api.grpc.codegen --check`` (run by tests/api/test_grpc_codegen.py)
fails when the committed files differ from what the generators write now.

The import path is mapped (``-Iexecflow/api/grpc/gen=...``) so the generated modules import
each other as ``execflow.api.grpc.gen.*``: no ``sys.path`` tricks, nothing written at run time.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

PROTO = Path(__file__).with_name("execflow.proto")
GEN_DIR = Path(__file__).with_name("gen")
VIRTUAL = "execflow/api/grpc/gen"  # the generated package, as protoc sees it
FILES = ("execflow_pb2.py", "execflow_pb2.pyi", "execflow_pb2_grpc.py", "execflow_pb2_grpc.pyi")


class Generated(NamedTuple):
    pb2: ModuleType
    pb2_grpc: ModuleType
    directory: Path


def load() -> Generated:
    """The committed generated modules (for clients that want them by handle)."""
    from execflow.api.grpc.gen import execflow_pb2, execflow_pb2_grpc

    return Generated(execflow_pb2, execflow_pb2_grpc, GEN_DIR)


def _plugin(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        raise RuntimeError(f"{name} not found: pip install 'execflow[dev]' (mypy-protobuf)")
    return found


def generate(out: Path) -> list[Path]:
    """Run protoc (messages, service, typed stubs) for ``execflow.proto`` into ``out``; return
    the generated files (under ``out / VIRTUAL``)."""
    from grpc_tools import protoc  # type: ignore[import-untyped]  # dev tool, untyped

    include = str(resources.files("grpc_tools") / "_proto")
    args = [
        "grpc_tools.protoc",
        f"-I{VIRTUAL}={PROTO.parent}",
        f"-I{include}",
        f"--plugin=protoc-gen-mypy={_plugin('protoc-gen-mypy')}",
        f"--plugin=protoc-gen-mypy_grpc={_plugin('protoc-gen-mypy_grpc')}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        f"--mypy_out={out}",
        f"--mypy_grpc_out={out}",
        str(PROTO),
    ]
    rc = protoc.main(args)
    if rc != 0:
        raise RuntimeError(f"protoc failed ({rc}) on {PROTO}")
    return [out / VIRTUAL / name for name in FILES]


def stale() -> list[str]:
    """The committed files that differ from a fresh generation (empty: current)."""
    with tempfile.TemporaryDirectory(prefix="execflow-grpc-") as tmp:
        fresh = generate(Path(tmp))
        return [
            f.name
            for f in fresh
            if not (GEN_DIR / f.name).is_file()
            or not filecmp.cmp(f, GEN_DIR / f.name, shallow=False)
        ]


def write() -> list[Path]:
    with tempfile.TemporaryDirectory(prefix="execflow-grpc-") as tmp:
        written = []
        for f in generate(Path(tmp)):
            target = GEN_DIR / f.name
            shutil.copyfile(f, target)
            written.append(target)
        return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Generate (or --check) the gRPC modules.")
    ap.add_argument("--check", action="store_true", help="exit 1 if the committed files differ")
    args = ap.parse_args(argv)
    if args.check:
        diff = stale()
        verdict = f"stale: {', '.join(diff)}" if diff else "current"
        sys.stdout.write(f"gRPC modules: {verdict}\n")
        return 1 if diff else 0
    for path in write():
        sys.stdout.write(f"wrote {path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
