"""Process-wide logging: one line per record, key=value for people, JSON lines for machines."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit

# Each part of the stack logs under its own name, so one terminal can be read (and grepped) by part.
API_LOGGER = "crm.api"
WORKER_LOGGER = "crm.worker"
SMTP_LOGGER = "crm.smtp"
TEMPORAL_LOGGER = "temporal"

# Uvicorn logs the API's own lines; show them under the part they belong to.
_RENAMED_LOGGERS = {
    "uvicorn": API_LOGGER,
    "uvicorn.error": API_LOGGER,
    "uvicorn.access": f"{API_LOGGER}.access",
}

# Chatty third-party loggers that repeat what our own lines already say.
_QUIET_LOGGERS = ("aiosqlite", "asyncio", "mail.log", "tortoise", "multipart")

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys()
) | {"message", "asctime", "color_message", "taskName"}


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """The record as ordered fields: time, level, logger, msg, then its `extra=` values."""
    fields: dict[str, Any] = {
        "time": _timestamp(record),
        "level": record.levelname.lower(),
        "logger": _RENAMED_LOGGERS.get(record.name, record.name),
        "msg": record.getMessage(),
    }
    fields.update(
        (key, value)
        for key, value in vars(record).items()
        if key not in _RECORD_ATTRIBUTES and not key.startswith("_")
    )
    return fields


def _logfmt_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if text and not any(char in text for char in ' "=\\\n\t'):
        return text
    return json.dumps(text)


class KeyValueFormatter(logging.Formatter):
    """`time=... level=info logger=crm.smtp msg="mail received" to=a@b.c`; tracebacks follow."""

    def format(self, record: logging.LogRecord) -> str:
        line = " ".join(f"{key}={_logfmt_value(value)}" for key, value in _fields(record).items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line, traceback included, for log shippers in production."""

    def format(self, record: logging.LogRecord) -> str:
        fields = _fields(record)
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            fields["stack"] = self.formatStack(record.stack_info)
        return json.dumps(fields, default=str)


def configure_logging(
    level: str = "INFO", *, json_lines: bool = False, stream: TextIO | None = None
) -> None:
    """Send every logger (ours, uvicorn's, temporalio's) through one handler on stderr.

    Safe to call again: it replaces the handler instead of adding a second one.
    """
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonLineFormatter() if json_lines else KeyValueFormatter())
    root = logging.getLogger()
    for previous in list(root.handlers):
        root.removeHandler(previous)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # At DEBUG everything speaks (SQL included); otherwise the chatty ones only warn.
    quiet_level = logging.NOTSET if root.level <= logging.DEBUG else logging.WARNING
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(quiet_level)
    # Uvicorn configures its loggers itself unless told not to (log_config=None); make sure
    # they carry no handler of their own and reach ours.
    for name in _RENAMED_LOGGERS:
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True


def redact_url(url: str) -> str:
    """A database URL fit for a log line: the password replaced by `***`."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
