"""Authentication and authorisation: API keys and HS256 JWTs with scopes, bound to accounts.

A :class:`Principal` is what a request is allowed to do: its scopes (``trade``, ``read``,
``admin``; ``admin`` implies the other two) and its accounts (``*`` = every account). The same
:class:`KeyRing` serves REST, WebSocket and gRPC, so the three surfaces cannot disagree.

Keys are kept only as SHA-256 digests. Sources, all merged: a JSON/TOML file
(``EXECFLOW_API_KEYS_FILE``), inline keys (``EXECFLOW_API_KEYS``) and, for JWTs, a shared
secret (``EXECFLOW_JWT_SECRET``). With none configured, :meth:`KeyRing.from_settings` makes a
random development key with every scope on every account (``serve`` prints it).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import jwt

from execflow.api.errors import ApiError
from execflow.api.settings import ApiSettings

ALL_ACCOUNTS = "*"


class Scope(StrEnum):
    TRADE = "trade"
    READ = "read"
    ADMIN = "admin"


DEV_DEFAULT_ACCOUNT = "DEFAULT"  # the dev key's account when a request names none


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: str
    scopes: frozenset[Scope]
    accounts: frozenset[str]
    rate_per_s: float | None = None
    burst: float | None = None
    # the account used when a request names none (keys file: "default_account")
    default: str | None = None

    @property
    def all_accounts(self) -> bool:
        return ALL_ACCOUNTS in self.accounts

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes or Scope.ADMIN in self.scopes

    def can_access(self, account: str) -> bool:
        return self.all_accounts or account in self.accounts

    def require(self, scope: Scope) -> None:
        if not self.has(scope):
            raise ApiError("FORBIDDEN", f"this key lacks the {scope.value!r} scope", 403)

    def require_account(self, account: str) -> None:
        if not self.can_access(account):
            raise ApiError("ACCOUNT_FORBIDDEN", f"this key may not use account {account!r}", 403)

    def default_account(self) -> str:
        """The key's default account, or the one account it is bound to; otherwise the caller
        must name one."""
        if self.default is not None:
            return self.default
        if not self.all_accounts and len(self.accounts) == 1:
            return next(iter(self.accounts))
        raise ApiError("ACCOUNT_REQUIRED", "this key has several accounts: name one")

    def visible_accounts(self, requested: Iterable[str] = ()) -> frozenset[str] | None:
        """Accounts a read may cover: ``None`` means all. Asking for a foreign one is 403."""
        wanted = frozenset(a for a in requested if a)
        for a in wanted:
            self.require_account(a)
        if wanted:
            return wanted
        return None if self.all_accounts else self.accounts


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _scopes(value: object) -> frozenset[Scope]:
    items = value.replace(",", " ").split() if isinstance(value, str) else value
    if not isinstance(items, list | tuple | set | frozenset):
        raise ValueError(f"scopes must be a list or a string, not {value!r}")
    try:
        return frozenset(Scope(str(s).strip().lower()) for s in items if str(s).strip())
    except ValueError as exc:
        raise ValueError(f"unknown scope in {value!r}: use trade, read, admin") from exc


def _accounts(value: object) -> frozenset[str]:
    items = value.replace(",", " ").split() if isinstance(value, str) else value
    if not isinstance(items, list | tuple | set | frozenset):
        raise ValueError(f"accounts must be a list or a string, not {value!r}")
    out = frozenset(str(a).strip() for a in items if str(a).strip())
    if not out:
        raise ValueError("a key needs at least one account (or '*')")
    return out


@dataclass
class KeyRing:
    keys: dict[str, Principal] = field(default_factory=dict)  # sha256(secret) -> principal
    jwt_secret: str | None = None
    jwt_audience: str | None = None
    dev_key: str | None = None  # set when the ring made a development key

    # -- building ------------------------------------------------------------------------------
    def add(
        self,
        secret: str | None,
        *,
        key_id: str,
        scopes: object,
        accounts: object,
        sha256: str | None = None,
        rate_per_s: float | None = None,
        burst: float | None = None,
        default_account: str | None = None,
    ) -> Principal:
        if not secret and not sha256:
            raise ValueError(f"key {key_id!r} needs 'key' or 'sha256'")
        p = Principal(
            key_id, _scopes(scopes), _accounts(accounts), rate_per_s, burst, default_account
        )
        if default_account is not None and not p.can_access(default_account):
            raise ValueError(f"key {key_id!r}: default account {default_account!r} not allowed")
        self.keys[sha256.lower() if sha256 else digest(secret or "")] = p
        return p

    def load_entries(self, entries: Iterable[Mapping[str, Any]]) -> None:
        for i, e in enumerate(entries):
            self.add(
                e.get("key"),
                key_id=str(e.get("id") or f"key{i + 1}"),
                scopes=e.get("scopes", ["read"]),
                accounts=e.get("accounts", []),
                sha256=e.get("sha256"),
                rate_per_s=float(e["rate_per_s"]) if "rate_per_s" in e else None,
                default_account=e.get("default_account"),
                burst=float(e["burst"]) if "burst" in e else None,
            )

    def load_file(self, path: Path) -> None:
        text = path.read_text()
        data: Any = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        entries = data if isinstance(data, list) else data.get("keys", [])
        self.load_entries(entries)
        if isinstance(data, dict) and data.get("jwt_secret"):
            self.jwt_secret = str(data["jwt_secret"])

    def load_inline(self, spec: str) -> None:
        """``secret:scopes:accounts`` entries separated by ``;`` or newlines; lists use ``,``.
        A JSON list (starting with ``[``) is read like a keys file."""
        spec = spec.strip()
        if spec.startswith("["):
            self.load_entries(json.loads(spec))
            return
        for n, part in enumerate(p.strip() for p in spec.replace("\n", ";").split(";")):
            if not part:
                continue
            pieces = part.split(":")
            if len(pieces) != 3:
                raise ValueError(f"inline key #{n + 1} must be secret:scopes:accounts")
            secret, scopes, accounts = pieces
            self.add(secret, key_id=f"env{n + 1}", scopes=scopes, accounts=accounts)

    @classmethod
    def from_settings(cls, settings: ApiSettings, *, dev_default: bool = True) -> KeyRing:
        ring = cls(jwt_secret=settings.jwt_secret, jwt_audience=settings.jwt_audience)
        if settings.keys_file is not None:
            ring.load_file(settings.keys_file)
        if settings.keys_inline:
            ring.load_inline(settings.keys_inline)
        if dev_default and not ring.keys and not ring.jwt_secret:
            ring.dev_key = "dev-" + secrets.token_urlsafe(18)
            # every account, and DEFAULT (the CLI's) when a request names none: the quick
            # path of docs/api.md works with the printed key
            ring.add(
                ring.dev_key, key_id="dev", scopes="trade read admin", accounts="*",
                default_account=DEV_DEFAULT_ACCOUNT,
            )  # fmt: skip
        return ring

    # -- checking ------------------------------------------------------------------------------
    def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise ApiError(
                "UNAUTHENTICATED", "send an API key (Authorization: Bearer or X-API-Key)", 401
            )
        p = self.keys.get(digest(token))
        if p is not None:
            return p
        if self.jwt_secret and token.count(".") == 2:
            return self._from_jwt(token)
        raise ApiError("UNAUTHENTICATED", "unknown API key", 401)

    def _from_jwt(self, token: str) -> Principal:
        assert self.jwt_secret is not None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.jwt_secret,
                algorithms=["HS256"],
                audience=self.jwt_audience,
                options={"require": ["sub", "exp"], "verify_aud": self.jwt_audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise ApiError("UNAUTHENTICATED", "token expired", 401) from None
        except jwt.PyJWTError as exc:
            raise ApiError("UNAUTHENTICATED", f"invalid token: {exc}", 401) from None
        try:
            scopes = _scopes(claims.get("scope", claims.get("scopes", "")))
            accounts = _accounts(claims.get("accounts", []))
        except ValueError as exc:
            raise ApiError("UNAUTHENTICATED", f"invalid token claims: {exc}", 401) from None
        return Principal(f"jwt:{claims['sub']}", scopes, accounts)


def bearer_token(authorization: str | None, api_key: str | None) -> str | None:
    """The credential of a request: ``X-API-Key`` or ``Authorization: Bearer <token>``."""
    if api_key:
        return api_key.strip()
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None


def make_jwt(
    secret: str,
    subject: str,
    scopes: Iterable[str],
    accounts: Iterable[str],
    *,
    ttl_s: int = 3600,
    now: float | None = None,
) -> str:
    """Issue a token (tests, tooling). The server only verifies."""
    import time

    t = int(now if now is not None else time.time())
    claims = {
        "sub": subject,
        "scope": " ".join(scopes),
        "accounts": list(accounts),
        "iat": t,
        "exp": t + ttl_s,
    }
    return jwt.encode(claims, secret, algorithm="HS256")
