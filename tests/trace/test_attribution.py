"""Pairing Open Dental's securitylog entries with the hub's API calls, by kind and time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.ledger import ApiCallRow, IntentRow, IntentStatus, IntentStory
from hub.opendental.reconcile_queries import OdTable, SecurityLogEntry
from hub.trace.attribution import attribute
from hub.trace.models import OdRow, OfficeLog, TimedEntry

T0 = datetime(2031, 5, 6, 14, 0, 0, 250_000, tzinfo=UTC)
ROW = OdRow(office_id="office-1", table=OdTable.PATIENT, primary_key=17)


def _story(intent_id: int, vendor: str, *calls: ApiCallRow) -> IntentStory:
    intent = IntentRow(
        id=intent_id, vendor=vendor, idempotency_key=f"k{intent_id}", payload_hash="0" * 64,
        contract="patient.update", contract_version=1, office_id=ROW.office_id,
        status=IntentStatus.APPLIED, attempts=1, deliveries=1, received_at=T0, updated_at=T0,
        attempt_started_at=T0, finished_at=T0, expires_at=T0, message_id=f"m{intent_id}",
        correlation_id=None, od_table="patient", od_primary_key=17, reason=None,
        last_error=None, outcome_json=None,
    )
    return IntentStory(intent=intent, api_calls=calls)


def _call(call_id: int, method: str, at: datetime, status: int = 200) -> ApiCallRow:
    return ApiCallRow(
        id=call_id, attempt=1, method=method, path="/patients/17", status=status,
        latency_ms=40, od_primary_key=17, message=None, started_at=at,
    )


def _log(num: int, perm: str, at: datetime | None) -> TimedEntry:
    local = (at or T0).replace(tzinfo=None, microsecond=0)
    entry = SecurityLogEntry(
        securitylog_num=num, log_datetime=local, perm_type=perm, log_text="...", user_num=0
    )
    return TimedEntry(entry=entry, logged_at=None if at is None else at.replace(microsecond=0))


def _causes(log: OfficeLog, *stories: IntentStory) -> list[int | None]:
    audit = attribute(ROW, log, stories)
    return [None if line.cause is None else line.cause.api_call_id for line in audit.lines]


def test_two_edits_in_one_second_pair_in_the_order_they_were_made() -> None:
    # Given two vendors' PUTs 100 ms apart, and Open Dental's two entries (newest first)
    first = _story(1, "crm-co", _call(11, "PUT", T0))
    second = _story(2, "forms-co", _call(21, "PUT", T0 + timedelta(milliseconds=100)))
    log = OfficeLog(entries=(_log(6, "PatientEdit", T0), _log(5, "PatientEdit", T0)))
    # When they are paired, Then the older entry goes with the earlier call
    assert _causes(log, second, first) == [21, 11]


def test_only_a_successful_write_of_the_same_kind_in_time_is_a_cause() -> None:
    # Given a failed PUT, a PUT long before the entries, and a PUT in time
    failed = _story(1, "crm-co", _call(11, "PUT", T0, status=500))
    stale = _story(2, "crm-co", _call(21, "PUT", T0 - timedelta(minutes=10)))
    edit = _story(3, "forms-co", _call(31, "PUT", T0))
    # And Open Dental's edit, after a create a second earlier that no intent made
    log = OfficeLog(entries=(
        _log(9, "PatientEdit", T0), _log(8, "PatientCreate", T0 - timedelta(seconds=1)),
    ))
    # When they are paired, Then the edit has the PUT in time and the create has no cause
    assert _causes(log, failed, stale, edit) == [31, None]


def test_an_entry_whose_utc_time_is_unknown_has_no_cause() -> None:
    # Given a matching PUT but an entry the office database could not convert to UTC
    story = _story(1, "crm-co", _call(11, "PUT", T0))
    log = OfficeLog(entries=(_log(4, "PatientEdit", None),), error=None)
    # When they are paired, Then nothing is guessed
    assert _causes(log, story) == [None]


def test_a_list_edit_entry_pairs_with_the_post_that_added_to_the_list() -> None:
    # Given an allergy added by a POST, which Open Dental logs as PatAllergyListEdit (it has no
    # ...Create permission), and another POST in time for a PatientEdit entry
    added = _story(1, "forms-co", _call(11, "POST", T0))
    created = _story(2, "forms-co", _call(21, "POST", T0 + timedelta(seconds=5)))
    log = OfficeLog(entries=(
        _log(8, "PatientEdit", T0 + timedelta(seconds=5)), _log(7, "PatAllergyListEdit", T0),
    ))
    # When they are paired, Then the list edit has the POST, and a plain edit never does
    assert _causes(log, added, created) == [None, 11]
