#!/usr/bin/env bash
# Run the fast test suite. "No tests ran" (pytest exit 5) is a failure, said out loud.
set -uo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "run-tests: pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$rc"
