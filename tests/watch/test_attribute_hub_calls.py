"""Which hub intent a change is, when the writer's calls went wrong: two writes of one row whose
replies were lost, and an attempt whose writer was killed before the ledger recorded its call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.ledger import ApiCallRow, IntentRow, IntentStatus, IntentStory
from hub.opendental.reconcile_queries import LOG_SOURCE_API, OdTable, PermType
from hub.watch import Door
from hub.watch.attribute import attribute_change
from hub.watch.model import SeenRow
from hub.watch.store import RowState
from hub.watch.tables import WATCHED, LogRow

T0 = datetime(2031, 5, 6, 14, 0, 0, 100_000, tzinfo=UTC)  # the office's clock is UTC here
OFFICE = "office-1"
KEY = 17
DEV = "OD Integration Hub"


def _story(intent_id: int, *calls: ApiCallRow, attempts: int = 1,
           received: datetime = T0) -> IntentStory:
    intent = IntentRow(
        id=intent_id, vendor="crm-co", idempotency_key=f"k{intent_id}", payload_hash="0" * 64,
        contract="appointment.reschedule", contract_version=1, office_id=OFFICE,
        status=IntentStatus.APPLIED, attempts=attempts, deliveries=1, received_at=received,
        updated_at=T0 + timedelta(seconds=9), attempt_started_at=T0,
        finished_at=T0 + timedelta(seconds=9), expires_at=T0, message_id=f"m{intent_id}",
        correlation_id=None, od_table="appointment", od_primary_key=KEY, reason=None,
        last_error=None, outcome_json=None,
    )
    return IntentStory(intent=intent, api_calls=calls)


def _call(call_id: int, at: datetime, *, status: int | None, attempt: int = 1) -> ApiCallRow:
    return ApiCallRow(
        id=call_id, attempt=attempt, method="PUT", path=f"/appointments/{KEY}", status=status,
        latency_ms=30, od_primary_key=None if status is None else KEY, message=None,
        started_at=at,
    )


def _log(num: int, at: datetime) -> LogRow:
    return LogRow(
        securitylog_num=num, perm_type=PermType.AppointmentEdit.value, log_source=LOG_SOURCE_API,
        user_num=0, log_text=f"Appointment edited by {DEV} through API.",
        log_datetime=at.replace(tzinfo=None, microsecond=0),
        logged_at_epoch=at.replace(microsecond=0).timestamp(),
    )


def _attributed(at: datetime, logs: list[LogRow], stories: list[IntentStory]) -> int | None:
    seen = SeenRow(
        office_id=OFFICE, table=OdTable.APPOINTMENT, key=KEY,
        stamp=at.replace(tzinfo=None, microsecond=0), changed_at=at.replace(microsecond=0),
        digests={"Note": "b"}, row_digest="r2",
    )
    before = RowState(stamp=(T0 - timedelta(minutes=1)).replace(tzinfo=None),
                      digests={"Note": "a"}, last_log=1)
    change = attribute_change(
        table=WATCHED[OdTable.APPOINTMENT], seen=seen, before=before, logs=logs,
        stories=stories, own_dev_name=DEV, window=timedelta(seconds=2),
    )
    assert change.door is Door.HUB
    return change.intent_id


def test_the_later_of_two_writes_whose_replies_were_lost_is_the_rows_state() -> None:
    # Given two intents' PUTs of one appointment half a second apart, both committed and both
    # replies lost (commit-then-drop), and Open Dental's two log rows in the same second
    first = _story(1, _call(11, T0, status=None))
    second = _story(2, _call(21, T0 + timedelta(milliseconds=500), status=None))
    logs = [_log(5, T0), _log(6, T0 + timedelta(milliseconds=500))]
    # When one scan sees the row after both, Then its change is the second intent's
    assert _attributed(T0 + timedelta(milliseconds=500), logs, [first, second]) == 2


def test_a_lost_reply_and_a_later_answered_write_pair_in_their_order() -> None:
    # Given a PUT whose reply was lost, then another intent's PUT answered 200, same second
    lost = _story(1, _call(11, T0, status=None))
    answered = _story(2, _call(21, T0 + timedelta(milliseconds=300), status=200))
    logs = [_log(5, T0), _log(6, T0 + timedelta(milliseconds=300))]
    # When one scan sees the row after both, Then the row's state is the answered intent's
    assert _attributed(T0 + timedelta(milliseconds=300), logs, [lost, answered]) == 2


def test_a_write_whose_writer_was_killed_before_recording_its_call_is_its_intent() -> None:
    # Given an intent whose first attempt's PUT landed but whose writer was killed before the
    # ledger recorded the call; its second attempt's PUT (recorded) changed nothing, 4 s later
    killed = _story(3, _call(31, T0 + timedelta(seconds=4), status=200, attempt=2), attempts=2)
    logs = [_log(7, T0 + timedelta(milliseconds=400))]
    # When the watch sees the change the first attempt made, Then it is that intent's
    assert _attributed(T0 + timedelta(milliseconds=400), logs, [killed]) == 3
