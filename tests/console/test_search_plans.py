"""Every search the console offers finds its rows through an index of ``intents`` (migrations 1,
18 and 20), in the page's order off the index where it may match many, on its first page and on
a page deep behind a cursor: MariaDB's own EXPLAIN says so, on a ledger of 20,000 intents across
offices, vendors and statuses."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from hub.console.search import IntentQuery, statement
from hub.settings import MySqlSettings
from tests.ledger.conftest import root_connection

ROWS = 20_000
FILL = f"""
INSERT INTO intents (vendor, idempotency_key, payload_hash, contract, contract_version,
    office_id, status, received_at, updated_at, expires_at, message_id, correlation_id,
    od_table, od_primary_key, reason)
SELECT CONCAT('v-', seq % 7), CONCAT('k-', seq), REPEAT('0', 64), 'patient.create', 1,
    CONCAT('o-', seq % 200), ELT(1 + seq % 20, 'rejected', 'dead', 'applied', 'applied',
    'applied', 'applied', 'applied', 'applied', 'applied', 'applied', 'applied', 'applied',
    'applied', 'applied', 'applied', 'applied', 'applied', 'applied', 'applied', 'applied'),
    NOW() - INTERVAL seq SECOND, NOW(), NOW() + INTERVAL 7 DAY, CONCAT('m-', seq),
    CONCAT('c-', seq), 'patient', seq, ELT(1 + seq % 20, 'od_rejected', 'retries_exhausted')
FROM seq_1_to_{ROWS}
"""

SEARCHES = {
    "newest first": IntentQuery(),
    "an office": IntentQuery(office="o-17"),
    "a vendor": IntentQuery(vendor="v-3"),
    "a status": IntentQuery(status="rejected"),
    "a status in the last hour": IntentQuery(status="dead", since="1h"),
    "a time range": IntentQuery(since="2h", until="1h"),
    "a message id": IntentQuery(message="m-1234"),
    "a correlation id": IntentQuery(correlation="c-1234"),
    "an idempotency key": IntentQuery(vendor="v-2", key="k-1234"),
    "an Open Dental row": IntentQuery(row="patient:1234", office="o-34"),
    "an Open Dental row in any office": IntentQuery(row="patient:1234"),
    "a reason": IntentQuery(reason="od_rejected"),
    "by last change": IntentQuery(sort="updated"),
    "oldest first": IntentQuery(order="asc"),
}


@pytest.fixture
async def filled(ledger_db: MySqlSettings) -> MySqlSettings:
    conn = await root_connection(ledger_db.database)
    try:
        async with conn.cursor() as cur:
            await cur.execute(FILL)
            await cur.execute("ANALYZE TABLE intents")
            await conn.commit()
    finally:
        conn.close()
    return ledger_db


async def test_each_search_uses_an_index(filled: MySqlSettings) -> None:
    plans = {}
    for name, query in SEARCHES.items():
        plans[name] = await _plan(filled, query)
        plans[f"{name}, a deep page"] = await _plan(filled, replace(query, after=_deep(query)))
        plans[f"{name}, back a page"] = await _plan(filled, replace(query, before=_deep(query)))
    for name, plan in plans.items():
        access, key, rows, extra = plan[3], plan[5], int(plan[8] or 0), plan[9] or ""
        if "Impossible WHERE" in extra:
            continue  # MariaDB saw from the index's bounds alone that no row can match
        # Then MariaDB reads each through an index, not the whole table
        assert key is not None and access != "ALL", (name, plan)
        # And one that may match many reads them in the page's order off the index, so a page
        # costs its own rows, not every match (a sort of a few exact matches is no cost)
        assert rows <= 10 or "filesort" not in extra, (name, plan)


async def _plan(database: MySqlSettings, query: IntentQuery) -> tuple[object, ...]:
    """EXPLAIN of the search's statement, as the console sends it."""
    sql, args, _ = statement(query, page_size=50, now=datetime.now(UTC))
    conn = await root_connection(database.database)
    try:
        async with conn.cursor() as cur:
            await cur.execute(f"EXPLAIN {sql}", args)
            (plan,) = await cur.fetchall()
            return tuple(plan)
    finally:
        conn.close()


def _deep(query: IntentQuery) -> str:
    """A cursor half-way down the ledger's time span (the fill is a second apart per row)."""
    at = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=ROWS // 2)
    return f"{at.isoformat(timespec='microseconds')}~{ROWS // 2}"
