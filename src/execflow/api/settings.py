"""API settings: from arguments or environment, next to :class:`execflow.config.Config`.

Environment variables (each overridden by the matching ``execflow serve`` option):

``EXECFLOW_API_KEYS_FILE``  JSON or TOML file of API keys (see docs/api.md)
``EXECFLOW_API_KEYS``       inline keys: ``secret:scope,scope:account,account`` separated by ``;``
``EXECFLOW_JWT_SECRET``     enables HS256 bearer JWTs signed with this secret
``EXECFLOW_API_RATE``       default per-key rate limit, requests per second (default 200)
``EXECFLOW_API_BURST``      default per-key burst (default 400)
``EXECFLOW_WS_HEARTBEAT``   seconds between stream heartbeats (default 5)
``EXECFLOW_STREAM_QUEUE``   events a subscriber may fall behind before it is dropped (10000)
``EXECFLOW_GRPC_PORT``      gRPC port; 0 picks a free one, -1 disables (default 50051)
``EXECFLOW_MAX_BODY``       largest request body in bytes (default 1048576); larger: 413
``EXECFLOW_WS_MAX_MESSAGE`` largest WebSocket message a client may send, bytes (default 65536)
``EXECFLOW_AUTH_FAILURES``  failed authentications per client address per window before 429
                            (default 20; 0 disables the throttle)
``EXECFLOW_AUTH_WINDOW``    that window in seconds (default 60)
``EXECFLOW_ENGINE_TIMEOUT`` seconds a request waits for a busy engine before 503
                            ENGINE_UNAVAILABLE with Retry-After (default 10)
``EXECFLOW_WS_COMPRESSION`` ``0`` stops offering permessage-deflate on WebSocket streams
                            (default on). Compression is per connection: 100 subscribers
                            compress every frame 100 times, about half the event loop in
                            ``bench api``; turn it off when the clients are near (LAN)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ApiSettings:
    keys_file: Path | None = None
    keys_inline: str | None = None
    jwt_secret: str | None = None
    jwt_audience: str | None = None
    rate_per_s: float = 200.0
    burst: float = 400.0
    heartbeat_s: float = 5.0
    stream_queue: int = 10_000
    grpc_host: str = "127.0.0.1"
    grpc_port: int = -1
    access_log: bool = True
    ws_compression: bool = True
    max_body_bytes: int = 1 << 20
    ws_max_message_bytes: int = 1 << 16
    auth_failures: int = 20
    auth_window_s: float = 60.0
    engine_timeout_s: float = 10.0

    @classmethod
    def from_env(cls, **overrides: object) -> ApiSettings:
        env = os.environ
        keys_file = env.get("EXECFLOW_API_KEYS_FILE")
        cfg = cls(
            keys_file=Path(keys_file) if keys_file else None,
            keys_inline=env.get("EXECFLOW_API_KEYS") or None,
            jwt_secret=env.get("EXECFLOW_JWT_SECRET") or None,
            jwt_audience=env.get("EXECFLOW_JWT_AUDIENCE") or None,
            rate_per_s=float(env.get("EXECFLOW_API_RATE", "200")),
            burst=float(env.get("EXECFLOW_API_BURST", "400")),
            heartbeat_s=float(env.get("EXECFLOW_WS_HEARTBEAT", "5")),
            stream_queue=int(env.get("EXECFLOW_STREAM_QUEUE", "10000")),
            grpc_port=int(env.get("EXECFLOW_GRPC_PORT", "50051")),
            ws_compression=env_flag(env.get("EXECFLOW_WS_COMPRESSION"), default=True),
            max_body_bytes=int(env.get("EXECFLOW_MAX_BODY", str(1 << 20))),
            ws_max_message_bytes=int(env.get("EXECFLOW_WS_MAX_MESSAGE", str(1 << 16))),
            auth_failures=int(env.get("EXECFLOW_AUTH_FAILURES", "20")),
            auth_window_s=float(env.get("EXECFLOW_AUTH_WINDOW", "60")),
            engine_timeout_s=float(env.get("EXECFLOW_ENGINE_TIMEOUT", "10")),
        )
        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(cfg, **clean)  # type: ignore[arg-type]


def env_flag(value: str | None, *, default: bool) -> bool:
    """``0``/``false``/``no``/``off`` (any case) is False, any other value True, unset default."""
    if value is None or not value.strip():
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")
