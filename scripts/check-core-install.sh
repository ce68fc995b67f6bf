#!/usr/bin/env bash
# CI: a plain `pip install execflow` (no extra) must give a working CLI.
# Installs the package alone (its three core dependencies) into a fresh venv outside the tree,
# with every optional extra absent, and runs the commands a new user tries first.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(mktemp -d "${TMPDIR:-/tmp}/execflow-core.XXXXXX")
data=$(mktemp -d "${TMPDIR:-/tmp}/execflow-core-data.XXXXXX")
trap 'rm -rf "$venv" "$data"' EXIT
PY=${PY:-python3}
"$PY" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check . 2>&1 | grep -v "^WARNING: Location" || true
extras=$("$venv/bin/python" - <<'PY'
import importlib.util
# (pydantic is not listed: with pydantic-settings it is a core dependency, the settings tree)
mods = ["holidays", "polars", "duckdb", "fastapi", "starlette", "grpc", "psycopg",
        "nats", "uvicorn", "httpx", "numpy", "jax", "sklearn"]
print(" ".join(m for m in mods if importlib.util.find_spec(m) is not None))
PY
)
if [ -n "$extras" ]; then
  echo "check-core-install: a core install pulled optional packages in: $extras" >&2
  exit 1
fi
ef="$venv/bin/execflow"
run() {
  echo "check-core-install: execflow $*"
  # bounded: a command that hangs fails the check instead of the CI job
  timeout 300 "$ef" "$@" --data-dir "$data" >"$data/out.txt" 2>&1 || {
    rc=$?; cat "$data/out.txt" >&2
    echo "check-core-install: 'execflow $*' exited $rc on a core-only install" >&2; exit 1; }
}
"$ef" --help >/dev/null
"$ef" orders --help >/dev/null
run demo --store memory --hours 0.5
grep -q "settlement: not run (needs the 'settlement' extra" "$data/out.txt"
run orders submit -i AAPL -s buy -q 100
# a command that needs an extra says which one, exit code 1, no traceback
set +e
"$ef" monitor report --data-dir "$data" >"$data/out.txt" 2>&1; rc=$?
set -e
if [ "$rc" -ne 1 ] || ! grep -q "pip install 'execflow\[analytics\]'" "$data/out.txt"; then
  cat "$data/out.txt" >&2
  echo "check-core-install: 'execflow monitor report' should name the analytics extra (rc $rc)" >&2
  exit 1
fi
# stress tests need the risk extra: one sentence naming it, exit 1, no traceback
set +e
"$ef" risk stress --data-dir "$data" >"$data/out.txt" 2>&1; rc=$?
set -e
if [ "$rc" -ne 1 ] || ! grep -q "pip install 'execflow\[risk\]'" "$data/out.txt"; then
  cat "$data/out.txt" >&2
  echo "check-core-install: 'execflow risk stress' should name the risk extra (rc $rc)" >&2
  exit 1
fi
# the offline /docs and /redoc assets are in the built package, not only in the source tree
"$venv/bin/python" - <<'PY'
import importlib.util
from pathlib import Path
static = Path(importlib.util.find_spec("execflow").origin).parent / "api" / "static"
for name in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js",
             "swagger-ui.LICENSE.txt", "redoc.LICENSE.txt"):
    f = static / name
    assert f.is_file() and f.stat().st_size > 500, f"check-core-install: {f} not installed"
PY
echo "check-core-install: core-only install runs --help, orders --help, demo --store memory, orders submit"
