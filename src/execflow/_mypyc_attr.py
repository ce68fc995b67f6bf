"""``mypyc_attr`` without a runtime dependency on ``mypy_extensions`` (the opt-in build, issue 17).

mypyc reads the decorator statically (as ``mypy_extensions.mypyc_attr``); at run time it is
``mypy_extensions``' own when installed, else a decorator that returns the class unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["mypyc_attr"]

if TYPE_CHECKING:
    from mypy_extensions import mypyc_attr
else:
    try:
        from mypy_extensions import mypyc_attr
    except ImportError:  # a core install: only mypyc cares about it

        def mypyc_attr(*_attrs: Any, **_kwattrs: Any) -> Any:
            return lambda cls: cls
