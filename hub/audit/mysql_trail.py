"""The trail in the hub database's ``operator_audit`` table (ledger migration 10).

Times come from the database's clock (``UTC_TIMESTAMP``). A row is begun in autocommit, so it is
durable before ``begin`` returns; ``finish`` updates only a pending row, as the table's trigger
also demands. Values too long for their column are cut, never refused.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from hub.audit.model import (
    AuditEntry,
    AuditError,
    AuditFilter,
    AuditResult,
    AuditRow,
    Details,
    JsonValue,
)
from hub.errors import HubError
from hub.ledger.mysql_rows import cut, from_db, from_db_or_none, to_db
from hub.ledger.mysql_session import MySqlSession, Record, ignore_query
from hub.settings import MySqlSettings

MAX_OS_USER_CHARS = 64
MAX_OPERATOR_CHARS = 128
MAX_TARGET_CHARS = 255
MAX_ERROR_CHARS = 64
UNAVAILABLE = "hub migrate brings the hub database's schema up to date"

_BEGIN = """
INSERT INTO operator_audit (at, os_user, operator, action, target, details, result)
VALUES (UTC_TIMESTAMP(6), %s, %s, %s, %s, %s, 'pending')
"""
_FINISH = """
UPDATE operator_audit
SET result = %s, error = %s, outcome = %s, finished_at = UTC_TIMESTAMP(6)
WHERE id = %s AND result = 'pending'
"""
_ENTRIES = """
SELECT id, at, os_user, operator, action, target, details, result, error, outcome, finished_at
FROM operator_audit {where} ORDER BY id DESC LIMIT %s
"""


class MySqlAuditTrail:
    """``AuditTrail`` over one small pool of the hub database."""

    def __init__(self, session: MySqlSession) -> None:
        self._session = session

    @classmethod
    async def open(cls, settings: MySqlSettings) -> MySqlAuditTrail:
        try:
            session = await MySqlSession.open(settings, on_query=ignore_query, max_connections=1)
        except HubError as exc:
            raise AuditError(f"the audit trail cannot be reached ({exc})") from exc
        return cls(session)

    async def close(self) -> None:
        await self._session.close()

    async def begin(self, entry: AuditEntry) -> int:
        args = (
            cut(entry.operator.os_user, MAX_OS_USER_CHARS),
            cut(entry.operator.shown, MAX_OPERATOR_CHARS),
            entry.action.value,
            cut(entry.target, MAX_TARGET_CHARS),
            _json(entry.details),
        )
        try:
            async with self._session.autocommit("beginning an audit entry") as statements:
                await statements.execute("audit.begin", _BEGIN, args)
                return statements.last_insert_id
        except HubError as exc:
            raise AuditError(
                f"the audit entry could not be written, so nothing was done ({exc}); {UNAVAILABLE}"
            ) from exc

    async def finish(
        self, entry_id: int, result: AuditResult, *, error: str | None, outcome: Details
    ) -> bool:
        args = (result.value, cut(error, MAX_ERROR_CHARS), _json(outcome), entry_id)
        async with self._session.autocommit("finishing an audit entry") as statements:
            return await statements.execute("audit.finish", _FINISH, args) == 1

    async def entries(self, wanted: AuditFilter) -> list[AuditRow]:
        where, args = _where(wanted)
        sql = _ENTRIES.format(where=where)
        try:
            async with self._session.autocommit("reading the audit trail") as statements:
                records = await statements.fetch_all("audit.entries", sql, (*args, wanted.limit))
        except HubError as exc:
            raise AuditError(f"the audit trail could not be read ({exc}); {UNAVAILABLE}") from exc
        return [_row(record) for record in reversed(records)]


@asynccontextmanager
async def mysql_trail(settings: MySqlSettings) -> AsyncIterator[MySqlAuditTrail]:
    """The hub database's trail, open while the block runs."""
    trail = await MySqlAuditTrail.open(settings)
    try:
        yield trail
    finally:
        await trail.close()


def _where(wanted: AuditFilter) -> tuple[str, list[object]]:
    clauses: list[str] = []
    args: list[object] = []
    exact = (("action", wanted.action), ("target", wanted.target))
    for column, value in exact:
        if value is not None:
            clauses.append(f"{column} = %s")
            args.append(value)
    if wanted.result is not None:
        clauses.append("result = %s")
        args.append(wanted.result.value)
    if wanted.operator is not None:
        clauses.append("(operator = %s OR os_user = %s)")
        args += [wanted.operator, wanted.operator]
    if wanted.since is not None:
        clauses.append("at >= %s")
        args.append(to_db(wanted.since))
    if wanted.until is not None:
        clauses.append("at < %s")
        args.append(to_db(wanted.until))
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), args


def _json(values: Details) -> str:
    return json.dumps(values, sort_keys=True, separators=(",", ":"))


def _details(text: str | None) -> Details | None:
    if text is None:
        return None
    loaded: JsonValue = json.loads(text)
    return loaded if isinstance(loaded, dict) else {"value": loaded}


def _row(record: Record) -> AuditRow:
    return AuditRow(
        id=record["id"],
        at=from_db(record["at"]),
        os_user=record["os_user"],
        operator=record["operator"],
        action=record["action"],
        target=record["target"],
        details=_details(record["details"]) or {},
        result=AuditResult(record["result"]),
        error=record["error"],
        outcome=_details(record["outcome"]),
        finished_at=from_db_or_none(record["finished_at"]),
    )
