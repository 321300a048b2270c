"""Reconciling a create in doubt: found, not found, or ambiguous, for every create contract.

Rows are made only through the simulator's HTTP API by the hub's own client, after the ledger
began the attempt, just as the writer does; the ledger is a real one on its own database.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contracts import OutcomeStatus
from hub.ledger import Finish, MySqlLedger
from hub.opendental import OpenDentalClient
from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.reconcile import (
    Ambiguous,
    AttemptWindow,
    Found,
    LedgerKnownRows,
    NotFound,
    reconcile,
)
from hub.reconcile.lookups import find_candidates
from hub.reconcile.window import office_local_since
from tests.reconcile.scenarios import (
    SCENARIO_IDS,
    SCENARIOS,
    Scenario,
    begin,
    intent_of,
    redelivered,
)
from tests.writer.support import eventually

each_create = pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
PATIENT_CREATE = SCENARIOS[0]


def applied(scenario: Scenario, primary_key: int) -> Finish:
    return Finish(status=OutcomeStatus.APPLIED, od_table=scenario.table.value,
                  od_primary_key=primary_key)


@each_create
async def test_a_create_that_landed_is_found(
    scenario: Scenario, od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger,
    pat_num: int,
) -> None:
    # Given an attempt begun in the ledger whose create reached Open Dental, result unrecorded
    intent = scenario.intent(pat_num)
    await begin(ledger, intent)
    created = await scenario.create(od, intent)
    # When the message comes back in doubt and is reconciled
    window = AttemptWindow.of(await redelivered(ledger, intent))
    verdict = await reconcile(intent, resolved_pat_num=None, window=window, db=office_db,
                              known_rows=LedgerKnownRows(ledger))
    # Then that row is found
    assert verdict == Found(table=scenario.table, primary_key=created)


@each_create
async def test_a_create_that_never_landed_is_not_found(
    scenario: Scenario, office_db: ReadOnlyDatabase, ledger: MySqlLedger, pat_num: int,
) -> None:
    # Given an attempt begun in the ledger whose create never reached Open Dental
    intent = scenario.intent(pat_num)
    await begin(ledger, intent)
    # When it is reconciled
    window = AttemptWindow.of(await redelivered(ledger, intent))
    verdict = await reconcile(intent, resolved_pat_num=None, window=window, db=office_db,
                              known_rows=LedgerKnownRows(ledger))
    # Then nothing is found: it is safe to send
    assert verdict == NotFound()


@each_create
async def test_a_fitting_row_made_before_the_attempt_is_not_found(
    scenario: Scenario, od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger,
    pat_num: int,
) -> None:
    # Given a row with the intent's natural keys made through the API, and the intent's attempt
    # beginning a minute later (the clock moved on instead of the test waiting)
    intent = scenario.intent(pat_num)
    await scenario.create(od, intent)
    intent_id = await begin(ledger, intent)
    later = AttemptWindow(intent_id=intent_id, started_at=datetime.now(UTC) + timedelta(minutes=1))
    # When the attempt is reconciled
    verdict = await reconcile(intent, resolved_pat_num=None, window=later, db=office_db,
                              known_rows=LedgerKnownRows(ledger))
    # Then the older row is not taken for the attempt's
    assert verdict == NotFound()


@each_create
async def test_two_fitting_rows_are_ambiguous(
    scenario: Scenario, od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger,
    pat_num: int,
) -> None:
    # Given an attempt in doubt, and two rows with its natural keys made through the API since
    intent = scenario.intent(pat_num)
    await begin(ledger, intent)
    first = await scenario.create(od, intent, twin=0)
    second = await scenario.create(od, intent, twin=1)
    # When it is reconciled
    window = AttemptWindow.of(await redelivered(ledger, intent))
    verdict = await reconcile(intent, resolved_pat_num=None, window=window, db=office_db,
                              known_rows=LedgerKnownRows(ledger))
    # Then a person has to decide between both, each a row the API logged
    assert isinstance(verdict, Ambiguous)
    assert verdict.primary_keys == (first, second)
    assert all(candidate.securitylog_num is not None for candidate in verdict.candidates)


@each_create
async def test_a_row_another_intent_created_is_not_taken(
    scenario: Scenario, od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger,
    pat_num: int,
) -> None:
    # Given an attempt in doubt whose create landed, and then another intent with the same
    # natural keys (another message for the same thing) applied and recorded with its own row
    intent = scenario.intent(pat_num)
    await begin(ledger, intent)
    ours = await scenario.create(od, intent, twin=0)
    other = scenario.intent(pat_num)
    other_id = await begin(ledger, other)
    theirs = await scenario.create(od, other, twin=1)
    assert await ledger.finish(other_id, applied(scenario, theirs))
    # When the attempt in doubt is reconciled
    window = AttemptWindow.of(await redelivered(ledger, intent))
    verdict = await reconcile(intent, resolved_pat_num=None, window=window, db=office_db,
                              known_rows=LedgerKnownRows(ledger))
    # Then the other intent's row is left out and ours is found
    assert verdict == Found(table=scenario.table, primary_key=ours)


async def test_an_update_recorded_on_the_row_does_not_claim_it(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger,
) -> None:
    # Given a patient create in doubt that landed, and a patient.update naming the new PatNum
    # (read from Open Dental by the vendor) applied and recorded on that row
    intent = PATIENT_CREATE.intent()
    await begin(ledger, intent)
    created = await PATIENT_CREATE.create(od, intent)
    update = intent_of("patient.update", {"PatNum": created, "HmPhone": "555-0199"})
    update_id = await begin(ledger, update)
    assert await ledger.finish(update_id, applied(PATIENT_CREATE, created))
    # When the create is reconciled
    window = AttemptWindow.of(await redelivered(ledger, intent))
    verdict = await reconcile(intent, resolved_pat_num=None, window=window, db=office_db,
                              known_rows=LedgerKnownRows(ledger))
    # Then the update did not make the row someone else's creation
    assert verdict == Found(table=PATIENT_CREATE.table, primary_key=created)


async def test_a_patient_made_earlier_and_edited_during_the_attempt_is_not_taken(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger,
) -> None:
    # Given a patient with the intent's natural keys made through the API, an attempt beginning
    # in a later second of the office's clock (Open Dental stamps to the second; here the lookup
    # looks back no further than the attempt's start), and the patient edited through the API
    # during the attempt (which moves its DateTStamp into the window, while its create entry in
    # the securitylog stays before it)
    intent = PATIENT_CREATE.intent()
    earlier = await PATIENT_CREATE.create(od, intent)
    made_in = await _office_clock(office_db)

    async def a_later_second() -> bool:
        return await _office_clock(office_db) > made_in

    await eventually(a_later_second, "the office's clock past the second of the create")
    window = AttemptWindow(
        intent_id=await begin(ledger, intent), started_at=datetime.now(UTC),
        skew_margin=timedelta(0),
    )
    await od.update_patient(earlier, {"HmPhone": "555-0199"})
    # When the attempt is reconciled
    verdict = await reconcile(intent, resolved_pat_num=None, window=window, db=office_db,
                              known_rows=LedgerKnownRows(ledger), clock_skew=timedelta(0))
    # Then the edited patient is not taken for a new one: no API create of it in the window
    assert verdict == NotFound()
    # (though the lookup did see it: the edit moved it into the window)
    since = await office_local_since(office_db, window)
    seen = await find_candidates(
        office_db, intent.payload, pat_num=None, since=since, clock_skew=timedelta(0)
    )
    assert seen is not None
    assert [(row.primary_key, row.securitylog_num) for row in seen] == [(earlier, None)]


async def _office_clock(db: ReadOnlyDatabase) -> datetime:
    """The office database's clock, to the second, as Open Dental stamps its rows."""
    [row] = await db.select("test_office_clock", "SELECT NOW() AS now_local", [])
    now = row["now_local"]
    assert isinstance(now, datetime)
    return now
