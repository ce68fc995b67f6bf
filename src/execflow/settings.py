"""One settings tree for every entry point: engine and store, API, venues.

Sources, from lowest to highest precedence (docs/configuration.md):

1. the defaults of the fields below;
2. environment variables (``EXECFLOW_*``, the table :data:`ENV_VARS`);
3. a TOML file named with ``--config FILE`` (or ``EXECFLOW_CONFIG``): it is named for this run,
   so it is more specific than the environment the process inherits;
4. command-line options (``--store``, ``--data-dir``, ``--grpc-port``...): the most specific.

The file has one table per section, and one ``[[venues]]`` table per venue::

    [engine]
    store = "sqlite"
    data_dir = "/var/lib/execflow"

    [api]
    grpc_port = 50051

    [[venues]]
    type = "paper"

    [[venues]]
    type = "fix"
    venue_id = "BROKER"
    port = 9880
    sender_comp_id = "EXECFLOW"
    target_comp_id = "BROKER"

``bootstrap.build(settings)`` builds the engine, its stores and these venues.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from execflow.config import ApiSettings, Config
from execflow.settings_env import CONFIG_FILE_ENV, ENV_VARS, describe
from execflow.settings_specs import (
    CrossingVenueSpec,
    DarkPoolSpec,
    FixVenueSpec,
    PaperVenueSpec,
    RoutingSettings,
    VenueFeeSpec,
    VenueSpec,
)

_SOURCES: ContextVar[tuple[Path | None, Mapping[str, str] | None]] = ContextVar(
    "execflow_settings_sources", default=(None, None)
)


class EnvTableSource(PydanticBaseSettingsSource):
    """The ``EXECFLOW_*`` variables of :data:`ENV_VARS`, as a nested mapping."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.environ = environ

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # everything is produced by __call__

    def __call__(self) -> dict[str, Any]:
        out: dict[str, dict[str, Any]] = {}
        for name, (section, key, convert) in ENV_VARS.items():
            raw = self.environ.get(name)
            if raw is None or not raw.strip():
                continue
            out.setdefault(section, {})[key] = convert(raw) if convert else raw
        return out


class Settings(BaseSettings):
    """Everything an execflow process is configured with; load with :meth:`load`."""

    model_config = SettingsConfigDict(extra="forbid", frozen=True)

    engine: Config = Field(default_factory=Config)
    api: ApiSettings = Field(default_factory=ApiSettings)
    venues: tuple[VenueSpec, ...] = (PaperVenueSpec(),)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file, environ = _SOURCES.get()
        sources: list[PydanticBaseSettingsSource] = [init_settings]  # highest first
        if config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        if environ is not None:
            sources.append(EnvTableSource(settings_cls, environ))
        return tuple(sources)

    @classmethod
    def load(
        cls,
        config_file: Path | str | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        engine: Mapping[str, Any] | None = None,
        api: Mapping[str, Any] | None = None,
        venues: Any = None,
    ) -> Settings:
        """Defaults < environment (``environ``, default ``os.environ``) < ``config_file``
        (TOML; default: the file ``EXECFLOW_CONFIG`` names, if any) < the given options.
        Options that are None are not given. Raises ``ValueError`` with one line per problem.
        """
        env = os.environ if environ is None else environ
        if config_file is None and env.get(CONFIG_FILE_ENV, "").strip():
            config_file = env[CONFIG_FILE_ENV].strip()
        path = None if config_file is None else Path(config_file)
        if path is not None and not path.is_file():
            raise ValueError(f"config file {path} not found")
        given: dict[str, Any] = {}
        for section, values in (("engine", engine), ("api", api)):
            clean = {k: v for k, v in (values or {}).items() if v is not None}
            if clean:
                given[section] = clean
        if venues is not None:
            given["venues"] = venues
        with _sources(path, env):
            try:
                return cls(**given)
            except ValidationError as exc:
                raise ValueError(describe(exc, path)) from None


@contextmanager
def _sources(path: Path | None, environ: Mapping[str, str]) -> Iterator[None]:
    token = _SOURCES.set((path, environ))
    try:
        yield
    finally:
        _SOURCES.reset(token)


__all__ = [
    "ENV_VARS",
    "ApiSettings",
    "Config",
    "CrossingVenueSpec",
    "DarkPoolSpec",
    "FixVenueSpec",
    "PaperVenueSpec",
    "RoutingSettings",
    "Settings",
    "VenueFeeSpec",
    "VenueSpec",
]
