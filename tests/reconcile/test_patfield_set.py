"""Reconciling a patfield.set in doubt: an upsert, checked with read-only SQL on ``patfield``.

Found when the patient's row for the field holds the value and the API logged an edit of it
since the attempt began; not found (safe to send the same value again) when the row is missing,
holds another value, or was set before the attempt; ambiguous when two rows for the field fit.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contracts import Intent
from hub.ledger import MySqlLedger
from hub.opendental import OpenDentalClient
from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.opendental.reconcile_queries import OdTable
from hub.opendental.results import Created, Updated
from hub.reconcile import (
    Ambiguous,
    AttemptWindow,
    Found,
    LedgerKnownRows,
    NotFound,
    ReconcileVerdict,
    reconcile,
)
from tests.reconcile.scenarios import begin, intent_of, redelivered
from tests.support.mariadb import root_sql

FIELD = "Referral Source"


def _intent(pat_num: int, value: str = "Web form") -> Intent:
    return intent_of("patfield.set", {"PatNum": pat_num, "FieldName": FIELD, "FieldValue": value})


async def _verdict(
    intent: Intent, ledger: MySqlLedger, office_db: ReadOnlyDatabase
) -> ReconcileVerdict:
    window = AttemptWindow.of(await redelivered(ledger, intent))
    return await reconcile(intent, resolved_pat_num=None, window=window, db=office_db,
                           known_rows=LedgerKnownRows(ledger))


async def test_the_client_posts_a_new_field_and_puts_a_known_one(
    od: OpenDentalClient, pat_num: int
) -> None:
    # Given a patient without the field
    body = {"PatNum": pat_num, "FieldName": FIELD, "FieldValue": "Web form"}

    # When it is set, then set again to another value
    first = await od.set_patfield(body)
    second = await od.set_patfield({**body, "FieldValue": "Friend"})

    # Then the first made the row (POST, 201) and the second changed that row (PUT, 200)
    assert isinstance(first, Created) and first.status == 201
    assert isinstance(second, Updated) and second.status == 200
    assert second.primary_key == first.primary_key
    rows = await od.list_patfields(pat_num)
    assert [(r["FieldName"], r["FieldValue"]) for r in rows] == [(FIELD, "Friend")]


async def test_a_set_that_landed_is_found(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger, pat_num: int
) -> None:
    # Given an attempt begun whose set reached Open Dental, result unrecorded
    intent = _intent(pat_num)
    await begin(ledger, intent)
    made = await od.set_patfield(intent.payload.od_fields())
    # When it is reconciled
    verdict = await _verdict(intent, ledger, office_db)
    # Then the patient's row for the field is found
    assert verdict == Found(table=OdTable.PATFIELD, primary_key=made.primary_key)


async def test_an_update_that_landed_is_found(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger, pat_num: int
) -> None:
    # Given the field set earlier, then an attempt whose change (a PUT) reached Open Dental
    before = await od.set_patfield({"PatNum": pat_num, "FieldName": FIELD, "FieldValue": "Ad"})
    intent = _intent(pat_num, "Friend")
    await begin(ledger, intent)
    await od.set_patfield(intent.payload.od_fields())
    # When it is reconciled
    verdict = await _verdict(intent, ledger, office_db)
    # Then the same row, now holding the value, is found
    assert verdict == Found(table=OdTable.PATFIELD, primary_key=before.primary_key)


async def test_a_set_that_never_landed_is_not_found(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger, pat_num: int
) -> None:
    # Given the field holding another value, and an attempt that never reached Open Dental
    await od.set_patfield({"PatNum": pat_num, "FieldName": FIELD, "FieldValue": "Ad"})
    intent = _intent(pat_num, "Friend")
    await begin(ledger, intent)
    # When it is reconciled
    verdict = await _verdict(intent, ledger, office_db)
    # Then it is not found: the value is not there, so it is sent
    assert verdict == NotFound()


async def test_the_value_set_before_the_attempt_is_not_taken_for_it(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger, pat_num: int
) -> None:
    # Given the field already holding the value, and an attempt beginning a minute later
    intent = _intent(pat_num)
    await od.set_patfield(intent.payload.od_fields())
    intent_id = await begin(ledger, intent)
    later = AttemptWindow(intent_id=intent_id, started_at=datetime.now(UTC) + timedelta(minutes=1))
    # When it is reconciled
    verdict = await reconcile(intent, resolved_pat_num=None, window=later, db=office_db,
                              known_rows=LedgerKnownRows(ledger))
    # Then not found: no API edit in the window (sending the same value again is harmless)
    assert verdict == NotFound()


async def test_two_rows_for_the_field_are_ambiguous(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger, pat_num: int,
    empty_database: str,
) -> None:
    # Given an attempt whose set landed, and a second row for the same field and value (Open
    # Dental's own program does not stop one), its edit logged through the API
    intent = _intent(pat_num)
    await begin(ledger, intent)
    first = await od.set_patfield(intent.payload.od_fields())
    second = await _second_row(empty_database, office_db, pat_num)
    # When it is reconciled
    verdict = await _verdict(intent, ledger, office_db)
    # Then a person decides between both
    assert isinstance(verdict, Ambiguous)
    assert verdict.primary_keys == (first.primary_key, second)


async def _second_row(database: str, office_db: ReadOnlyDatabase, pat_num: int) -> int:
    """A second row written into the office database directly, with an API securitylog entry
    (the test's own literals only: root_sql takes no parameters)."""
    await root_sql(
        f"INSERT INTO `{database}`.patfield (PatNum, FieldName, FieldValue)"
        f" VALUES ({pat_num}, '{FIELD}', 'Web form')"
    )
    [row] = await office_db.select(
        "test_second_patfield", "SELECT MAX(PatFieldNum) AS num FROM patfield WHERE PatNum = %s",
        [pat_num],
    )
    num = int(str(row["num"]))
    await root_sql(
        f"INSERT INTO `{database}`.securitylog (PermType, LogDateTime, PatNum, FKey, LogSource)"
        f" VALUES (80, NOW(), {pat_num}, {num}, 23)"
    )
    return num
