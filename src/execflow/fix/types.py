"""FIX field value types: conversions between wire bytes and Python values, format checks.

Numbers never pass through binary floating point: prices and quantities come out as
`decimal.Decimal` or as fixed-point integers with a caller-given scale. Timestamps are integer
nanoseconds since the Unix epoch (UTC), the unit of the project's Clock port.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Final

NS_PER_SECOND: Final = 1_000_000_000
NS_PER_DAY: Final = 86_400 * NS_PER_SECOND
_EPOCH_ORDINAL: Final = dt.date(1970, 1, 1).toordinal()

_INT_RE: Final = re.compile(rb"-?[0-9]+")
_UINT_RE: Final = re.compile(rb"[0-9]+")
_FLOAT_RE: Final = re.compile(rb"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_TS_RE: Final = re.compile(
    rb"([0-9]{4})([0-9]{2})([0-9]{2})-([0-9]{2}):([0-9]{2}):([0-9]{2})"
    rb"(?:\.([0-9]{3}|[0-9]{6}|[0-9]{9}|[0-9]{12}))?"
)
_TIME_RE: Final = re.compile(
    rb"([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{3}|[0-9]{6}|[0-9]{9}|[0-9]{12}))?"
)
_DATE_RE: Final = re.compile(rb"([0-9]{4})([0-9]{2})([0-9]{2})")
_MONTHYEAR_RE: Final = re.compile(rb"[0-9]{6}(?:[0-9]{2}|w[1-5])?")
_MULTI_RE: Final = re.compile(rb"[^ ]+(?: [^ ]+)*")
_CHAR_RE: Final = re.compile(rb"[!-~]")


# --------------------------------------------------------------------------- decoding
def parse_int(value: bytes) -> int:
    if _INT_RE.fullmatch(value) is None:
        raise ValueError(f"not an integer: {value!r}")
    return int(value)


def parse_decimal(value: bytes) -> Decimal:
    if _FLOAT_RE.fullmatch(value) is None:
        raise ValueError(f"not a FIX float: {value!r}")
    return Decimal(value.decode("ascii"))


def parse_fixed(value: bytes, scale: int) -> int:
    """A FIX float as an integer number of 10**-scale units; refuses to drop digits."""
    if _FLOAT_RE.fullmatch(value) is None:
        raise ValueError(f"not a FIX float: {value!r}")
    negative = value.startswith(b"-")
    if negative:
        value = value[1:]
    whole, _, frac = value.partition(b".")
    frac = frac.rstrip(b"0")
    if len(frac) > scale:
        raise ValueError(f"{value!r} has more than {scale} decimals")
    units = int(whole or b"0") * int(10**scale) + int(frac.ljust(scale, b"0") or b"0")
    return -units if negative else units


def parse_bool(value: bytes) -> bool:
    if value == b"Y":
        return True
    if value == b"N":
        return False
    raise ValueError(f"not a FIX boolean: {value!r}")


def parse_char(value: bytes) -> str:
    if len(value) != 1:
        raise ValueError(f"not a single char: {value!r}")
    return value.decode("latin-1")


def _frac_ns(frac: bytes | None) -> int:
    if not frac:
        return 0
    if len(frac) > 9:
        frac = frac[:9]  # picoseconds are accepted and truncated
    return int(frac) * int(10 ** (9 - len(frac)))


_FRACTION_LENGTHS: Final = frozenset({4, 7, 10, 13})  # "." and 3, 6, 9 or 12 digits
#: b"YYYYMMDD-HH:MM:SS" -> its nanoseconds, for the seconds parsed lately: the timestamps of
#: a message (SendingTime, TransactTime, ...) and of its neighbours mostly share a second, so
#: most parses skip the regex and the date arithmetic. Bounded (cleared when full).
_ts_heads: dict[bytes, int] = {}
_TS_HEADS_MAX: Final = 256


def parse_utc_timestamp(value: bytes) -> int:
    """YYYYMMDD-HH:MM:SS[.sss|.ssssss|.sssssssss] → nanoseconds since the epoch."""
    head_ns = _ts_heads.get(value[:17]) if len(value) >= 17 else None
    if head_ns is not None:
        rest = value[17:]
        if not rest:
            return head_ns
        if len(rest) in _FRACTION_LENGTHS and rest[0] == 0x2E and rest[1:].isdigit():
            return head_ns + _frac_ns(rest[1:])
    m = _TS_RE.fullmatch(value)
    if m is None:
        raise ValueError(f"not a UTCTimestamp: {value!r}")
    y, mo, d, h, mi, s, frac = m.groups()
    hh, mm, ss = int(h), int(mi), int(s)
    if hh > 23 or mm > 59 or ss > 60:
        raise ValueError(f"time out of range: {value!r}")
    days = dt.date(int(y), int(mo), int(d)).toordinal() - _EPOCH_ORDINAL
    head_ns = (days * 86_400 + hh * 3600 + mm * 60 + ss) * NS_PER_SECOND
    if len(_ts_heads) >= _TS_HEADS_MAX:
        _ts_heads.clear()
    _ts_heads[value[:17]] = head_ns
    return head_ns + _frac_ns(frac)


def parse_utc_time_only(value: bytes) -> int:
    """HH:MM:SS[.fraction] → nanoseconds since midnight."""
    m = _TIME_RE.fullmatch(value)
    if m is None:
        raise ValueError(f"not a UTCTimeOnly: {value!r}")
    h, mi, s, frac = m.groups()
    hh, mm, ss = int(h), int(mi), int(s)
    if hh > 23 or mm > 59 or ss > 60:
        raise ValueError(f"time out of range: {value!r}")
    return (hh * 3600 + mm * 60 + ss) * NS_PER_SECOND + _frac_ns(frac)


def parse_date(value: bytes) -> dt.date:
    """UTCDateOnly / LocalMktDate: YYYYMMDD."""
    m = _DATE_RE.fullmatch(value)
    if m is None:
        raise ValueError(f"not a date: {value!r}")
    return dt.date(int(m[1]), int(m[2]), int(m[3]))


def parse_multi(value: bytes) -> list[str]:
    """MultipleValueString / MultipleCharValue: space-separated tokens."""
    if _MULTI_RE.fullmatch(value) is None:
        raise ValueError(f"not a space-separated list: {value!r}")
    return value.decode("latin-1").split(" ")


# --------------------------------------------------------------------------- encoding
def format_decimal(value: Decimal) -> bytes:
    if not value.is_finite():
        raise ValueError(f"cannot send {value} in FIX")
    text = format(value, "f")
    return text.encode("ascii")


def format_fixed(units: int, scale: int) -> bytes:
    """Fixed-point integer (units of 10**-scale) → FIX float, trailing zeros trimmed."""
    if scale <= 0:
        return str(units * 10 ** (-scale)).encode("ascii")
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), 10**scale)
    frac_s = str(frac).rjust(scale, "0").rstrip("0")
    return f"{sign}{whole}.{frac_s}".encode() if frac_s else f"{sign}{whole}".encode()


_PRECISION_DIV: Final = {0: NS_PER_SECOND, 3: 1_000_000, 6: 1_000, 9: 1}


#: (second since the epoch, b"YYYYMMDD-HH:MM:SS") of the last timestamp formatted.
_ts_formatted: list[tuple[int, bytes]] = [(-1, b"")]


def format_utc_timestamp(ns: int, precision: int = 3) -> bytes:
    """Nanoseconds since the epoch → YYYYMMDD-HH:MM:SS[.fraction] (precision 0, 3, 6 or 9)."""
    div = _PRECISION_DIV.get(precision)
    if div is None:
        raise ValueError(f"precision must be 0, 3, 6 or 9, not {precision}")
    second, frac = divmod(ns, NS_PER_SECOND)
    cached_second, head = _ts_formatted[0]
    if second != cached_second:
        head = _format_second(ns)
        _ts_formatted[0] = (second, head)
    if not precision:
        return head
    return b"%s.%0*d" % (head, precision, frac // div)


def _format_second(ns: int) -> bytes:
    days, rem = divmod(ns, NS_PER_DAY)
    secs = rem // NS_PER_SECOND
    date = dt.date.fromordinal(_EPOCH_ORDINAL + days)
    h, rest = divmod(secs, 3600)
    m, s = divmod(rest, 60)
    text = f"{date.year:04d}{date.month:02d}{date.day:02d}-{h:02d}:{m:02d}:{s:02d}"
    return text.encode("ascii")


def format_date(value: dt.date) -> bytes:
    return f"{value.year:04d}{value.month:02d}{value.day:02d}".encode("ascii")


# --------------------------------------------------------------------------- format checks
def _re_check(pattern: re.Pattern[bytes]) -> Callable[[bytes], bool]:
    def check(value: bytes) -> bool:
        return pattern.fullmatch(value) is not None

    return check


def _parses(parser: Callable[[bytes], object]) -> Callable[[bytes], bool]:
    def check(value: bytes) -> bool:
        try:
            parser(value)
        except ValueError:
            return False
        return True

    return check


def _any(value: bytes) -> bool:
    return True


_FORMAT_CHECKS: Final[dict[str, Callable[[bytes], bool]]] = {
    "INT": _re_check(_INT_RE),
    "DAYOFMONTH": _re_check(_INT_RE),
    "TAGNUM": _re_check(_UINT_RE),
    "LENGTH": _re_check(_UINT_RE),
    "NUMINGROUP": _re_check(_UINT_RE),
    "SEQNUM": _re_check(_UINT_RE),
    "FLOAT": _re_check(_FLOAT_RE),
    "QTY": _re_check(_FLOAT_RE),
    "PRICE": _re_check(_FLOAT_RE),
    "PRICEOFFSET": _re_check(_FLOAT_RE),
    "AMT": _re_check(_FLOAT_RE),
    "PERCENTAGE": _re_check(_FLOAT_RE),
    "CHAR": _re_check(_CHAR_RE),
    "BOOLEAN": _re_check(re.compile(rb"[YN]")),
    "UTCTIMESTAMP": _parses(parse_utc_timestamp),
    "UTCTIMEONLY": _parses(parse_utc_time_only),
    "UTCDATEONLY": _parses(parse_date),
    "UTCDATE": _parses(parse_date),
    "LOCALMKTDATE": _parses(parse_date),
    "DATE": _parses(parse_date),
    "MONTHYEAR": _re_check(_MONTHYEAR_RE),
    "MULTIPLEVALUESTRING": _re_check(_MULTI_RE),
    "MULTIPLESTRINGVALUE": _re_check(_MULTI_RE),
    "MULTIPLECHARVALUE": _re_check(_MULTI_RE),
}

#: Types whose value is a list of space-separated tokens (each token checked against enums).
MULTI_VALUE_TYPES: Final = frozenset(
    {"MULTIPLEVALUESTRING", "MULTIPLESTRINGVALUE", "MULTIPLECHARVALUE"}
)
#: Types carrying raw bytes whose length is given by a preceding LENGTH field.
DATA_TYPES: Final = frozenset({"DATA", "XMLDATA"})


def format_checker(fix_type: str) -> Callable[[bytes], bool]:
    """The format check of a dictionary type name; unknown/free-text types accept anything."""
    return _FORMAT_CHECKS.get(fix_type.upper(), _any)
