"""The audit trail's vocabulary: who acts, which actions, what a row holds, and the port.

Every value here is a name, an id, a count, a hash, an operator's own words or an error code:
never patient data, never a password.
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, TypeAlias

from hub.errors import HubError

JsonValue: TypeAlias = (
    str | int | float | bool | Sequence["JsonValue"] | Mapping[str, "JsonValue"] | None
)
Details: TypeAlias = Mapping[str, JsonValue]

DEFAULT_LIMIT = 100  # rows `hub audit` shows unless --limit says otherwise
UNKNOWN_OPERATOR = "unknown"  # neither a name nor an OS user could be told


class AuditAction(StrEnum):
    """What an operator did. A row's ``target`` names what it was done to."""

    VENDOR_ADD = "vendor_add"  # `hub vendor add` (target: the vendor)
    VENDOR_PASSWORD = "vendor_password"  # `hub vendor add` giving an existing vendor a password
    VENDOR_REMOVE = "vendor_remove"  # `hub vendor remove`
    OFFICE_PAUSE = "office_pause"  # `hub office pause` (target: the office)
    OFFICE_RESUME = "office_resume"
    VENDOR_PAUSE = "vendor_pause"  # `hub vendor pause`
    VENDOR_RESUME = "vendor_resume"
    DLQ_REPLAY = "dlq_replay"  # `hub dlq replay` (target: the dead-letter queue)
    DLQ_PURGE = "dlq_purge"  # `hub dlq purge`
    REGISTRY_LOAD = "registry_load"  # a registry loaded to act on (target: the file)
    PAYLOAD_REVEAL = "payload_reveal"  # the console showed a dead letter's body (target: queue)


class AuditResult(StrEnum):
    """How an action ended, as far as the trail knows."""

    PENDING = "pending"  # recorded before the action; no result recorded (yet, or ever)
    OK = "ok"
    FAILED = "failed"  # with an error code


class AuditError(HubError):
    """The audit trail could not be written or read. When writing, the action was not done."""


@dataclass(frozen=True, kw_only=True)
class Operator:
    """Who acts: the OS user running the command and the name the operator gave
    (``--operator``, ``HUB_OPERATOR``); either may be unknown."""

    os_user: str | None
    name: str | None

    @property
    def shown(self) -> str:
        """The name the trail records as the operator: the given name, else the OS user."""
        return self.name or self.os_user or UNKNOWN_OPERATOR


def os_user() -> str | None:
    """The OS user running this process, if it can be told."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def operator_of(given: str | None, configured: str | None = None) -> Operator:
    """This process's operator: named by ``given`` (``--operator``), else ``configured``
    (``HUB_OPERATOR``), else the OS user."""
    user = os_user()
    return Operator(os_user=user, name=given or configured or user)


@dataclass(frozen=True, kw_only=True)
class AuditEntry:
    """An action about to be done, as the trail records it before it takes effect."""

    operator: Operator
    action: AuditAction
    target: str
    details: Details


@dataclass(frozen=True, kw_only=True)
class AuditRow:
    """One row of the trail. ``action`` is text: a newer build may have written one this build
    does not know."""

    id: int
    at: datetime  # the database's clock, UTC, when the row was written (before the action)
    os_user: str | None
    operator: str
    action: str
    target: str
    details: Details
    result: AuditResult
    error: str | None
    outcome: Details | None  # what the action reported when it ended
    finished_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class AuditFilter:
    """Which rows ``hub audit`` shows: every given field must match; the newest ``limit``."""

    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    action: str | None = None
    operator: str | None = None  # the operator's name or the OS user
    target: str | None = None
    result: AuditResult | None = None
    limit: int = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError("the limit must be at least 1")
        for moment in (self.since, self.until):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("since and until must be aware datetimes")


class AuditTrail(Protocol):
    """The append-only trail: an entry is begun (committed) before its action, and finished
    once, after."""

    async def begin(self, entry: AuditEntry) -> int:
        """Write ``entry`` as pending and commit it; its id. Raises ``AuditError``."""
        ...

    async def finish(
        self, entry_id: int, result: AuditResult, *, error: str | None, outcome: Details
    ) -> bool:
        """Record how a pending entry ended; False if it was not pending. Raises ``HubError``."""
        ...

    async def entries(self, wanted: AuditFilter) -> list[AuditRow]:
        """The newest matching rows, oldest first. Raises ``AuditError``."""
        ...
