"""Standing settlement instructions (SSIs): for an account, a market and a currency, which
custodian (or prime broker) holds the securities and cash, in which accounts, and at which
place of settlement (CSD).

An SSI may name the market and/or the currency or leave them open (``"*"``); the most specific
one wins: (market, currency) > (market, any) > (any, currency) > (any, any), and among equals
the lower ``priority`` number. No match is an error (``SSI_MISSING``): an instruction is never
sent to a guessed custodian.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from execflow.domain.errors import DomainError

ANY = "*"


class SsiMissingError(DomainError):
    code = "SSI_MISSING"


@dataclass(frozen=True, slots=True)
class StandingSettlementInstruction:
    account: str
    custodian_bic: str  # the custodian or prime broker that settles for the account
    safekeeping_account: str  # the account's securities account at that custodian
    place_of_settlement: str  # BIC of the CSD (DTCYUS33, DAKVDEFF, CRSTGB22, SISCCH22...)
    market: str = ANY
    currency: str = ANY
    cash_account: str = ""
    prime_broker: bool = False  # a prime broker's account (give-ups settle there)
    priority: int = 0

    def matches(self, account: str, market: str, currency: str) -> bool:
        return (
            self.account == account
            and self.market in (ANY, market)
            and self.currency in (ANY, currency)
        )

    @property
    def specificity(self) -> int:
        return (self.market != ANY) * 2 + (self.currency != ANY)


class SsiBook:
    def __init__(self, ssis: Iterable[StandingSettlementInstruction] = ()) -> None:
        self._ssis = list(ssis)

    def add(self, ssi: StandingSettlementInstruction) -> None:
        self._ssis.append(ssi)

    def resolve(self, account: str, market: str, currency: str) -> StandingSettlementInstruction:
        found = [s for s in self._ssis if s.matches(account, market, currency)]
        if not found:
            raise SsiMissingError(
                f"no standing settlement instruction for account {account} in market {market} "
                f"({currency})"
            )
        return min(found, key=lambda s: (-s.specificity, s.priority))

    def custodians(self) -> list[str]:
        return sorted({s.custodian_bic for s in self._ssis})
