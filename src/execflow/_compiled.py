"""Opt-in mypyc-compiled modules that are never stale (issue 17).

``make compile`` (``tools/build_compiled.py``) compiles ``COMPILED_MODULES`` with mypyc into a
directory outside ``src/`` (default ``<venv>/execflow-mypyc``) and writes a manifest there: for
each module the SHA-256 of the ``.py`` it was compiled from. Nothing of that directory is on
``sys.path``, so an import never finds a ``.so`` by accident.

Only with ``EXECFLOW_COMPILED=1`` does ``execflow/__init__.py`` call :func:`install`, which
compares every manifest hash with the ``.py`` on disk *before anything compiled is loaded*. All
match: a meta-path finder serves those modules from the ``.so`` files. One differs (the ``.py``
was edited after the build), the build is for another interpreter, or a file is missing: one
warning, and every module is imported as pure Python. All or nothing, because the modules of one
mypyc group call each other's native code directly: a compiled module beside a pure-Python
sibling of its group would read native type objects that were never initialised.

The pure-Python modules are the default and the fallback; ``compiled_modules()`` says which
flavour a process actually runs (``execflow bench orders`` writes it to its JSON).
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import warnings
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Final

# The modules `make compile` builds: each one measured to pay (docs/performance.md, "mypyc").
COMPILED_MODULES: Final[tuple[str, ...]] = (
    "execflow.adapters.venues.book",
    "execflow.adapters.marketdata.l1",
    "execflow.adapters.venues.matching",
    "execflow.adapters.venues.paper",
    "execflow.adapters.marketdata.synthetic",
    "execflow.application.pretrade.checks",
    "execflow.application.pretrade.book",
    "execflow.application.pretrade.state",
    "execflow.application.pretrade.risk_engine",
    "execflow.application.core",
    "execflow.application.handlers.submit",
    "execflow.application.handlers.reports",
    "execflow.application.uow",
)

ENV_ON: Final = "EXECFLOW_COMPILED"
ENV_DIR: Final = "EXECFLOW_COMPILED_DIR"
MANIFEST: Final = "manifest.json"
MANIFEST_VERSION: Final = 1

# what install() found: "off" (not asked), "on", "stale", "missing", "incompatible"
STATUS: dict[str, object] = {"state": "off"}


def default_dir() -> Path:
    """Where `make compile` puts the build: inside the active virtual environment."""
    env = os.environ.get(ENV_DIR)
    return Path(env) if env else Path(sys.prefix) / "execflow-mypyc"


def source_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def package_root() -> Path:
    """The directory holding the `execflow` package (src/ in a checkout)."""
    return Path(__file__).resolve().parent.parent


def enabled() -> bool:
    return os.environ.get(ENV_ON, "") not in ("", "0")


class CompiledFinder(importlib.abc.MetaPathFinder):
    """Serves exactly the modules of one verified build from their extension files."""

    def __init__(self, paths: dict[str, Path]) -> None:
        self.paths = paths

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        so = self.paths.get(fullname)
        if so is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader(fullname, str(so))
        return importlib.util.spec_from_file_location(fullname, str(so), loader=loader)


def _refuse(state: str, reason: str, directory: Path) -> dict[str, object]:
    STATUS.clear()
    STATUS.update({"state": state, "dir": str(directory), "reason": reason})
    warnings.warn(
        f"execflow: not using the compiled modules in {directory}: {reason}; "
        "running pure Python (rebuild with `make compile`)",
        RuntimeWarning,
        stacklevel=2,
    )
    return STATUS


def check(directory: Path, root: Path | None = None) -> tuple[str, str, dict[str, Path]]:
    """(state, reason, module -> extension file) for the build in `directory`.

    Reads only the manifest and the `.py` sources; loads nothing.
    """
    root = package_root() if root is None else root
    manifest_path = directory / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as e:
        return "missing", f"no readable {manifest_path} ({e.__class__.__name__})", {}
    if manifest.get("version") != MANIFEST_VERSION:
        return "incompatible", f"manifest version {manifest.get('version')!r}", {}
    if manifest.get("cache_tag") != sys.implementation.cache_tag:
        return (
            "incompatible",
            f"built for {manifest.get('cache_tag')}, this is {sys.implementation.cache_tag}",
            {},
        )
    paths: dict[str, Path] = {}
    stale: list[str] = []
    for name, entry in sorted(manifest.get("modules", {}).items()):
        so = directory / entry["so"]
        if not so.is_file():
            return "missing", f"{so} is missing", {}
        src = root / entry["source"]
        if not src.is_file() or source_hash(src) != entry["sha256"]:
            stale.append(entry["source"])
        paths[name] = so
    if stale:
        return "stale", f"{', '.join(stale)} changed since the build", {}
    for name, rel in manifest.get("runtime", {}).items():
        so = directory / rel
        if not so.is_file():
            return "missing", f"{so} is missing", {}
        paths[name] = so
    if not paths:
        return "missing", "the manifest lists no module", {}
    return "on", "", paths


def install(directory: Path | None = None) -> dict[str, object]:
    """Put the compiled build on the import path if it is fresh; else warn once, change nothing."""
    directory = default_dir() if directory is None else directory
    if any(isinstance(f, CompiledFinder) for f in sys.meta_path):
        return STATUS
    state, reason, paths = check(directory)
    if state != "on":
        return _refuse(state, reason, directory)
    early = sorted(n for n in paths if n in sys.modules)
    if early:
        return _refuse("incompatible", f"{', '.join(early)} already imported", directory)
    sys.meta_path.insert(0, CompiledFinder(paths))
    STATUS.clear()
    STATUS.update({"state": "on", "dir": str(directory)})
    return STATUS


def compiled_modules() -> list[str]:
    """The execflow modules this process has loaded from compiled extension files."""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    out = []
    for name, mod in list(sys.modules.items()):
        if not name.startswith("execflow."):
            continue
        origin = getattr(getattr(mod, "__spec__", None), "origin", None) or ""
        if origin.endswith(suffixes):
            out.append(name)
    return sorted(out)
