"""The doubts reconciliation meets besides the plain ones: a reply dropped after Open Dental
committed, a database too busy to answer, updates, every create contract's committed examples,
a PatNum resolved from a reference, and what verdicts and logs may show."""

from __future__ import annotations

import json
import logging
import socket
from datetime import UTC, datetime

import pytest

from contracts import Intent, parse_intent
from hub.errors import TransientError
from hub.ledger import MySqlLedger
from hub.opendental import OpenDentalClient
from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.reconcile import (
    Ambiguous,
    AttemptWindow,
    Found,
    LedgerKnownRows,
    NotFound,
    SafeToResend,
    reconcile,
)
from odsim.faults import FaultConfig
from odsim.server import SimHandle
from tests.contracts.examples import Example, examples
from tests.ledger.conftest import root_connection
from tests.opendental.readonly_support import QueryLog, readonly_account
from tests.reconcile.scenarios import (
    SCENARIO_IDS,
    SCENARIOS,
    Scenario,
    begin,
    intent_of,
    redelivered,
)

PATIENT_CREATE, APPOINTMENT_CREATE = SCENARIOS[0], SCENARIOS[1]


# Changes reconciliation reads back rather than resends (tests/reconcile/test_edits.py).
READ_BACK = ("appointment.update", "appointment.note")


def _examples_of(method: str) -> list[Example]:
    """The committed valid examples of every contract whose call is ``method`` (but those read
    back; sheet.fill's calls are reconciled one by one: tests/reconcile/test_sheet_fill.py)."""
    return [
        example for example in examples("valid-")
        if (intent := parse_intent(example.path.read_text())).payload.od_call.method == method
        and intent.contract not in READ_BACK
        and not example.id.startswith("sheet.fill.")
    ]


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _window(ledger: MySqlLedger, intent: Intent) -> AttemptWindow:
    await begin(ledger, intent)
    return AttemptWindow.of(await redelivered(ledger, intent))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
async def test_a_create_committed_then_dropped_is_found(
    scenario: Scenario, sim: SimHandle, od: OpenDentalClient, office_db: ReadOnlyDatabase,
    ledger: MySqlLedger, pat_num: int,
) -> None:
    # Given an attempt begun in the ledger, and Open Dental committing each write and then
    # dropping the connection before its reply
    intent = scenario.intent(pat_num)
    await begin(ledger, intent)
    sim.set_faults(FaultConfig(rate_commit_then_drop=1.0))
    # When the hub's client sends the create
    with pytest.raises(TransientError) as lost:
        await scenario.create(od, intent)
    sim.set_faults(FaultConfig())
    # and the message, delivered again, finds its attempt in doubt and is reconciled
    window = AttemptWindow.of(await redelivered(ledger, intent))
    verdict = await reconcile(intent, resolved_pat_num=None, window=window, db=office_db,
                              known_rows=LedgerKnownRows(ledger))
    # Then the client said the create may have happened, and it did: the one row the API now
    # lists is found
    assert lost.value.maybe_applied is True
    (committed,) = await scenario.listed_keys(od, pat_num)
    assert verdict == Found(table=scenario.table, primary_key=committed)


async def test_a_read_that_times_out_is_transient(
    sim: SimHandle, empty_database: str, ledger: MySqlLedger,
) -> None:
    # Given an office database whose patient table another session holds locked, read with a
    # half-second statement timeout
    intent = PATIENT_CREATE.intent()
    window = await _window(ledger, intent)
    locker = await root_connection(empty_database)
    try:
        async with locker.cursor() as cur:
            await cur.execute("LOCK TABLES patient WRITE")
        async with ReadOnlyDatabase.open(
            readonly_account(empty_database), timeout_s=0.5, max_concurrent=1,
            observer=QueryLog(),
        ) as db:
            # When a patient create is reconciled
            with pytest.raises(TransientError) as busy:
                await reconcile(intent, resolved_pat_num=None, window=window, db=db,
                                known_rows=LedgerKnownRows(ledger))
    finally:
        locker.close()
    # Then it is transient (try again later), naming the query, not a guess either way
    assert "reconcile_patient" in str(busy.value)


@pytest.mark.parametrize("example", _examples_of("PUT"), ids=lambda example: example.id)
async def test_updates_are_safe_to_resend_without_a_query(
    example: Example, ledger: MySqlLedger,
) -> None:
    # Given an update in doubt, and an office database that would fail any query
    intent = parse_intent(example.path.read_text())
    window = await _window(ledger, intent)
    log = QueryLog()
    async with ReadOnlyDatabase.open(
        readonly_account("opendental", port=_unused_port()), timeout_s=0.5, max_concurrent=1,
        observer=log,
    ) as nowhere:
        # When it is reconciled
        verdict = await reconcile(intent, resolved_pat_num=None, window=window, db=nowhere,
                                  known_rows=LedgerKnownRows(ledger))
    # Then it may be sent again, and the database was not asked
    assert verdict == SafeToResend()
    assert log.records == []


@pytest.mark.parametrize("example", _examples_of("POST"), ids=lambda example: example.id)
async def test_every_create_contract_example_is_looked_up(
    example: Example, office_db: ReadOnlyDatabase, query_log: QueryLog, ledger: MySqlLedger,
) -> None:
    # Given a committed example of a create contract, in doubt in an office where nothing landed
    intent = parse_intent(example.path.read_text())
    subject = intent.payload.subject()
    resolved = 1 if subject is not None and subject.ref is not None else None
    # When it is reconciled
    verdict = await reconcile(intent, resolved_pat_num=resolved,
                              window=await _window(ledger, intent), db=office_db,
                              known_rows=LedgerKnownRows(ledger), resolved_key=resolved)
    # Then the contract's own lookup ran and found nothing (no contract falls to "ambiguous")
    assert verdict == NotFound()
    assert [record.query_name for record in query_log.records] == [
        "reconcile_window", f"reconcile_{intent.payload.od_call.table}"
    ]


async def test_a_patient_named_by_reference_is_looked_for_under_its_resolved_pat_num(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger, pat_num: int,
) -> None:
    # Given an appointment create naming its patient by the vendor's reference, which the writer
    # resolved and sent as PatNum, landed without a recorded result
    by_ref = intent_of("appointment.create", {
        **APPOINTMENT_CREATE.payload, "PatientRef": "webform:patient:1",
    })
    window = await _window(ledger, by_ref)
    created = await od.create_appointment({**by_ref.payload.od_fields(), "PatNum": pat_num})
    # When it is reconciled with the resolved PatNum
    verdict = await reconcile(by_ref, resolved_pat_num=pat_num, window=window, db=office_db,
                              known_rows=LedgerKnownRows(ledger))
    # Then the row is found
    assert verdict == Found(table=APPOINTMENT_CREATE.table, primary_key=created.primary_key)


async def test_a_create_for_a_patient_needs_the_pat_num_it_was_sent_with(
    office_db: ReadOnlyDatabase, query_log: QueryLog, ledger: MySqlLedger,
) -> None:
    # Given a create naming its patient by reference, and one naming PatNum 5
    by_ref = intent_of("commlog.create", {"PatientRef": "crm:9", "Note": "Left a message."})
    by_num = intent_of("commlog.create", {"PatNum": 5, "Note": "Left a message."})
    window = AttemptWindow(intent_id=1, started_at=datetime.now(UTC))
    known_rows = LedgerKnownRows(ledger)
    # When the first comes without its resolved PatNum, and the second with another one
    # Then both are refused as the caller's mistake, before the database is asked
    with pytest.raises(ValueError, match="PatNum"):
        await reconcile(by_ref, resolved_pat_num=None, window=window, db=office_db,
                        known_rows=known_rows)
    with pytest.raises(ValueError, match="PatNum"):
        await reconcile(by_num, resolved_pat_num=6, window=window, db=office_db,
                        known_rows=known_rows)
    assert query_log.records == []


@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
async def test_verdicts_and_logs_carry_ids_only(
    scenario: Scenario, od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger,
    pat_num: int, caplog: pytest.LogCaptureFixture,
) -> None:
    # Given an ambiguous create in doubt (two twins landed)
    intent = scenario.intent(pat_num)
    window = await _window(ledger, intent)
    for twin in (0, 1):
        await scenario.create(od, intent, twin=twin)
    # When it is reconciled, logging everything
    with caplog.at_level(logging.DEBUG, logger="hub.reconcile"):
        verdict = await reconcile(intent, resolved_pat_num=None, window=window, db=office_db,
                                  known_rows=LedgerKnownRows(ledger))
    # Then neither the verdict nor any log record shows a value of the payload
    assert isinstance(verdict, Ambiguous)
    # (the record's clock and process numbers left out: a payload's 45.1 can be in a timestamp)
    logged = [
        json.dumps({k: v for k, v in vars(record).items() if k not in _RECORD_NUMBERS}, default=str)
        for record in caplog.records
    ]
    assert logged
    for value in (str(v) for v in scenario.payload.values() if len(str(v)) > 3):
        assert value not in repr(verdict)
        assert value not in str(verdict)
        assert all(value not in line for line in logged)


def test_an_attempt_window_needs_an_aware_start() -> None:
    # Given a start without a zone, When a window is made of it, Then it is refused
    with pytest.raises(ValueError, match="timezone-aware"):
        AttemptWindow(intent_id=1, started_at=datetime(2031, 5, 1, 9, 0))


_RECORD_NUMBERS = frozenset({"created", "msecs", "relativeCreated", "thread", "process"})
