"""The opt-in compiled build (execflow/_compiled.py, `make compile`): which flavour runs, and a
build whose `.py` changed afterwards is never used (issue 17).

The manifest tests run everywhere; the two that need a real mypyc build run in
`make test-compiled` (they skip, saying so, when no fresh build is there).
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import execflow
from execflow import _compiled
from execflow._compiled import COMPILED_MODULES, MANIFEST, MANIFEST_VERSION, check, source_hash

SRC = Path(execflow.__file__).resolve().parent.parent


def _fake_build(tmp: Path, root: Path, *, sha: str | None = None, tag: str | None = None) -> Path:
    """A manifest for execflow.adapters.venues.book over `root` (an empty .so stands in)."""
    build = tmp / "build"
    so = build / "execflow/adapters/venues/book.so"
    so.parent.mkdir(parents=True)
    so.write_bytes(b"")
    (build / "g__mypyc.so").write_bytes(b"")
    src = "execflow/adapters/venues/book.py"
    manifest = {
        "version": MANIFEST_VERSION,
        "cache_tag": tag or sys.implementation.cache_tag,
        "modules": {
            "execflow.adapters.venues.book": {
                "so": "execflow/adapters/venues/book.so",
                "source": src,
                "sha256": sha or source_hash(root / src),
            }
        },
        "runtime": {"g__mypyc": "g__mypyc.so"},
    }
    (build / MANIFEST).write_text(json.dumps(manifest))
    return build


def _copy_tree(tmp: Path) -> Path:
    root = tmp / "src"
    shutil.copytree(
        SRC / "execflow", root / "execflow", ignore=shutil.ignore_patterns("__pycache__")
    )
    return root


def test_a_fresh_manifest_maps_each_module_and_the_group_runtime(tmp_path: Path) -> None:
    build = _fake_build(tmp_path, SRC)
    state, reason, paths = check(build, SRC)
    assert (state, reason) == ("on", "")
    assert paths == {
        "execflow.adapters.venues.book": build / "execflow/adapters/venues/book.so",
        "g__mypyc": build / "g__mypyc.so",
    }


def test_a_source_edited_after_the_build_makes_the_whole_build_stale(tmp_path: Path) -> None:
    root = _copy_tree(tmp_path)
    build = _fake_build(tmp_path, root)
    assert check(build, root)[0] == "on"
    book = root / "execflow/adapters/venues/book.py"
    book.write_text(book.read_text() + "\n# edited after the build\n")
    state, reason, paths = check(build, root)
    assert state == "stale" and "execflow/adapters/venues/book.py changed" in reason
    assert paths == {}  # nothing of the group is served, not even the unchanged runtime


def test_another_interpreter_or_a_missing_file_is_refused(tmp_path: Path) -> None:
    build = _fake_build(tmp_path, SRC, tag="cpython-39")
    assert check(build, SRC)[0] == "incompatible"
    (build / "g__mypyc.so").unlink()
    (build / MANIFEST).write_text(
        (build / MANIFEST).read_text().replace("cpython-39", sys.implementation.cache_tag)
    )
    assert check(build, SRC)[0] == "missing"
    assert check(tmp_path / "nowhere", SRC)[0] == "missing"


def test_install_of_a_stale_build_warns_and_leaves_the_import_path_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = _fake_build(tmp_path, SRC, sha="0" * 64)
    monkeypatch.setattr(_compiled, "STATUS", {"state": "off"})
    # as in a process that has not installed a build (make test-compiled's has)
    before = [f for f in sys.meta_path if not isinstance(f, _compiled.CompiledFinder)]
    monkeypatch.setattr(sys, "meta_path", list(before))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status = _compiled.install(build)
    assert status["state"] == "stale"
    assert [str(w.message) for w in caught if "compiled modules" in str(w.message)] != []
    assert sys.meta_path == before


def test_the_flavour_loaded_is_the_one_asked_for() -> None:
    for name in COMPILED_MODULES:
        importlib.import_module(name)

    loaded = execflow.compiled_modules()
    if _compiled.enabled():
        assert _compiled.STATUS["state"] == "on", _compiled.STATUS
        assert set(COMPILED_MODULES) <= set(loaded)
    else:
        assert loaded == []


def _fresh_build() -> Path:
    build = _compiled.default_dir()
    state, reason, paths = check(build, SRC)
    if state != "on":
        pytest.skip(f"no fresh compiled build in {build} ({state}: {reason}); `make test-compiled`")
    missing = sorted(set(COMPILED_MODULES) - set(paths))
    if missing:
        pytest.skip(f"the build in {build} predates {', '.join(missing)}; `make test-compiled`")
    return build


PROBE = (
    f"import execflow, json, {', '.join(COMPILED_MODULES)};"
    "from execflow.adapters.venues.book import OrderBook;"
    "b = OrderBook('X'); b.place('A', -1, 100, 100); b.place('T', 1, 60, None);"
    "print(json.dumps([execflow.compiled_modules(), b.bbo()]))"
)


def _probe(root: Path, build: Path) -> tuple[list[str], str]:
    env = dict(
        os.environ, PYTHONPATH=str(root), EXECFLOW_COMPILED="1", EXECFLOW_COMPILED_DIR=str(build)
    )
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    loaded, bbo = json.loads(out.stdout)
    assert bbo == [None, 0, 100, 40]
    return loaded, out.stderr


def test_a_real_build_runs_compiled_until_its_source_is_edited(tmp_path: Path) -> None:
    build = _fresh_build()
    root = _copy_tree(tmp_path)
    loaded, err = _probe(root, build)
    assert set(COMPILED_MODULES) <= set(loaded), err
    assert "compiled modules" not in err

    l1 = root / "execflow/adapters/marketdata/l1.py"
    l1.write_text(l1.read_text() + "\n# edited after the build\n")
    loaded, err = _probe(root, build)
    assert loaded == []  # book.py is unchanged but shares l1's group: pure Python too
    assert err.count("not using the compiled modules") == 1
    assert "execflow/adapters/marketdata/l1.py changed since the build" in err
