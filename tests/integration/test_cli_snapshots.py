"""A CLI write command without a server writes no full snapshot at its end, unless
snapshot_every events have accumulated since the last one (issue 12;
docs/adr/0011-state-snapshots.md). It does snapshot the paper venue: the venue's replay re-runs
its market's flow from its snapshot to each logged request, a cost that grows with wall time,
not with events (before, every later command replayed the market since the first one)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from execflow.bootstrap import open_snapshots, open_store
from execflow.cli.main import app as cli
from execflow.config import Config

runner = CliRunner()


def submit(data: Path, cl: str, every: int) -> None:
    env = {"EXECFLOW_URL": "", "EXECFLOW_SNAPSHOT_EVERY": str(every)}
    r = runner.invoke(
        cli,
        ["orders", "submit", "-i", "AAPL", "-s", "buy", "-q", "10", "-p", "1.00",
         "--cl-ord-id", cl, "--data-dir", str(data)],
        env=env,
    )  # fmt: skip
    assert r.exit_code == 0, r.output


def positions(data: Path) -> tuple[dict[str, int], int]:
    """(snapshot name -> its log position, the log's end)."""
    cfg = Config(data_dir=data, store="sqlite")
    snaps = open_snapshots(cfg, read_only=True)
    try:
        names = ("engine", "risk", "settlement", "venue:PAPER")
        found = {n: s.position for n in names if (s := snaps.load(n)) is not None}
    finally:
        snaps.close()
    store = open_store(cfg, read_only=True)
    try:
        return found, store.last_position()
    finally:
        store.close()


def test_a_cli_command_snapshots_only_every_n_events(tmp_path: Path) -> None:
    data = tmp_path / "d"
    submit(data, "C-1", every=50_000)
    first, end = positions(data)
    assert end > 0
    # a first start on an empty log snapshots every consumer as it starts (position 0); at the
    # end of the command only the venue is snapshotted again
    assert first.pop("venue:PAPER") == end
    assert first and all(p == 0 for p in first.values()), first
    submit(data, "C-2", every=50_000)
    second, end2 = positions(data)
    assert end2 > end and second.pop("venue:PAPER") == end2
    assert second == first  # the others: still nothing written at the end
    submit(data, "C-3", every=1)  # more than snapshot_every events since the last snapshot
    third, end3 = positions(data)
    assert {"engine", "risk", "venue:PAPER"} <= set(third)
    assert all(p == end3 for p in third.values()), (third, end3)


def test_a_missing_snapshot_is_written_at_the_next_close(tmp_path: Path) -> None:
    """A consumer that started without a usable snapshot (new since an upgrade, corrupt) gets
    one at the command's close: else every later command folds the whole log for it."""
    data = tmp_path / "d"
    submit(data, "C-1", every=50_000)
    cfg = Config(data_dir=data, store="sqlite")
    snaps = open_snapshots(cfg)
    try:
        snaps.save("settlement", 0, b"not a snapshot")  # it does not decode: a full fold
    finally:
        snaps.close()
    submit(data, "C-2", every=50_000)
    found, end = positions(data)
    assert found["settlement"] == end and found["venue:PAPER"] == end
    assert found["engine"] == 0 and found["risk"] == 0  # the others keep theirs
    submit(data, "C-3", every=50_000)  # and the settlement now starts from its own snapshot
    again, end3 = positions(data)
    assert again["settlement"] == end and end3 > end
