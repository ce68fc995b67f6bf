"""Helpers shared by the FIX tests."""

from __future__ import annotations


def wire(text: str) -> bytes:
    """'8=FIX.4.4|35=0|...' (without 9 and 10) → a frame with correct BodyLength/CheckSum."""
    fields = text.split("|")
    begin = fields[0].encode()
    body = ("\x01".join(fields[1:]) + "\x01").encode()
    frame = begin + b"\x019=%d\x01" % len(body) + body
    return frame + b"10=%03d\x01" % (sum(frame) & 0xFF)
