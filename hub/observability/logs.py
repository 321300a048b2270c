"""Structured logs: one JSON object a line (``HUB_LOG_FORMAT=json``) or readable text.

Only the fields named in ``LOG_FIELDS`` leave a record: ids, names, outcomes and timings, never
a message body or an Open Dental reply. ``httpx`` logs each request's URL, whose query string
can hold a patient's name, so its logger is held at WARNING.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType

from hub.errors import HubError
from hub.settings import LogFormat

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]

LOG_FIELDS = (
    "office",
    "vendor",
    "contract",
    "intent_id",
    "attempt",
    "message_id",
    "outcome",
    "reason",
    "cause",
    "delay_s",
    "seconds",
    "channel",  # the broker's events (hub/observability/broker_events.py)
    "reply_code",
    "reply",
)
QUIET_LOGGERS = ("httpx", "httpcore")

_context: ContextVar[Mapping[str, object] | None] = ContextVar("hub_log_context", default=None)


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Fields every log line inside carries (this task and the tasks it starts)."""
    token = _context.set({**(_context.get() or {}), **fields})
    try:
        yield
    finally:
        _context.reset(token)


def record_fields(record: logging.LogRecord) -> dict[str, object]:
    fields = dict(_context.get() or {})
    fields.update({name: getattr(record, name) for name in LOG_FIELDS if hasattr(record, name)})
    return {name: value for name, value in fields.items() if name in LOG_FIELDS}


def scrubbed_traceback(exc_info: ExcInfo) -> str:
    """The traceback, with the text of every exception that is not the hub's own withheld.

    The hub's errors (``HubError``) are written to carry ids, field paths and codes only; any
    other exception's text may quote what it failed on: a payload's name or birthdate in a
    ``ValueError``, a row in a driver's error. Frames (file, line, function, the source line)
    stay: they are the code's, and they are what a person needs to find the bug."""
    parts: list[str] = []
    for depth, error in enumerate(_chain(exc_info[1])):
        if depth:
            parts.append("\nThe exception below led to the one above:\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts += traceback.format_tb(error.__traceback__)
        parts.append(f"{_headline(error)}\n")
    return "".join(parts).rstrip("\n")


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    """``error`` and the exceptions it was raised from or while handling, newest first."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)


def _headline(error: BaseException) -> str:
    name = type(error).__qualname__
    text = str(error)
    if isinstance(error, HubError) or not text:
        return f"{name}: {text}" if text else name
    return f"{name}: <{len(text)} characters withheld: they may quote the data>"


class JsonFormatter(logging.Formatter):
    def formatException(self, ei: ExcInfo) -> str:
        return scrubbed_traceback(ei)

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **record_fields(record),
        }
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def formatException(self, ei: ExcInfo) -> str:
        return scrubbed_traceback(ei)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = " ".join(f"{name}={value}" for name, value in record_fields(record).items())
        return f"{line}  [{fields}]" if fields else line


def configure_logging(log_format: LogFormat, level: int = logging.INFO) -> None:
    """The process's logging, once, by the command that runs the writer."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format is LogFormat.JSON else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
