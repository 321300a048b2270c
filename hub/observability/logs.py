"""Structured logs: one JSON object a line (``HUB_LOG_FORMAT=json``) or readable text.

Only the fields named in ``LOG_FIELDS`` leave a record: ids, names, outcomes and timings, never
a message body or an Open Dental reply. ``httpx`` logs each request's URL, whose query string
can hold a patient's name, so its logger is held at WARNING.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from hub.settings import LogFormat

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


class JsonFormatter(logging.Formatter):
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
