#!/bin/sh
# Install the system packages execflow's tests use, when missing (idempotent, quiet).
#   libquickfix-dev: the independent C++ FIX engine the interop tests and `execflow bench fix`
#                    build their counterparty against (tests skip without it).
#   chromium, chromium-driver: Debian's browser for the dashboard's browser tests
#                    (tests/api/test_dashboard_browser.py drives /usr/bin/chromium with
#                    Playwright; they skip only when chromium is absent).
# Runs apt-get only as root or through sudo; otherwise says what to install and exits 0.
set -eu

missing=""
for pkg in libquickfix-dev chromium chromium-driver; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $pkg"
    fi
done
if ! command -v g++ >/dev/null 2>&1; then
    missing="$missing g++"
fi

if [ -z "$missing" ]; then
    echo "install-system-deps: libquickfix-dev, g++, chromium and chromium-driver already installed"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-system-deps: no apt-get here; install manually:$missing" >&2
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "install-system-deps: not root and no password-less sudo; install manually:$missing" >&2
    exit 0
fi

echo "install-system-deps: installing$missing (apt-get)"
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "install-system-deps: done"
