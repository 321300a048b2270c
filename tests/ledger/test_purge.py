from datetime import UTC, datetime, timedelta

from hub.ledger import MySqlLedger, NewRef, RefKind
from hub.settings import MySqlSettings
from tests.ledger.builders import OFFICE, VENDOR, api_call, applied, claim_of, new_key
from tests.ledger.conftest import root_connection

NOW = datetime.now(UTC)
LONG_AGO = NOW - timedelta(days=8)  # past the default 7-day retention


async def _api_call_count(database: str, intent_id: int) -> int:
    conn = await root_connection(database)
    try:
        async with conn.cursor() as cur:
            await cur.execute("SELECT COUNT(*) FROM api_calls WHERE intent_id = %s", (intent_id,))
            (count,) = await cur.fetchone()
            return int(count)
    finally:
        conn.close()


async def test_purge_removes_only_expired_finished_intents(
    ledger: MySqlLedger, ledger_db: MySqlSettings
) -> None:
    # Given an old finished intent with an API call and a ref
    old_key = new_key()
    old = (await ledger.claim(claim_of(old_key, received_at=LONG_AGO))).intent_id
    await ledger.begin_attempt(old)
    await ledger.record_api_call(old, api_call(1))
    ref = NewRef(kind=RefKind.PATIENT, ref="p-old", od_primary_key=1)
    await ledger.finish(old, applied(1, refs=(ref,)))
    # And an old intent never finished, and a recent finished one
    stuck_key = new_key()
    await ledger.claim(claim_of(stuck_key, received_at=LONG_AGO))
    recent_key = new_key()
    recent = (await ledger.claim(claim_of(recent_key, received_at=NOW))).intent_id
    await ledger.finish(recent, applied(2))
    # When expired intents are purged
    purged = await ledger.purge_expired(NOW)
    # Then only the old finished one is gone with its API calls, and its ref stays
    assert purged == 1
    assert await ledger.story(VENDOR, old_key) is None
    assert await _api_call_count(ledger_db.database, old) == 0
    assert await ledger.story(VENDOR, stuck_key) is not None
    assert await ledger.story(VENDOR, recent_key) is not None
    assert await ledger.resolve_ref(VENDOR, OFFICE, RefKind.PATIENT, "p-old") == 1


async def test_retention_is_configurable(ledger_db: MySqlSettings) -> None:
    # Given a ledger keeping keys for 30 days and an intent finished 8 days ago
    keeping = await MySqlLedger.open(ledger_db, retention_days=30)
    try:
        key = new_key()
        intent_id = (await keeping.claim(claim_of(key, received_at=LONG_AGO))).intent_id
        await keeping.finish(intent_id, applied(3))
        # When expired intents are purged
        purged = await keeping.purge_expired(NOW)
        # Then it is kept, and expires 30 days after it was received
        story = await keeping.story(VENDOR, key)
        assert purged == 0 and story is not None
        assert story.intent.expires_at == LONG_AGO + timedelta(days=30)
    finally:
        await keeping.close()
