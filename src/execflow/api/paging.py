"""Cursor pagination for every list endpoint (docs/api.md "Pagination").

A cursor is opaque to clients: the sort key of the last item of a page, JSON in URL-safe
base64. The next page is every item whose key sorts after it, so a page boundary does not move
when items are added before it (keyset pagination, not offsets). Pass ``next_cursor`` back as
``?cursor=``; ``next_cursor`` is null on the last page. Lists that were already paged by a
sequence (``after``/``next_after``) keep that and answer ``next_cursor`` too.
"""

from __future__ import annotations

import base64
import binascii
import json
from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Final, TypeVar

from fastapi import Query

from execflow.api.errors import ApiError

T = TypeVar("T")
Key = tuple[str | int, ...]
MAX_CURSOR: Final = 512

CursorQuery = Annotated[
    str | None,
    Query(max_length=MAX_CURSOR, description="`next_cursor` of the previous page"),
]
LimitQuery = Annotated[int, Query(ge=1, le=1000, description="items per page")]
# lists that answered every item before they were paged keep doing so without a limit (v1:
# changing a default is a breaking change, docs/api.md "Versioning and deprecation policy")
AllByDefault = Annotated[
    int | None,
    Query(ge=1, le=1000, description="items per page; omitted: every item in one answer"),
]


def encode_key(key: Key) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_key(cursor: str, arity: int | None) -> Key:
    """The key a cursor carries; 422 INVALID_CURSOR for anything this API did not hand out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        value = None
    if (
        not isinstance(value, list)
        or (arity is not None and len(value) != arity)
        or not all(isinstance(v, str | int) and not isinstance(v, bool) for v in value)
    ):
        raise ApiError("INVALID_CURSOR", "cursor is not one this API returned")
    return tuple(value)


def page(
    items: Sequence[T], key: Callable[[T], Key], limit: int | None, cursor: str | None
) -> tuple[list[T], str | None]:
    """One page of ``items`` (sorted by ``key`` ascending) after ``cursor``; the next cursor.
    ``limit`` None: every item after the cursor."""
    keys = [key(i) for i in items]
    limit = len(items) if limit is None else limit
    start = 0
    if cursor:
        # an empty list: any well-formed cursor answers an empty page
        after = decode_key(cursor, len(keys[0]) if keys else None)
        try:
            start = bisect_right(keys, after)
        except TypeError:  # a key of other types than this list's
            raise ApiError("INVALID_CURSOR", "cursor is not one this API returned") from None
    chunk = list(items[start : start + limit])  # (limit 0 of an empty list: no next page)
    more = start + limit < len(items)
    return chunk, encode_key(keys[start + limit - 1]) if more and chunk else None


def paged(
    items: list[dict[str, Any]],
    key: Callable[[dict[str, Any]], Key],
    limit: int | None,
    cursor: str | None,
) -> dict[str, Any]:
    """``{"items": ..., "next_cursor": ...}`` for a list already sorted by ``key``."""
    chunk, nxt = page(items, key, limit, cursor)
    return {"items": chunk, "next_cursor": nxt}
