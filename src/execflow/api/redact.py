"""Keep credentials out of logs: a logging filter that masks them in every formatted line.

Servers log request lines (uvicorn logs a WebSocket's path with its query string), so a token a
client put in ``?token=`` or a header echoed into a message would land in the log. The filter
renders each record's message once, masks ``token=``/``api_key=``/``access_token=`` query values,
``Authorization``/``X-API-Key`` values and ``execflow.bearer.`` WebSocket subprotocols, and
stores the masked text as the message. Installed on the server's loggers and on the handlers
``execflow serve`` configures (:func:`install`).
"""

from __future__ import annotations

import logging
import re
from typing import Final

MASK: Final = "***"
_PATTERNS: Final = (
    re.compile(r"(?i)([?&;](?:token|api_key|apikey|access_token|key|jwt)=)[^&\s\"';]+"),
    re.compile(r"(?i)(authorization[\"']?\s*[:=,]\s*[\"']?(?:bearer|basic)?\s*)[^\s\"',;]+"),
    re.compile(r"(?i)(x-api-key[\"']?\s*[:=,]\s*[\"']?)[^\s\"',;]+"),
    re.compile(r"(execflow\.bearer\.)[^\s\"',;]+"),
)

# loggers that write request lines: uvicorn's (WebSocket handshakes with their query string)
# and our access log
SERVER_LOGGERS: Final = ("uvicorn", "uvicorn.error", "uvicorn.access", "execflow.api.access")


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record: let logging report it as usual
            return True
        masked = redact(message)
        if masked != message:
            record.msg = masked
            record.args = None
        return True


_FILTER: Final = RedactSecrets()


def install(handlers: bool = True) -> None:
    """Add the filter to the server loggers and (``handlers``) to the root logger's handlers,
    which see every record that propagates. Idempotent."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    if handlers:
        for handler in logging.getLogger().handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
