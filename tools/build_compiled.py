"""Build the opt-in compiled modules with mypyc (``make compile``; issue 17).

Copies ``src/execflow`` to a temporary directory, compiles the chosen modules there with mypyc
(one group, ``build_ext --inplace`` in the copy) and installs the extension files into
``--out`` (default ``<venv>/execflow-mypyc``, outside ``src/``: nothing compiled is ever next
to a ``.py``) with a manifest holding the SHA-256 of each compiled ``.py``. At import,
``EXECFLOW_COMPILED=1`` uses the build only if every one of those ``.py`` is unchanged
(``execflow/_compiled.py``). The previous build is replaced only when the new one succeeded.

    python tools/build_compiled.py [--out DIR] [--module execflow.x.y ...]
"""

from __future__ import annotations

import argparse
import importlib.machinery
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from execflow._compiled import (  # noqa: E402
    COMPILED_MODULES,
    MANIFEST,
    MANIFEST_VERSION,
    check,
    default_dir,
    source_hash,
)

GROUP = "execflow_compiled"

MYPY_INI = """\
[mypy]
strict = True
python_version = 3.11

[mypy-holidays.*,nats.*,grpc.*,duckdb.*,sklearn.*]
ignore_missing_imports = True
"""

SETUP_PY = """\
import sys
from setuptools import setup
from mypyc.build import mypycify

setup(
    name="execflow-compiled",
    ext_modules=mypycify(
        ["--config-file=mypy.ini", *sys.argv[1:]], opt_level="3", group_name="{group}"
    ),
    script_args=["build_ext", "--inplace"],
)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--module", action="append", default=None)
    ap.add_argument(
        "--if-stale",
        action="store_true",
        help="do nothing if the build in --out has these modules and every .py is unchanged",
    )
    args = ap.parse_args()
    out: Path = (args.out or default_dir()).resolve()
    modules: list[str] = args.module or list(COMPILED_MODULES)
    if args.if_stale:
        state, reason, paths = check(out, ROOT / "src")
        if state == "on" and set(modules) <= set(paths):
            print(f"compiled build in {out} is up to date ({len(modules)} modules)")
            return
        print(f"building {out}: {state}{': ' + reason if reason else ''}")
    sources = [m.replace(".", "/") + ".py" for m in modules]
    t0, c0 = time.monotonic(), os.times()
    with tempfile.TemporaryDirectory(prefix="execflow-mypyc-build-") as tmp_s:
        tmp = Path(tmp_s)
        shutil.copytree(
            ROOT / "src" / "execflow",
            tmp / "execflow",
            ignore=shutil.ignore_patterns("__pycache__", "*.so"),
        )
        (tmp / "mypy.ini").write_text(MYPY_INI)
        (tmp / "setup.py").write_text(SETUP_PY.format(group=GROUP))
        # hash what is compiled (the copy), not what the tree holds after the build started
        hashes = {m: source_hash(tmp / s) for m, s in zip(modules, sources, strict=True)}
        env = dict(os.environ, PYTHONPATH=str(tmp))
        env.pop("EXECFLOW_COMPILED", None)
        done = subprocess.run(
            [sys.executable, "setup.py", *sources],
            cwd=tmp,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        if done.returncode != 0:
            # mypyc's errors are on stdout: show its last lines (the build's own output is long)
            sys.stdout.write("\n".join(done.stdout.splitlines()[-40:]) + "\n")
            sys.exit(f"mypyc failed (exit status {done.returncode})")
        suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
        new = out.with_name(out.name + ".new")
        shutil.rmtree(new, ignore_errors=True)
        new.mkdir(parents=True)
        manifest: dict[str, object] = {
            "version": MANIFEST_VERSION,
            "cache_tag": sys.implementation.cache_tag,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "modules": {},
            "runtime": {},
        }
        mods: dict[str, object] = {}
        for m, s in zip(modules, sources, strict=True):
            so_rel = m.replace(".", "/") + suffix
            (new / so_rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(tmp / so_rel, new / so_rel)
            mods[m] = {"so": so_rel, "source": s, "sha256": hashes[m]}
        manifest["modules"] = mods
        runtime = f"{GROUP}__mypyc"
        shutil.copy2(tmp / (runtime + suffix), new / (runtime + suffix))
        manifest["runtime"] = {runtime: runtime + suffix}
        (new / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    new.rename(out)
    c1 = os.times()
    cpu = (c1.children_user + c1.children_system) - (c0.children_user + c0.children_system)
    print(
        f"compiled {len(modules)} modules into {out} in {time.monotonic() - t0:.0f} s wall, "
        f"{cpu:.0f} s CPU (children)"
    )


if __name__ == "__main__":
    main()
