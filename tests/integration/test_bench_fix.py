"""`execflow bench fix` runs end to end (tiny sizes; numbers are not checked, only their shape):
both servers alternate within each repetition and the JSON carries the same-run ratio."""

from __future__ import annotations

from execflow.bench import fix as bench
from execflow.bench.counterparty import unavailable_reason


def test_bench_fix_alternates_servers_and_reports_the_ratio() -> None:
    result = bench.run(n=30, warmup=5, repetitions=2, engine_thread=True)
    assert result["gc_tuned"] is False  # library use leaves the test process's GC alone
    servers = result["servers"]
    assert len(servers["execflow"]["repetitions"]) == 2
    assert servers["execflow"]["all"]["count"] == 60
    assert servers["execflow-engine-thread"]["all"]["count"] == 60  # the A/B: same run
    assert result["event_loop"] and len(result["load_average"]) == 3
    if unavailable_reason() is None:
        assert result["client"] == "cpp"
        assert servers["cpp"]["all"]["count"] == 60
        for name in ("execflow", "execflow-engine-thread"):
            cpu = servers[name]["server_cpu_us_per_round_trip"]
            assert len(cpu["repetitions"]) == 2 and cpu["median"] > 0
        assert "server_cpu_us_per_round_trip" not in servers["cpp"]
        assert set(result["ratio_execflow_to_cpp"]) == {"p50_us", "p99_us", "p99_9_us"}
    else:
        assert result["client"] == "python-initiator-in-process"
