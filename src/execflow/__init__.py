"""execflow: an event-sourced trade execution platform."""

import os as _os

__version__ = "0.1.0"

# Opt-in compiled hot path (make compile; docs/performance.md "mypyc"): only with
# EXECFLOW_COMPILED=1, and only if every compiled module's .py is unchanged since the build.
if _os.environ.get("EXECFLOW_COMPILED", "") not in ("", "0"):
    from execflow._compiled import install as _install

    _install()


def compiled_modules() -> list[str]:
    """The execflow modules this process runs compiled (empty: all pure Python)."""
    from execflow._compiled import compiled_modules as _compiled_modules

    return _compiled_modules()
