"""Which dead letters a ``hub dlq`` command acts on: every given field must match."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hub.dlq.constants import DEFAULT_LIMIT
from hub.dlq.model import DeadLetter

_AGO = re.compile(r"^(\d+)([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, kw_only=True)
class DeadLetterFilter:
    """Exact matches on the dead letter's fields; ``since`` inclusive, ``until`` exclusive.

    A time window leaves out dead letters whose time is unknown (neither the writer's header nor
    the broker's ``x-death`` says it). ``message_id`` matches the message id or the idempotency key.
    """

    vendor: str | None = None
    office: str | None = None
    contract: str | None = None
    reason: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    message_id: str | None = None
    limit: int = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError("the limit must be at least 1")
        for moment in (self.since, self.until):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("since and until must be aware datetimes")

    def matches(self, letter: DeadLetter) -> bool:
        exact = (
            (self.vendor, letter.vendor),
            (self.office, letter.office),
            (self.contract, letter.contract),
            (self.reason, letter.reason),
        )
        if any(wanted is not None and wanted != got for wanted, got in exact):
            return False
        ids = (letter.message_id, letter.idempotency_key)
        if self.message_id is not None and self.message_id not in ids:
            return False
        return self._in_window(letter.dead_lettered_at)

    def _in_window(self, moment: datetime | None) -> bool:
        if self.since is None and self.until is None:
            return True
        if moment is None:
            return False
        after_since = self.since is None or moment >= self.since
        return after_since and (self.until is None or moment < self.until)

    def described(self) -> dict[str, str | int]:
        """The fields that are set, times in ISO 8601: printed for confirmation and audited."""
        fields: dict[str, str | int | datetime | None] = {
            "vendor": self.vendor,
            "office": self.office,
            "contract": self.contract,
            "reason": self.reason,
            "since": self.since,
            "until": self.until,
            "id": self.message_id,
            "limit": self.limit,
        }
        return {
            name: value.isoformat() if isinstance(value, datetime) else value
            for name, value in fields.items()
            if value is not None
        }


# Matches every dead letter (up to the default limit).
ANY = DeadLetterFilter()


def parse_moment(text: str, now: datetime) -> datetime:
    """``2024-05-01``, ``2024-05-01T13:00`` (naive means UTC, an offset is kept), or a time ago:
    ``90s``, ``30m``, ``2h``, ``7d`` before ``now``."""
    ago = _AGO.match(text.strip())
    if ago is not None:
        return now - timedelta(seconds=int(ago.group(1)) * _UNIT_S[ago.group(2)])
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(f"not a time: {text!r} (ISO 8601, or 30m, 2h, 7d ago)") from exc
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
