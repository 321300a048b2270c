"""The ledger on MariaDB: each method is one short transaction over an aiomysql pool; one that
is a single statement runs in autocommit (one round trip instead of BEGIN, statement, COMMIT).
The writer's two units per intent, a new claim and a finish without refs, go through a group
commit (group_commit.py): many lanes' units share one round trip and one commit.

Times the writer hands in (``received_at``, ``started_at``, ``now``) are its own; the times of
state changes (``updated_at``, ``attempt_started_at``, ``finished_at``) are the database's UTC
clock, one clock for every writer process.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import hub.ledger.constants as c
from contracts import OutcomeStatus
from hub.errors import LedgerError
from hub.ledger.group_commit import DEFAULT_BATCHES, GroupCommit
from hub.ledger.models import (
    ApiCallRecord,
    Charge,
    ClaimResult,
    Conflict,
    Finish,
    Finished,
    Fresh,
    InDoubt,
    IntentClaim,
    IntentRow,
    IntentStatus,
    IntentStory,
    RefKind,
    Resumed,
    RetryBudget,
)
from hub.ledger.mysql_rows import (
    API_CALL_COLUMNS,
    INTENT_COLUMNS,
    REF_COLUMNS,
    api_call_row,
    cut,
    from_db,
    intent_row,
    ref_row,
    to_db,
)
from hub.ledger.mysql_session import MySqlSession, Record, ignore_query
from hub.ledger.port import QueryObserver
from hub.ledger.sheet_steps import (
    SheetProgress,
    SheetStep,
    read_progress,
    read_sheets_recorded,
    record_step,
)
from hub.settings import MySqlSettings

_NOW = "UTC_TIMESTAMP(6)"
_TERMINAL = "('applied', 'rejected', 'dead')"

# A claim is an upsert, so that it can join others in a group commit (a duplicate key would
# fail the whole batch); the second form also begins the first attempt, as begin_attempt would.
_CLAIM_INTO = f"""
INSERT INTO intents (vendor, idempotency_key, payload_hash, contract, contract_version,
    office_id, received_at, expires_at, message_id, correlation_id, attempt_writer, updated_at,
    deliveries, status, attempts, attempt_started_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, {_NOW}, 1,
"""
_CLAIM_NEW = _CLAIM_INTO + "'received', 0, NULL)\n"
_CLAIM_NEW_ATTEMPTING = _CLAIM_INTO + f"'attempting', 1, {_NOW})\n"
# A key seen before: a duplicate bumps ``deliveries``, so the affected-rows count tells an insert
# (1) from a duplicate (2) whatever the connection's FOUND_ROWS flag.
_ON_DUPLICATE = "ON DUPLICATE KEY UPDATE deliveries = deliveries + 1\n"
_CLAIM_UPSERT = _CLAIM_NEW + _ON_DUPLICATE
_CLAIM_UPSERT_ATTEMPTING = _CLAIM_NEW_ATTEMPTING + _ON_DUPLICATE
_CLAIM_SELECT = """
SELECT id, payload_hash, status, attempts, attempt_started_at, attempt_writer, outcome_json
FROM intents WHERE vendor = %s AND idempotency_key = %s FOR UPDATE
"""
# LAST_INSERT_ID(expr) hands the new attempt number back in the statement's own reply.
_BEGIN_ATTEMPT = f"""
UPDATE intents SET status = 'attempting', attempts = LAST_INSERT_ID(attempts + 1),
    attempt_started_at = {_NOW}, attempt_writer = %s, updated_at = {_NOW}
WHERE id = %s AND status = 'received'
"""
_RELEASE_ATTEMPT = f"""
UPDATE intents SET status = 'received', last_error = %s, updated_at = {_NOW},
    free_attempts = free_attempts + %s,
    retrying_since = IF(%s, COALESCE(retrying_since, {_NOW}), retrying_since)
WHERE id = %s AND status = 'attempting'
"""
_RETRY_BUDGET = """
SELECT attempts, free_attempts,
    TIMESTAMPDIFF(MICROSECOND, retrying_since, UTC_TIMESTAMP(6)) AS retrying_us,
    TIMESTAMPDIFF(MICROSECOND, attempt_started_at, UTC_TIMESTAMP(6)) AS attempt_age_us
FROM intents WHERE id = %s
"""
# An operator's replay of a rejected or dead intent: a fresh run of attempts, every earlier one
# free, its key remembered for a full retention from now. last_error stays, as history.
_REOPEN = f"""
UPDATE intents SET status = 'received', od_table = NULL, od_primary_key = NULL, reason = NULL,
    outcome_json = NULL, finished_at = NULL, free_attempts = attempts, retrying_since = NULL,
    expires_at = GREATEST(expires_at, %s), updated_at = {_NOW}
WHERE id = %s AND status IN ('rejected', 'dead')
"""
_RECORD_API_CALLS = """
INSERT INTO api_calls (intent_id, attempt, method, path, status, latency_ms, od_primary_key,
    message, started_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"""
_ROW_VALUES_MORE = ", (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
_FINISH = f"""
UPDATE intents SET status = %s, od_table = %s, od_primary_key = %s, reason = %s,
    last_error = %s, outcome_json = %s, finished_at = {_NOW}, updated_at = {_NOW}
WHERE id = %s AND status IN ('received', 'attempting')
"""
# Vendor and office come from the intent row itself, so a ref cannot land in another lane. A
# ref that already maps a row keeps its first mapping: a vendor ref names one Open Dental row.
_INSERT_REF = f"""
INSERT INTO vendor_refs (vendor, office_id, kind, ref, od_primary_key, intent_id, created_at)
SELECT vendor, office_id, %s, %s, %s, id, {_NOW} FROM intents WHERE id = %s
ON DUPLICATE KEY UPDATE intent_id = vendor_refs.intent_id
"""
_RESOLVE_REF = """
SELECT od_primary_key FROM vendor_refs
WHERE vendor = %s AND office_id = %s AND kind = %s AND ref = %s
"""
_EXPIRED = f"""
SELECT id FROM intents WHERE expires_at <= %s AND status IN {_TERMINAL}
ORDER BY expires_at LIMIT %s
"""


class MySqlLedger:
    """``Ledger`` and ``LedgerTrace`` on MariaDB. Build with ``open``; ``close`` when done."""

    def __init__(
        self, session: MySqlSession, group: GroupCommit, *, retention: timedelta
    ) -> None:
        self._session = session
        self._group = group  # the hot path's units: claims and finishes
        self._retention = retention

    @classmethod
    async def open(
        cls,
        settings: MySqlSettings,
        *,
        retention_days: int = c.DEFAULT_RETENTION_DAYS,
        on_query: QueryObserver = ignore_query,
        max_connections: int = 4,
        group_commits: int = DEFAULT_BATCHES,
    ) -> MySqlLedger:
        session = await MySqlSession.open(
            settings, on_query=on_query, max_connections=max_connections
        )
        group = GroupCommit(session, on_query, batches=group_commits)
        return cls(session, group, retention=timedelta(days=retention_days))

    async def close(self) -> None:
        await self._group.close()
        await self._session.close()

    async def claim(self, claim: IntentClaim, *, batching_s: float = 0.0) -> ClaimResult:
        received_at = to_db(claim.received_at)
        values = (
            claim.vendor, claim.idempotency_key, claim.payload_hash, claim.contract,
            claim.contract_version, claim.office_id, received_at,
            received_at + self._retention, claim.message_id, claim.correlation_id,
            claim.writer_id if claim.begin_attempt else None,
        )
        sql = _CLAIM_UPSERT_ATTEMPTING if claim.begin_attempt else _CLAIM_UPSERT
        [reply] = await self._group.run(
            "claiming an intent", "claim.upsert", [(sql, values)], batching_s=batching_s
        )
        if reply.affected == 1:
            attempt = 1 if claim.begin_attempt else None
            return Fresh(intent_id=reply.last_insert_id, attempt=attempt)
        # The key was there (its deliveries are counted): what did the earlier delivery leave?
        async with self._session.transaction("claiming an intent") as tx:
            found = await tx.fetch_one(
                "claim.select", _CLAIM_SELECT, (claim.vendor, claim.idempotency_key)
            )
            received = (*values[:-1], None)  # no attempt begun by this insert
            if found is None and await tx.execute("claim.upsert", _CLAIM_UPSERT, received) == 1:
                return Fresh(intent_id=tx.last_insert_id)  # purged since the upsert
            record = found or _found(await tx.fetch_one(
                "claim.select", _CLAIM_SELECT, (claim.vendor, claim.idempotency_key)
            ))
            if claim.replayed and _reopenable(record, claim.payload_hash):
                expires_at = received_at + self._retention
                await tx.execute("claim.reopen", _REOPEN, (expires_at, record["id"]))
                return Resumed(intent_id=int(record["id"]), attempts=record["attempts"])
        return _classify(record, claim.payload_hash)

    async def begin_attempt(self, intent_id: int, *, writer_id: str | None = None) -> int | None:
        args = (writer_id, intent_id)
        async with self._session.autocommit("beginning an attempt") as st:
            if await st.execute("begin_attempt.update", _BEGIN_ATTEMPT, args) == 0:
                return None
            return st.last_insert_id

    async def record_api_call(self, intent_id: int, call: ApiCallRecord) -> None:
        async with self._session.autocommit("recording an API call") as st:
            await st.execute(
                "record_api_call.insert", _RECORD_API_CALLS, _call_row(intent_id, call)
            )

    async def release_attempt(
        self, intent_id: int, last_error: str | None, charge: Charge = Charge.COUNTED
    ) -> bool:
        free = int(charge is not Charge.COUNTED)
        clocked = charge is not Charge.FREE
        async with self._session.autocommit("releasing an attempt") as st:
            released = await st.execute(
                "release_attempt.update",
                _RELEASE_ATTEMPT,
                (cut(last_error, c.MAX_LAST_ERROR_CHARS), free, clocked, intent_id),
            )
        return released == 1

    async def retry_budget(self, intent_id: int) -> RetryBudget | None:
        async with self._session.autocommit("reading a retry budget") as st:
            record = await st.fetch_one("retry_budget.select", _RETRY_BUDGET, (intent_id,))
        if record is None:
            return None
        return RetryBudget(
            attempts=record["attempts"],
            free_attempts=record["free_attempts"],
            retrying_s=_seconds(record["retrying_us"]),
            attempt_age_s=_seconds(record["attempt_age_us"]),
        )

    async def record_sheet_step(self, intent_id: int, step: SheetStep, *, attempt: int) -> None:
        await record_step(self._session, intent_id, step, attempt=attempt)

    async def sheet_progress(self, intent_id: int) -> SheetProgress:
        return await read_progress(self._session, intent_id)

    async def sheets_recorded(
        self, office_id: str, sheet_nums: list[int], *, besides: int
    ) -> frozenset[int]:
        return await read_sheets_recorded(self._session, office_id, sheet_nums, besides=besides)

    async def finish(self, intent_id: int, finish: Finish, *, batching_s: float = 0.0) -> bool:
        values = (
            finish.status.value, finish.od_table, finish.od_primary_key, finish.reason,
            cut(finish.last_error, c.MAX_LAST_ERROR_CHARS), finish.outcome_json, intent_id,
        )
        calls = [_call_row(intent_id, call) for call in finish.calls]
        # Every call in one multi-row INSERT.
        record = (_RECORD_API_CALLS + _ROW_VALUES_MORE * (len(calls) - 1), _flat(calls))
        if not finish.refs:  # nothing depends on the update's result: a unit for the group
            statements = [record, (_FINISH, values)] if calls else [(_FINISH, values)]
            replies = await self._group.run(
                "finishing an intent", "finish", statements, batching_s=batching_s
            )
            return replies[-1].affected != 0
        async with self._session.transaction("finishing an intent") as tx:
            if calls:
                await tx.execute("finish.insert_api_calls", *record)
            finished = await tx.execute("finish.update", _FINISH, values)
            if finished == 0:
                return False
            for ref in finish.refs:
                await tx.execute(
                    "finish.insert_ref",
                    _INSERT_REF,
                    (ref.kind.value, ref.ref, ref.od_primary_key, intent_id),
                )
        return True

    async def resolve_ref(
        self, vendor: str, office_id: str, kind: RefKind, ref: str
    ) -> int | None:
        async with self._session.autocommit("resolving a ref") as st:
            record = await st.fetch_one(
                "resolve_ref.select", _RESOLVE_REF, (vendor, office_id, kind.value, ref)
            )
        return None if record is None else int(record["od_primary_key"])

    async def purge_expired(self, now: datetime) -> int:
        purged = 0
        while True:
            async with self._session.transaction("purging expired intents") as tx:
                batch = await tx.fetch_all(
                    "purge.select", _EXPIRED, (to_db(now), c.PURGE_BATCH_ROWS)
                )
                if batch:
                    ids = [record["id"] for record in batch]
                    marks = ", ".join(["%s"] * len(ids))
                    # API calls go with their intent (ON DELETE CASCADE); refs stay.
                    purged += await tx.execute(
                        "purge.delete", f"DELETE FROM intents WHERE id IN ({marks})", ids
                    )
            if len(batch) < c.PURGE_BATCH_ROWS:
                return purged

    async def story(self, vendor: str, idempotency_key: str) -> IntentStory | None:
        async with self._session.transaction("tracing an intent") as tx:
            intent = await tx.fetch_one(
                "story.intent",
                f"SELECT {INTENT_COLUMNS} FROM intents WHERE vendor = %s AND idempotency_key = %s",
                (vendor, idempotency_key),
            )
            if intent is None:
                return None
            calls = await tx.fetch_all(
                "story.api_calls",
                f"SELECT {API_CALL_COLUMNS} FROM api_calls WHERE intent_id = %s ORDER BY id",
                (intent["id"],),
            )
            refs = await tx.fetch_all(
                "story.refs",
                f"SELECT {REF_COLUMNS} FROM vendor_refs WHERE intent_id = %s ORDER BY kind, ref",
                (intent["id"],),
            )
        return IntentStory(
            intent=intent_row(intent),
            api_calls=tuple(api_call_row(call) for call in calls),
            refs=tuple(ref_row(ref) for ref in refs),
        )

    async def intents_for_row(
        self, office_id: str, od_table: str, od_primary_key: int
    ) -> list[IntentRow]:
        async with self._session.transaction("tracing a row") as tx:
            records = await tx.fetch_all(
                "intents_for_row.select",
                f"SELECT {INTENT_COLUMNS} FROM intents"
                " WHERE office_id = %s AND od_table = %s AND od_primary_key = %s"
                " ORDER BY received_at, id",
                (office_id, od_table, od_primary_key),
            )
        return [intent_row(record) for record in records]


def _found(record: Record | None) -> Record:
    if record is None:  # the row was locked or just written in this same transaction
        raise LedgerError("an intent row vanished inside its own transaction")
    return record


def _seconds(microseconds: int | None) -> float | None:
    return None if microseconds is None else microseconds / 1_000_000


def _reopenable(record: Record, payload_hash: str) -> bool:
    """A replayed intent is reopened only if it ended rejected or dead, with the same payload."""
    finished_badly = record["status"] in (IntentStatus.REJECTED, IntentStatus.DEAD)
    return finished_badly and record["payload_hash"] == payload_hash


def _classify(record: Record, payload_hash: str) -> ClaimResult:
    """What an earlier delivery of the same key left behind, seen by this one."""
    intent_id = int(record["id"])
    if record["payload_hash"] != payload_hash:
        return Conflict(intent_id=intent_id)
    status = IntentStatus(record["status"])
    if status is IntentStatus.RECEIVED:
        return Resumed(intent_id=intent_id, attempts=record["attempts"])
    if status is IntentStatus.ATTEMPTING:
        return InDoubt(
            intent_id=intent_id,
            attempts=record["attempts"],
            attempt_started_at=from_db(record["attempt_started_at"]),
            attempt_writer=record["attempt_writer"],
        )
    return Finished(
        intent_id=intent_id, status=OutcomeStatus(status.value), outcome_json=record["outcome_json"]
    )


def _call_row(intent_id: int, call: ApiCallRecord) -> tuple[object, ...]:
    return (
        intent_id, call.attempt, call.method, cut(call.path, c.MAX_PATH_CHARS), call.status,
        max(0, round(call.latency_s * 1000)), call.od_primary_key,
        cut(call.message, c.MAX_API_MESSAGE_CHARS), to_db(call.started_at),
    )


def _flat(rows: list[tuple[object, ...]]) -> list[object]:
    return [value for row in rows for value in row]
