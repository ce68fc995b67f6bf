"""The one settings tree (execflow.settings): defaults < environment < --config TOML file <
command-line options, section by section; one default per setting; errors name the setting."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from execflow.config import ApiSettings, Config
from execflow.settings import ENV_VARS, FixVenueSpec, PaperVenueSpec, Settings

ROOT = Path(__file__).parents[2]


def toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "execflow.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_dataclass_defaults_and_one_paper_venue() -> None:
    s = Settings.load(environ={})
    assert s.engine == Config()
    assert s.api == ApiSettings()
    assert s.venues == (PaperVenueSpec(),)


def test_the_grpc_port_has_one_default() -> None:
    # it had two: 50051 from the environment parser, -1 from the dataclass
    assert ApiSettings().grpc_port == 50051
    assert Settings.load(environ={}).api.grpc_port == 50051


def test_environment_overrides_defaults() -> None:
    env = {"EXECFLOW_STORE": "memory", "EXECFLOW_SEED": "3", "EXECFLOW_SYNC": "normal",
           "EXECFLOW_GRPC_PORT": "-1", "EXECFLOW_WS_COMPRESSION": "off"}  # fmt: skip
    s = Settings.load(environ=env)
    assert (s.engine.store, s.engine.seed, s.engine.sqlite_synchronous) == ("memory", 3, "NORMAL")
    assert s.api.grpc_port == -1
    assert s.api.ws_compression is False


def test_the_tca_files_of_the_api_are_settings(tmp_path: Path) -> None:
    env = {"EXECFLOW_TCA_MARKET": "/m/market.csv", "EXECFLOW_TCA_METRICS": "/m/metrics.toml"}
    s = Settings.load(environ=env)
    assert (s.api.tca_market, s.api.tca_metrics) == (Path("/m/market.csv"), Path("/m/metrics.toml"))
    path = toml(tmp_path, '[api]\ntca_metrics = "/f/metrics.toml"\n')
    assert Settings.load(path, environ=env).api.tca_metrics == Path("/f/metrics.toml")
    assert Settings.load(environ={}).api.tca_market is None


def test_an_empty_variable_counts_as_unset() -> None:
    s = Settings.load(environ={"EXECFLOW_PG_SCHEMA": "", "EXECFLOW_STORE": "  "})
    assert s.engine.pg_schema == "public"
    assert s.engine.store == "sqlite"


def test_the_config_file_overrides_the_environment(tmp_path: Path) -> None:
    path = toml(tmp_path, '[engine]\nstore = "memory"\nseed = 11\n[api]\ngrpc_port = 6000\n')
    env = {"EXECFLOW_STORE": "postgres", "EXECFLOW_SEED": "3", "EXECFLOW_GRPC_PORT": "7000"}
    s = Settings.load(path, environ=env)
    assert (s.engine.store, s.engine.seed, s.api.grpc_port) == ("memory", 11, 6000)


def test_sections_merge_setting_by_setting(tmp_path: Path) -> None:
    """A file that sets one engine setting leaves the others to the environment."""
    path = toml(tmp_path, "[engine]\nseed = 11\n")
    s = Settings.load(path, environ={"EXECFLOW_STORE": "memory", "EXECFLOW_API_RATE": "5"})
    assert (s.engine.seed, s.engine.store, s.api.rate_per_s) == (11, "memory", 5.0)


def test_options_override_the_file_and_the_environment(tmp_path: Path) -> None:
    path = toml(tmp_path, '[engine]\nstore = "memory"\ndata_dir = "from-file"\n')
    s = Settings.load(
        path,
        environ={"EXECFLOW_STORE": "postgres", "EXECFLOW_GRPC_PORT": "7000"},
        engine={"store": "sqlite", "data_dir": None},  # None: the option was not given
        api={"grpc_port": 9000},
    )
    assert s.engine.store == "sqlite"
    assert s.engine.data_dir == Path("from-file")
    assert s.api.grpc_port == 9000


def test_execflow_config_names_the_file_and_an_explicit_file_wins(tmp_path: Path) -> None:
    a = toml(tmp_path, "[engine]\nseed = 1\n")
    b = tmp_path / "b.toml"
    b.write_text("[engine]\nseed = 2\n", encoding="utf-8")
    assert Settings.load(environ={"EXECFLOW_CONFIG": str(a)}).engine.seed == 1
    assert Settings.load(b, environ={"EXECFLOW_CONFIG": str(a)}).engine.seed == 2


def test_venues_are_declared_in_the_file(tmp_path: Path) -> None:
    path = toml(
        tmp_path,
        '[[venues]]\ntype = "paper"\nseed = 5\n\n[[venues]]\ntype = "fix"\nvenue_id = "BRK"\n'
        'port = 9880\nsender_comp_id = "EXECFLOW"\ntarget_comp_id = "BRK"\n',
    )
    s = Settings.load(path, environ={})
    paper, fix = s.venues
    assert paper == PaperVenueSpec(seed=5)
    assert isinstance(fix, FixVenueSpec)
    assert (fix.venue_id, fix.port, fix.target_comp_id, fix.begin_string) == (
        "BRK",
        9880,
        "BRK",
        "FIX.4.4",
    )


@pytest.mark.parametrize(
    ("text", "env", "words"),
    [
        ("", {"EXECFLOW_STORE": "mongo"}, ["engine.store"]),
        ("", {"EXECFLOW_SEED": "seven"}, ["engine.seed", "integer"]),
        ("[engine]\nsotre = 'memory'\n", {}, ["engine.sotre"]),
        ("[apy]\nx = 1\n", {}, ["apy"]),
        ("[[venues]]\ntype = 'fix'\nport = 1\n", {}, ["sender_comp_id"]),
        ("[[venues]]\ntype = 'smoke'\n", {}, ["venues"]),
    ],
)
def test_bad_settings_are_one_line_naming_the_setting(
    tmp_path: Path, text: str, env: dict[str, str], words: list[str]
) -> None:
    path = toml(tmp_path, text) if text else None
    with pytest.raises(ValueError) as err:
        Settings.load(path, environ=env)
    message = str(err.value)
    assert "\n" not in message
    for w in words:
        assert w in message


def test_a_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not found"):
        Settings.load(tmp_path / "nope.toml", environ={})


def test_the_compatibility_readers_are_the_same_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("EXECFLOW_CONFIG", raising=False)
    monkeypatch.setenv("EXECFLOW_STORE", "memory")
    monkeypatch.setenv("EXECFLOW_API_BURST", "9")
    assert Config.from_env(seed=4) == Config(store="memory", seed=4)
    assert ApiSettings.from_env(grpc_port=None) == ApiSettings(burst=9.0)


def test_every_variable_is_documented_and_every_documented_variable_is_read() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`(EXECFLOW_[A-Z_]+)`", doc))
    assert set(ENV_VARS) <= documented
    read_elsewhere = {
        "EXECFLOW_CONFIG", "EXECFLOW_LOG_LEVEL", "EXECFLOW_URL", "EXECFLOW_API_KEY",
        "EXECFLOW_UVLOOP", "EXECFLOW_RISK_BACKEND", "EXECFLOW_COMPILED", "EXECFLOW_COMPILED_DIR",
        "EXECFLOW_EVENTS",  # (a default value: the JetStream stream's name)
    }  # fmt: skip
    assert documented - set(ENV_VARS) == read_elsewhere
    src = "\n".join(p.read_text("utf-8") for p in (ROOT / "src" / "execflow").rglob("*.py"))
    for name in read_elsewhere:
        assert f'"{name}"' in src, f"{name} is documented but nothing reads it"
    # and nothing in the package reads a variable that is neither in the tree nor listed here
    read = set(re.findall(r'"(EXECFLOW_[A-Z_]+)"', src))
    assert read - set(ENV_VARS) - read_elsewhere == set()


def test_the_engine_section_alone_is_the_trees_engine_section(tmp_path: Path) -> None:
    """settings_env.engine_config (read-only commands: no pydantic-settings) gives what
    Settings.load gives: every engine variable, the options over them, the same messages."""
    from execflow.settings_env import engine_config

    env = {"EXECFLOW_STORE": "memory", "EXECFLOW_SEED": "3", "EXECFLOW_SYNC": "normal",
           "EXECFLOW_SNAPSHOT_EVERY": "70", "EXECFLOW_TCA_REPORTS": "on", "EXECFLOW_PG_SCHEMA": "",
           "EXECFLOW_GRPC_PORT": "-1"}  # fmt: skip
    given = {"data_dir": tmp_path, "store": None, "risk_config": None}
    alone = engine_config(environ=env, engine=given)
    assert alone == Settings.load(environ=env, engine=given).engine
    assert (alone.store, alone.seed, alone.snapshot_every, alone.data_dir) == (
        "memory", 3, 70, tmp_path,
    )  # fmt: skip
    assert engine_config(environ={}) == Config()
    bad = {"EXECFLOW_SNAPSHOT_EVERY": "often"}
    with pytest.raises(ValueError) as alone_exc:
        engine_config(environ=bad)
    with pytest.raises(ValueError) as tree_exc:
        Settings.load(environ=bad)
    assert str(alone_exc.value) == str(tree_exc.value)
    assert str(alone_exc.value).startswith("setting engine.snapshot_every:")
    # a config file: the whole tree is loaded (and checked), the file over the environment
    path = toml(tmp_path, "[engine]\nseed = 9\n[api]\ngrpc_port = 7\n")
    assert engine_config(path, environ=env).seed == 9
    assert engine_config(environ={**env, "EXECFLOW_CONFIG": str(path)}).seed == 9
    with pytest.raises(ValueError, match="setting nope: Extra inputs are not permitted"):
        engine_config(toml(tmp_path, "[nope]\nx = 1\n"), environ={})
