"""Times as the trace prints them: UTC, RFC 3339, with a ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime


def rfc3339(moment: datetime, *, timespec: str = "microseconds") -> str:
    """An aware datetime in UTC, e.g. ``2025-05-01T14:03:07.120000Z``."""
    return moment.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def rfc3339_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else rfc3339(moment)
