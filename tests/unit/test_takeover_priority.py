"""A takeover's CPU priority (``Config.takeover_nice``, docs/dr.md): the building thread is
reniced, threads it starts inherit it, and every thread goes back afterwards; refused
quietly without the privilege."""

from __future__ import annotations

import os
import threading

import pytest

from execflow.dr.priority import boost, restore

pytestmark = pytest.mark.skipif(not hasattr(os, "setpriority"), reason="POSIX priorities")


def test_boost_renices_the_thread_and_its_children_and_restore_puts_them_back() -> None:
    seen: dict[str, int | None] = {}

    def takeover() -> None:
        seen["before"] = os.getpriority(os.PRIO_PROCESS, 0)
        previous = boost(-1)
        seen["previous"] = previous
        if previous is None:  # no CAP_SYS_NICE here: refused, nothing changed
            seen["after_refusal"] = os.getpriority(os.PRIO_PROCESS, 0)
            return
        seen["boosted"] = os.getpriority(os.PRIO_PROCESS, 0)
        child = threading.Thread(
            target=lambda: seen.__setitem__("child", os.getpriority(os.PRIO_PROCESS, 0))
        )
        child.start()
        child.join()
        assert restore(previous) >= 1
        seen["restored"] = os.getpriority(os.PRIO_PROCESS, 0)

    t = threading.Thread(target=takeover)
    t.start()
    t.join()
    if seen["previous"] is None:
        assert seen["after_refusal"] == seen["before"]
        return
    assert seen["previous"] == seen["before"]
    assert seen["boosted"] == max(-20, seen["before"] - 1)  # type: ignore[operator]
    assert seen["child"] == seen["boosted"]  # the engine/server threads it starts inherit it
    assert seen["restored"] == seen["before"]


def test_no_boost_asked_is_no_change() -> None:
    before = os.getpriority(os.PRIO_PROCESS, 0)
    assert boost(0) is None and boost(3) is None
    assert os.getpriority(os.PRIO_PROCESS, 0) == before
