"""Structured logs for the vendor-side commands: a record's ``extra`` fields travel as fields.

    log.info("intake published", extra={"event": "intake_published", "office": "office-1"})

    text:  2025-01-02 10:00:00,123 INFO adapters.forms.app: intake published event=... office=...
    json:  {"time": "...", "level": "INFO", "logger": "...", "message": "...", "event": ...}

Callers pass ids, keys and rule names in ``extra``, never patient data.
"""

from __future__ import annotations

import json
import logging

# Attributes every LogRecord has; whatever else a record carries came from ``extra``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


class StructuredFormatter(logging.Formatter):
    def __init__(self, *, json_lines: bool) -> None:
        super().__init__()
        self._json_lines = json_lines

    def format(self, record: logging.LogRecord) -> str:
        fields = {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRIBUTES}
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        if self._json_lines:
            line = {
                "time": self.formatTime(record),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
                **fields,
            }
            return json.dumps(line, default=str, ensure_ascii=False)
        pairs = " ".join(f"{key}={value}" for key, value in fields.items())
        text = f"{self.formatTime(record)} {record.levelname} {record.name}: {record.getMessage()}"
        return f"{text} {pairs}" if pairs else text


def configure_logging(*, json_lines: bool, level: int = logging.INFO) -> None:
    """Send every log record to stderr through one ``StructuredFormatter``."""
    handler = logging.StreamHandler()
    handler.setFormatter(StructuredFormatter(json_lines=json_lines))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
