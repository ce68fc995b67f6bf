"""Plotly charts as PNG: kaleido (>= 1, extra ``analytics``) drives a Chrome or Chromium that is
already installed -- Debian's ``chromium`` (``scripts/install-system-deps.sh``) or the one
``BROWSER_PATH`` names. Nothing is downloaded: kaleido's ``get_chrome`` is never called, and
the page kaleido renders in loads plotly.js from the installed plotly package and no MathJax
(kaleido's default page fetches MathJax from a CDN: offline that request fails, and under load
the failure could abort the export -- a CI run saw it)."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path
from typing import Any

#: what kaleido's browser lookup (choreographer) finds on the PATH, in its order
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def browser_path() -> str | None:
    """The browser kaleido will use: ``BROWSER_PATH`` if it is an executable, else the first
    of ``BROWSER_NAMES`` on the PATH; None if there is none."""
    env = os.environ.get("BROWSER_PATH")
    if env:
        return env if os.access(env, os.X_OK) else None
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def png_problem() -> str | None:
    """Why a PNG cannot be written here (one line), or None when it can."""
    if importlib.util.find_spec("kaleido") is None:
        return "PNG export needs kaleido >= 1: pip install 'execflow[analytics]'"
    if browser_path() is None:
        where = os.environ.get("BROWSER_PATH")
        if where:
            return f"PNG export needs Chrome or Chromium: BROWSER_PATH={where!r} is not executable"
        return (
            "PNG export needs Chrome or Chromium: install Debian's chromium "
            "(scripts/install-system-deps.sh) or set BROWSER_PATH"
        )
    return None


def write_png(fig: Any, out: Path, *, width: int = 1000, height: int = 600) -> str | None:
    """Write the plotly figure ``fig`` to ``out`` as PNG. None when written, else why not
    (one line; nothing is written)."""
    problem = png_problem()
    if problem is not None:
        return problem
    env = os.environ.get("BROWSER_PATH")
    path = browser_path()
    try:
        if not env and path is not None:
            os.environ["BROWSER_PATH"] = path  # the one this module found, whatever kaleido's order
        import kaleido  # type: ignore[import-untyped]  # analytics extra (png_problem checked)

        png = kaleido.calc_fig_sync(
            fig.to_dict(),
            opts={"format": "png", "width": width, "height": height, "scale": 1},
            kopts={"mathjax": False},  # no CDN: our charts have no LaTeX
        )
        tmp = out.with_name(out.name + ".part")
        tmp.write_bytes(png)
        tmp.replace(out)  # a reader never sees half a PNG
    except Exception as exc:  # the browser did not start, or kaleido failed
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PNG export failed with {path}: {first}"
    finally:
        if not env:
            os.environ.pop("BROWSER_PATH", None)
    return None
