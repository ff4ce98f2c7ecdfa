"""Logging set-up shared by the CLI, the jobs and the DAGs.

Secrets never reach logs: settings hold them as SecretStr, and ``redact`` masks token-like
query parameters and headers in any message that passes through the Écoute handlers, which also
strip terminal escape sequences (a log line may quote a comment or a channel name).
"""

from __future__ import annotations

import logging
import re

from ecoute.safe_text import terminal_safe

_SECRET_PATTERNS = [
    re.compile(
        r"(?i)(access_token|api_key|apikey|token|secret|password|authorization)([=:]\s*|\"\s*:\s*\")([^&\s\"',]+)"
    ),
    re.compile(r"(?i)(bearer\s+)([A-Za-z0-9._\-]+)"),
    re.compile(r"(?i)(://[^/@:\s]*:)([^/@\s]+)(?=@)"),  # credentials in a URL: https://user:secret@host
]


def _mask_last_group(match: re.Match[str]) -> str:
    """The match with its last group (the secret; every pattern has one) replaced by ***."""
    whole = match.group(0)
    secret = match.group(match.lastindex or 0)
    return whole[: len(whole) - len(secret)] + "***"


def redact(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(_mask_last_group, text)
    return text


class RedactingFormatter(logging.Formatter):
    """Secrets masked, and terminal escape sequences stripped (messages quote the sources' text)."""

    def format(self, record: logging.LogRecord) -> str:
        return terminal_safe(redact(super().format(record)))


# Loggers of our own code; everything else is a library.
OWN_LOGGERS = ("ecoute", "connectors", "jobs", "dags", "inbox", "__main__")
# Libraries that log a traceback on every retry of a connection, and Great Expectations, which logs
# ~200 INFO lines per validation run (the demo's noise).
NOISY_LOGGERS = ("kafka", "elastic_transport", "elasticsearch", "py4j", "urllib3", "great_expectations", "tenacity")


RETRY_LOGGERS = ("kafka", "elastic_transport", "urllib3.connectionpool")


class LibraryTracebackFilter(logging.Filter):
    """Keeps a library's log line but drops its traceback (retries print one per attempt);
    ``ecoute -v`` shows them again."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(OWN_LOGGERS) and (record.exc_info or record.stack_info):
            summary = ""
            if record.exc_info and record.exc_info[1] is not None:
                summary = f" ({type(record.exc_info[1]).__name__}: {str(record.exc_info[1])[:200]})"
            record.msg = f"{record.getMessage()}{summary}"
            record.args = None
            record.exc_info = record.exc_text = record.stack_info = None
        return True


class ChattyLibraryFilter(logging.Filter):
    """Drops INFO/DEBUG lines of libraries that set their own loggers' levels when imported (Great
    Expectations does, after configure_logging ran): a level on their logger would not hold."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not record.name.startswith(NOISY_LOGGERS)


class _EcouteHandler(logging.StreamHandler):
    """The handler configure_logging installs (marked: configuring again does not add a second one,
    even after this module was imported anew)."""

    _ecoute = True


def configure_logging(level: str | None = None, quiet_libraries: bool = False) -> None:
    """One redacting handler on the root logger. ``quiet_libraries`` (the CLI without -v): library
    log lines keep their message but not their traceback."""
    if level is None:
        from ecoute.settings import get_settings

        level = get_settings().log_level
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_ecoute", False)), None)
    if handler is None:
        handler = _EcouteHandler()
        handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
        root.addHandler(handler)
    root.setLevel(level)
    for existing in [f for f in handler.filters if isinstance(f, LibraryTracebackFilter | ChattyLibraryFilter)]:
        handler.removeFilter(existing)
    if quiet_libraries:
        handler.addFilter(LibraryTracebackFilter())
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if numeric != logging.DEBUG:
        handler.addFilter(ChattyLibraryFilter())
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if quiet_libraries:
        # Client libraries log every failed attempt (kafka-python ~50 lines while it bootstraps for 30 s);
        # the command reports the outcome in one line. `ecoute -v` shows the attempts.
        for retrying in RETRY_LOGGERS:
            logging.getLogger(retrying).setLevel(logging.CRITICAL)
    else:
        logging.getLogger("urllib3.connectionpool").setLevel(logging.NOTSET)
