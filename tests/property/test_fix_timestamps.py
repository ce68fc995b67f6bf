"""UTCTimestamp formatting and parsing keep a one-second cache: the cached path must give
exactly what the uncached one gives, and refuse what the regex refuses."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from execflow.fix import types as ft

NS = st.integers(min_value=0, max_value=4_102_444_800 * 10**9)  # up to 2100
PRECISION = st.sampled_from([0, 3, 6, 9])


def _uncached_format(ns: int, precision: int) -> bytes:
    head = ft._format_second(ns)
    if not precision:
        return head
    return head + b"." + str(ns % 10**9 // 10 ** (9 - precision)).rjust(precision, "0").encode()


@given(NS, NS, PRECISION)
def test_format_and_parse_round_trip_whatever_was_cached_before(
    before: int, ns: int, precision: int
) -> None:
    ft.parse_utc_timestamp(ft.format_utc_timestamp(before, 9))  # prime both caches
    text = ft.format_utc_timestamp(ns, precision)
    assert text == _uncached_format(ns, precision)
    assert ft.parse_utc_timestamp(text) == ns - ns % 10 ** (9 - precision)


@given(NS, st.binary(max_size=14))
def test_a_cached_second_with_a_bad_fraction_is_refused(ns: int, tail: bytes) -> None:
    head = ft.format_utc_timestamp(ns, 0)
    ft.parse_utc_timestamp(head)  # cached
    value = head + tail
    valid = re.fullmatch(rb"(?:\.(?:[0-9]{3}|[0-9]{6}|[0-9]{9}|[0-9]{12}))?", tail) is not None
    try:
        ft.parse_utc_timestamp(value)
    except ValueError:
        assert not valid
    else:
        assert valid
