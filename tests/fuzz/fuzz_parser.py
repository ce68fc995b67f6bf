"""Fuzz target for the FIX parser, framer and validator.

Property: whatever the bytes, they only ever raise our typed errors (FixError subclasses),
never IndexError, UnicodeDecodeError, RecursionError...

    python tests/fuzz/fuzz_parser.py [atheris/libFuzzer options]   # needs `pip install atheris`

tests/fuzz/test_fuzz_parser.py runs the same target under Hypothesis in the normal suite.
"""

from __future__ import annotations

import contextlib
import sys

from execflow.fix import codec, dictionary
from execflow.fix.errors import FixError
from execflow.fix.framing import StreamFramer
from execflow.fix.validation import Validator

DD = dictionary.builtin("FIX44")
VALIDATOR = Validator(DD)


def test_one_input(data: bytes) -> None:
    for dd in (None, DD):
        try:
            msg = codec.parse(data, dd)
        except FixError:
            continue
        with contextlib.suppress(FixError):
            VALIDATOR.validate(msg)
        for getter in (msg.get_int, msg.get_decimal, msg.get_timestamp, msg.get_str):
            for tag in msg.tags()[:8]:
                with contextlib.suppress(FixError):
                    getter(tag)
    framer = StreamFramer(max_body_length=4096)
    framer.feed(data)
    for _ in range(len(data) + 2):
        try:
            if framer.next_frame() is None:
                break
        except FixError:
            continue


def main() -> None:  # pragma: no cover - needs atheris
    import atheris  # type: ignore[import-not-found]

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":  # pragma: no cover
    main()
