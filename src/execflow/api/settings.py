"""API settings: the ``api`` section of the settings tree (:mod:`execflow.settings`).

Its environment variables, TOML keys and precedence are in docs/configuration.md.
"""

from execflow.config import ApiSettings, env_flag

__all__ = ["ApiSettings", "env_flag"]
