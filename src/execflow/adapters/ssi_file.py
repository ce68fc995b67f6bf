"""Standing settlement instructions from a TOML file (``[[ssi]]`` tables).

```toml
[[ssi]]
account = "ACC1"
custodian_bic = "CUSTUS33"
safekeeping_account = "SAFE-US-1"
place_of_settlement = "DTCYUS33"
market = "US"            # optional, default any ("*")
currency = "USD"         # optional, default any
cash_account = "CASH-1"  # optional
prime_broker = false     # optional
priority = 0             # optional
```
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from execflow.domain.errors import InvalidValueError
from execflow.domain.settlement.ssi import ANY, SsiBook, StandingSettlementInstruction

_REQUIRED = ("account", "custodian_bic", "safekeeping_account", "place_of_settlement")
_OPTIONAL = {"market": str, "currency": str, "cash_account": str, "prime_broker": bool,
             "priority": int}  # fmt: skip


def parse_ssis(data: dict[str, Any]) -> SsiBook:
    book = SsiBook()
    for n, row in enumerate(data.get("ssi", []), 1):
        unknown = set(row) - set(_REQUIRED) - set(_OPTIONAL)
        missing = [k for k in _REQUIRED if not isinstance(row.get(k), str) or not row[k]]
        if unknown or missing:
            raise InvalidValueError(
                f"[[ssi]] #{n}: missing {missing}, unknown {sorted(unknown)}", "SSI_INVALID"
            )
        for key, kind in _OPTIONAL.items():
            if key in row and not isinstance(row[key], kind):
                raise InvalidValueError(
                    f"[[ssi]] #{n}: {key} must be {kind.__name__}", "SSI_INVALID"
                )
        book.add(
            StandingSettlementInstruction(
                row["account"],
                row["custodian_bic"],
                row["safekeeping_account"],
                row["place_of_settlement"],
                row.get("market", ANY),
                row.get("currency", ANY),
                row.get("cash_account", ""),
                row.get("prime_broker", False),
                row.get("priority", 0),
            )
        )
    return book


def load_ssis(path: str | Path) -> SsiBook:
    with open(path, "rb") as f:
        return parse_ssis(tomllib.load(f))
