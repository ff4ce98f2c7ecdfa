"""Logging set-up shared by the CLI, the jobs and the DAGs.

Secrets never reach logs: settings hold them as SecretStr, and ``redact`` masks token-like
query parameters and headers in any message that passes through the Écoute handlers.
"""

from __future__ import annotations

import logging
import re

_SECRET_PATTERNS = [
    re.compile(r"(?i)(access_token|api_key|apikey|token|secret|password|authorization)([=:]\s*|\"\s*:\s*\")([^&\s\"',]+)"),
    re.compile(r"(?i)(bearer\s+)([A-Za-z0-9._\-]+)"),
]


def redact(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(0)[: len(m.group(0)) - len(m.group(m.lastindex))] + "***", text)
    return text


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(level: str | None = None) -> None:
    if level is None:
        from ecoute.settings import get_settings

        level = get_settings().log_level
    root = logging.getLogger()
    if any(getattr(h, "_ecoute", False) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler()
    handler._ecoute = True  # type: ignore[attr-defined]
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("kafka", "elastic_transport", "py4j", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
