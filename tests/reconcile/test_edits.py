"""Reconciliation of the changes a resend would not settle well: a reschedule read back, a
note's append looked for (a resend would double it), a refund found by the splits it offsets."""

from __future__ import annotations

import pytest

from contracts import Intent, OutcomeStatus
from hub.errors import TransientError
from hub.ledger import Finish, MySqlLedger
from hub.opendental import OpenDentalClient
from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.opendental.reconcile_queries import OdTable
from hub.reconcile import (
    Ambiguous,
    AttemptWindow,
    Found,
    LedgerKnownRows,
    NotFound,
    ReconcileVerdict,
    reconcile,
)
from odsim.faults import FaultConfig
from odsim.server import SimHandle
from tests.ledger.conftest import root_connection
from tests.reconcile.scenarios import begin, intent_of, redelivered

AT = "2031-05-06 09:30:00"
TEXT = "Reminder sent by text."


async def _appointment(od: OpenDentalClient, pat_num: int) -> int:
    created = await od.create_appointment({"PatNum": pat_num, "Op": 1, "AptDateTime": AT})
    return created.primary_key


async def _in_doubt(ledger: MySqlLedger, intent: Intent) -> AttemptWindow:
    await begin(ledger, intent)
    return AttemptWindow.of(await redelivered(ledger, intent))


async def _reconcile(
    intent: Intent, window: AttemptWindow, db: ReadOnlyDatabase, ledger: MySqlLedger,
    *, resolved_key: int | None = None,
) -> ReconcileVerdict:
    return await reconcile(intent, resolved_pat_num=None, window=window, db=db,
                           known_rows=LedgerKnownRows(ledger), resolved_key=resolved_key)


async def _applied_elsewhere(ledger: MySqlLedger, intent: Intent, apt_num: int) -> None:
    """Another intent of the hub, recorded applied to the appointment just now."""
    intent_id = await begin(ledger, intent)
    finish = Finish(status=OutcomeStatus.APPLIED, od_table="appointment", od_primary_key=apt_num)
    assert await ledger.finish(intent_id, finish)


def _update(apt_num: int, **fields: object) -> Intent:
    return intent_of("appointment.update", {"AptNum": apt_num, **fields})


def _note(apt_num: int, text: str = TEXT) -> Intent:
    return intent_of("appointment.note", {"AptNum": apt_num, "Note": text})


# appointment.update -----------------------------------------------------------------------


async def test_a_reschedule_that_landed_is_found(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger, pat_num: int,
) -> None:
    # Given a reschedule in doubt that reached Open Dental
    apt = await _appointment(od, pat_num)
    intent = _update(apt, AptDateTime="2031-05-07 14:00:00", Op=2, Pattern="/XXXX/")
    window = await _in_doubt(ledger, intent)
    await od.update_appointment(apt, intent.payload.od_fields())
    # When it is reconciled
    verdict = await _reconcile(intent, window, office_db, ledger)
    # Then the appointment holds its values: applied, nothing to send
    assert verdict == Found(table=OdTable.APPOINTMENT, primary_key=apt)


async def test_a_reschedule_that_did_not_land_is_sent_again(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger, pat_num: int,
) -> None:
    # Given a reschedule in doubt that never reached Open Dental
    apt = await _appointment(od, pat_num)
    intent = _update(apt, AptDateTime="2031-05-07 14:00:00", ProvNum=1)
    window = await _in_doubt(ledger, intent)
    # When it is reconciled
    verdict = await _reconcile(intent, window, office_db, ledger)
    # Then it did not land: send it again
    assert verdict == NotFound()


async def test_the_second_of_two_reschedules_is_judged_by_its_own_values(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger, pat_num: int,
) -> None:
    # Given a first reschedule to 14:00 that landed, then a second to 15:00 in doubt, by the
    # appointment's reference (resolved by the writer)
    apt = await _appointment(od, pat_num)
    await od.update_appointment(apt, {"AptDateTime": "2031-05-07 14:00:00"})
    second = intent_of("appointment.update", {
        "AppointmentRef": "sched:apt:1", "AptDateTime": "2031-05-07 15:00:00"})
    window = await _in_doubt(ledger, second)
    # When the second is reconciled before and after it lands
    before = await _reconcile(second, window, office_db, ledger, resolved_key=apt)
    await od.update_appointment(apt, second.payload.od_fields())
    after = await _reconcile(second, window, office_db, ledger, resolved_key=apt)
    # Then the first's values do not pass for the second's
    assert before == NotFound()
    assert after == Found(table=OdTable.APPOINTMENT, primary_key=apt)


# appointment.note -------------------------------------------------------------------------


async def test_a_note_committed_then_dropped_is_found_and_not_sent_twice(
    sim: SimHandle, od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger,
    pat_num: int,
) -> None:
    # Given a note whose append Open Dental committed before dropping the connection
    apt = await _appointment(od, pat_num)
    intent = _note(apt)
    await begin(ledger, intent)
    sim.set_faults(FaultConfig(rate_commit_then_drop=1.0))
    with pytest.raises(TransientError):
        await od.append_appointment_note(apt, intent.payload.od_fields())
    sim.set_faults(FaultConfig())
    # When it comes back in doubt and is reconciled
    window = AttemptWindow.of(await redelivered(ledger, intent))
    verdict = await _reconcile(intent, window, office_db, ledger)
    # Then it is found: applied, and the note holds the text once
    assert verdict == Found(table=OdTable.APPOINTMENT, primary_key=apt)
    rows = await od.list_appointments(PatNum=pat_num)
    assert [row["Note"] for row in rows] == [TEXT]


async def test_a_note_that_did_not_land_is_sent_again(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger, pat_num: int,
) -> None:
    # Given a note in doubt that never reached Open Dental
    apt = await _appointment(od, pat_num)
    intent = _note(apt)
    window = await _in_doubt(ledger, intent)
    # When it is reconciled
    verdict = await _reconcile(intent, window, office_db, ledger)
    # Then it did not land
    assert verdict == NotFound()


async def test_the_same_text_appended_before_the_window_is_not_taken_for_this_one(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger, pat_num: int,
    empty_database: str,
) -> None:
    # Given the same text appended by an earlier intent, its audit entry an hour before this
    # attempt's window (moved back as root: a test cannot wait an hour)
    apt = await _appointment(od, pat_num)
    await od.append_appointment_note(apt, {"Note": TEXT})
    root = await root_connection(empty_database)
    try:
        async with root.cursor() as cur:
            await cur.execute(
                "UPDATE securitylog SET LogDateTime = LogDateTime - INTERVAL 1 HOUR"
                " WHERE FKey = %s", (apt,))
        await root.commit()
    finally:
        root.close()
    intent = _note(apt)
    window = await _in_doubt(ledger, intent)
    # When this attempt, which did not land, is reconciled
    verdict = await _reconcile(intent, window, office_db, ledger)
    # Then the note ending with the text is not taken for it: sent again
    assert verdict == NotFound()


async def test_the_same_text_by_another_intent_in_the_window_asks_a_person(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger, pat_num: int,
) -> None:
    # Given another intent that appended the same text moments ago, recorded applied
    apt = await _appointment(od, pat_num)
    await od.append_appointment_note(apt, {"Note": TEXT})
    await _applied_elsewhere(ledger, _note(apt), apt)
    # and this intent's attempt in doubt, which did not land
    intent = _note(apt)
    window = await _in_doubt(ledger, intent)
    # When it is reconciled
    verdict = await _reconcile(intent, window, office_db, ledger)
    # Then neither found (the note would be lost) nor sent (it could be doubled): a person
    assert isinstance(verdict, Ambiguous)
    assert verdict.primary_keys == (apt,)


async def test_a_note_appended_after_this_one_asks_a_person(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger, pat_num: int,
) -> None:
    # Given this note landed, then someone appended another line after it
    apt = await _appointment(od, pat_num)
    intent = _note(apt)
    window = await _in_doubt(ledger, intent)
    await od.append_appointment_note(apt, {"Note": TEXT})
    await od.append_appointment_note(apt, {"Note": "Patient called back."})
    # When it is reconciled
    verdict = await _reconcile(intent, window, office_db, ledger)
    # Then the text is there but not last: a person decides
    assert isinstance(verdict, Ambiguous)


async def test_a_text_that_only_ends_the_note_mid_line_is_not_found(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger, pat_num: int,
) -> None:
    # Given a note ending with the text inside a longer line, by an API edit in the window
    apt = await _appointment(od, pat_num)
    intent = _note(apt, "by text.")
    window = await _in_doubt(ledger, intent)
    await od.append_appointment_note(apt, {"Note": TEXT})
    # When the shorter text's attempt is reconciled
    verdict = await _reconcile(intent, window, office_db, ledger)
    # Then it is not taken for its own line: the text is inside a line, not after it
    assert isinstance(verdict, Ambiguous)


# payment.refund ---------------------------------------------------------------------------


async def _payment(od: OpenDentalClient, pat_num: int) -> int:
    return (await od.create_payment({"PatNum": pat_num, "PayAmt": 80.25})).primary_key


async def test_a_refund_that_landed_is_found(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger, pat_num: int,
) -> None:
    # Given a refund in doubt that reached Open Dental
    pay = await _payment(od, pat_num)
    intent = intent_of("payment.refund", {"PayNum": pay})
    window = await _in_doubt(ledger, intent)
    refund = await od.refund_payment(intent.payload.od_fields())
    # When it is reconciled
    verdict = await _reconcile(intent, window, office_db, ledger)
    # Then the refund payment is found
    assert verdict == Found(table=OdTable.PAYMENT, primary_key=refund.primary_key)


async def test_a_refund_that_did_not_land_is_sent_again(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger, pat_num: int,
) -> None:
    # Given a refund in doubt that never reached Open Dental (another payment was refunded)
    pay, other = await _payment(od, pat_num), await _payment(od, pat_num)
    await od.refund_payment({"PayNum": other})
    intent = intent_of("payment.refund", {"PayNum": pay})
    window = await _in_doubt(ledger, intent)
    # When it is reconciled
    verdict = await _reconcile(intent, window, office_db, ledger)
    # Then nothing offsets this payment: send it again
    assert verdict == NotFound()


async def test_two_api_refunds_of_one_payment_ask_a_person(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger, pat_num: int,
    empty_database: str,
) -> None:
    # Given a refund in doubt, and two API refunds offsetting the payment (the second copied as
    # root: the simulated office refuses a second refund, a real one may have allowed it)
    pay = await _payment(od, pat_num)
    intent = intent_of("payment.refund", {"PayNum": pay})
    window = await _in_doubt(ledger, intent)
    first = (await od.refund_payment({"PayNum": pay})).primary_key
    root = await root_connection(empty_database)
    try:
        async with root.cursor() as cur:
            await cur.execute(
                "INSERT INTO payment (PayType, PayDate, PayAmt, PatNum, ClinicNum, DateEntry,"
                " PaymentSource) SELECT PayType, PayDate, PayAmt, PatNum, ClinicNum, DateEntry,"
                " PaymentSource FROM payment WHERE PayNum = %s", (first,))
            second = cur.lastrowid
            await cur.execute(
                "INSERT INTO paysplit (SplitAmt, PatNum, PayNum, FSplitNum) SELECT SplitAmt,"
                " PatNum, %s, FSplitNum FROM paysplit WHERE PayNum = %s", (second, first))
            await cur.execute(
                "INSERT INTO securitylog (PermType, UserNum, LogDateTime, LogText, PatNum,"
                " CompName, FKey, LogSource) SELECT PermType, UserNum, LogDateTime, LogText,"
                " PatNum, CompName, %s, LogSource FROM securitylog WHERE FKey = %s"
                " AND PermType = 15", (second, first))
        await root.commit()
    finally:
        root.close()
    # When it is reconciled
    verdict = await _reconcile(intent, window, office_db, ledger)
    # Then both are candidates: a person decides
    assert isinstance(verdict, Ambiguous)
    assert verdict.primary_keys == (first, second)


async def test_a_refund_another_intent_made_is_not_taken_for_this_one(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger, pat_num: int,
) -> None:
    # Given a refund another intent made and the ledger records as its own
    pay = await _payment(od, pat_num)
    refund = await od.refund_payment({"PayNum": pay})
    earlier = intent_of("payment.refund", {"PayNum": pay})
    earlier_id = await begin(ledger, earlier)
    assert await ledger.finish(earlier_id, Finish(
        status=OutcomeStatus.APPLIED, od_table="payment", od_primary_key=refund.primary_key))
    # and a second refund intent of the same payment in doubt
    intent = intent_of("payment.refund", {"PayNum": pay})
    window = await _in_doubt(ledger, intent)
    # When it is reconciled
    verdict = await _reconcile(intent, window, office_db, ledger)
    # Then the other's refund is not this one's: sent again (Open Dental refuses it as refunded)
    assert verdict == NotFound()


async def test_a_note_that_landed_after_another_intents_reschedule_is_found(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger, pat_num: int,
) -> None:
    # Given another intent's reschedule moments ago, recorded applied (one API edit)
    apt = await _appointment(od, pat_num)
    await od.update_appointment(apt, {"AptDateTime": "2031-05-07 14:00:00"})
    await _applied_elsewhere(ledger, _update(apt, AptDateTime="2031-05-07 14:00:00"), apt)
    # and this note in doubt, which landed (a second API edit)
    intent = _note(apt)
    window = await _in_doubt(ledger, intent)
    await od.append_appointment_note(apt, intent.payload.od_fields())
    # When it is reconciled
    verdict = await _reconcile(intent, window, office_db, ledger)
    # Then the edit the reschedule does not account for is this note's: found
    assert verdict == Found(table=OdTable.APPOINTMENT, primary_key=apt)


async def test_a_refund_by_the_vendors_reference_is_looked_for_under_its_resolved_pay_num(
    od: OpenDentalClient, office_db: ReadOnlyDatabase, ledger: MySqlLedger, pat_num: int,
) -> None:
    # Given a refund naming its payment by the vendor's reference, which the writer resolved and
    # sent as PayNum, landed without a recorded result
    pay = await _payment(od, pat_num)
    intent = intent_of("payment.refund", {"PaymentRef": "pw-pay-1"})
    window = await _in_doubt(ledger, intent)
    refund = await od.refund_payment({"PayNum": pay})
    # When it is reconciled with the resolved PayNum, and without it
    verdict = await _reconcile(intent, window, office_db, ledger, resolved_key=pay)
    # Then the refund is found; without the PayNum it was sent with, nothing is guessed
    assert verdict == Found(table=OdTable.PAYMENT, primary_key=refund.primary_key)
    with pytest.raises(ValueError, match="PayNum"):
        await _reconcile(intent, window, office_db, ledger)
