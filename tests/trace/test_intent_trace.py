"""``hub trace VENDOR:KEY``: an intent's whole story, in human and JSON output."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import pytest

from contracts import OutcomeStatus
from hub.ledger import Finish, MySqlLedger, NewRef, RefKind
from hub.opendental import Created, OpenDentalClient
from odsim.config import DEFAULT_DEVELOPER
from odsim.faults import FaultConfig
from tests.trace.conftest import OFFICE, Office, Trace
from tests.trace.writer_steps import LedgerWriter, Sent

LAST_NAME = "Halloway"  # patient data: must never appear in a trace
FIRST_NAME = "Wren"
CREATED_LOG = f"Patient created by {DEFAULT_DEVELOPER.name} through API."
# The key holds colons: only the first one separates the vendor.
SENT = Sent(
    vendor="forms-co", key="visit:2031:05:06", contract="patient.create",
    message_id="msg-7f3a", correlation_id="corr-19",
)
INTENT_KEYS = {
    "id", "vendor", "idempotency_key", "contract", "contract_version", "office_id", "status",
    "reason", "last_error", "attempts", "deliveries", "message_id", "correlation_id",
    "payload_hash", "received_at", "attempt_started_at", "finished_at", "updated_at",
    "expires_at", "od_table", "od_primary_key",
}
API_CALL_KEYS = {
    "id", "attempt", "method", "path", "status", "latency_ms", "od_primary_key", "message",
    "started_at",
}
ENTRY_KEYS = {
    "securitylog_num", "perm_type", "log_text", "user_num", "logged_at_office_local",
    "logged_at", "cause",
}
CAUSE_KEYS = {"intent_id", "vendor", "idempotency_key", "message_id", "api_call_id"}


async def create_patient(client: OpenDentalClient) -> Created:
    return await client.create_patient({"LName": LAST_NAME, "FName": FIRST_NAME})


@dataclass(frozen=True, kw_only=True)
class Story:
    intent_id: int
    pat_num: int


@pytest.fixture
async def story(writer: LedgerWriter, office: Office) -> Story:
    """forms-co's patient.create, delivered twice: its first attempt met a 500 (nothing written),
    its second created the patient and registered the vendor's ref for it."""
    intent_id = await writer.receive(SENT)
    await writer.receive(SENT)
    office.sim.set_faults(FaultConfig(rate_500=1.0))
    assert await writer.attempt(intent_id, create_patient) is None
    office.sim.set_faults(FaultConfig())
    created = await writer.attempt(intent_id, create_patient)
    assert isinstance(created, Created)
    ref = NewRef(kind=RefKind.PATIENT, ref="forms-patient-88", od_primary_key=created.primary_key)
    await writer.applied(intent_id, created, refs=(ref,))
    return Story(intent_id=intent_id, pat_num=created.primary_key)


def _rfc3339_utc(text: object) -> datetime:
    assert isinstance(text, str) and text.endswith("Z"), text
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() is not None
    return moment


async def test_the_story_tells_every_part_in_order(story: Story, trace: Trace) -> None:
    # Given an intent received twice, failed once, then applied (the story fixture)
    # When a person traces it by vendor and key
    result = await trace(f"{SENT.vendor}:{SENT.key}")
    # Then it succeeds and names the intent, its messages, deliveries, attempts and outcome
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"Intent forms-co:visit:2031:05:06 (ledger id {story.intent_id})" in out
    for label, value in [
        ("contract", "patient.create v1"), ("office", OFFICE), ("status", "applied"),
        ("message id", "msg-7f3a"), ("correlation id", "corr-19"), ("deliveries", "2"),
        ("attempts", "2"), ("api calls", "2"), ("Open Dental row", f"patient {story.pat_num}"),
    ]:
        assert any(line.split() == [*label.split(), *value.split()] for line in out.splitlines())
    # And the timeline runs received → the failed call → the creating call → finished
    timeline = out[out.index("Timeline (UTC)") :]
    steps = ["received", "attempt 1", "attempt 2", "finished"]
    assert sorted(steps, key=timeline.index) == steps
    failed = next(line for line in timeline.splitlines() if "attempt 1" in line)
    assert "POST  /patients  500" in failed and " ms " in failed
    created = next(line for line in timeline.splitlines() if "attempt 2" in line)
    assert "POST  /patients  201" in created and f"od id {story.pat_num}" in created
    # And Open Dental's own securitylog line for the row is joined with this intent
    log_line = next(line for line in out.splitlines() if CREATED_LOG in line)
    assert "PatientCreate" in log_line and log_line.endswith("<- this intent")
    # And the ref it registered, and no patient data anywhere
    assert "forms-patient-88" in out.split("Refs created")[1]
    assert LAST_NAME not in out and FIRST_NAME not in out


async def test_the_story_as_json_has_its_documented_shape(story: Story, trace: Trace) -> None:
    # Given the same intent, When it is traced with --json
    result = await trace(f"{SENT.vendor}:{SENT.key}", "--json")
    # Then one JSON object comes out with stable keys
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc) == {"trace", "intent", "api_calls", "od_row", "securitylog", "refs"}
    assert doc["trace"] == "intent"
    intent = doc["intent"]
    assert set(intent) == INTENT_KEYS
    assert (intent["id"], intent["status"], intent["attempts"], intent["deliveries"]) == (
        story.intent_id, "applied", 2, 2,
    )
    assert intent["idempotency_key"] == SENT.key and intent["last_error"] is None
    # And both calls with their statuses and latencies, in order
    calls = doc["api_calls"]
    assert all(set(call) == API_CALL_KEYS for call in calls)
    assert [(c["attempt"], c["method"], c["status"]) for c in calls] == [
        (1, "POST", 500), (2, "POST", 201),
    ]
    assert all(isinstance(c["latency_ms"], int) and c["latency_ms"] >= 0 for c in calls)
    assert calls[1]["od_primary_key"] == story.pat_num
    # And the row, Open Dental's entry for it caused by this intent, and the ref
    assert doc["od_row"] == {"office_id": OFFICE, "table": "patient", "primary_key": story.pat_num}
    assert doc["securitylog"]["error"] is None
    (entry,) = doc["securitylog"]["entries"]
    assert set(entry) == ENTRY_KEYS and set(entry["cause"]) == CAUSE_KEYS
    assert (entry["perm_type"], entry["log_text"]) == ("PatientCreate", CREATED_LOG)
    assert entry["cause"]["intent_id"] == story.intent_id
    assert entry["cause"]["api_call_id"] == calls[1]["id"]
    assert [(r["kind"], r["ref"], r["od_primary_key"]) for r in doc["refs"]] == [
        ("patient", "forms-patient-88", story.pat_num),
    ]
    # And every datetime is RFC 3339 in UTC, but Open Dental's own local stamp
    for moment in [intent["received_at"], intent["finished_at"], entry["logged_at"]]:
        _rfc3339_utc(moment)
    assert _rfc3339_utc(calls[0]["started_at"]) <= _rfc3339_utc(calls[1]["started_at"])
    assert datetime.fromisoformat(entry["logged_at_office_local"]).tzinfo is None
    assert LAST_NAME not in result.stdout


@pytest.mark.parametrize("as_json", [False, True], ids=["human", "json"])
async def test_an_unknown_intent_exits_1_naming_what_was_looked_up(
    story: Story, trace: Trace, as_json: bool
) -> None:
    # Given a ledger holding another key of the same vendor
    # When a key it never received is traced
    args = ["forms-co:visit:2031:05:07", *(["--json"] if as_json else [])]
    result = await trace(*args)
    # Then it exits 1 and says which vendor and key it looked for, on stderr
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "'forms-co'" in result.stderr and "'visit:2031:05:07'" in result.stderr


async def test_an_unreadable_office_database_leaves_the_ledger_story(
    story: Story, trace: Trace
) -> None:
    # Given the office database refuses the read-only login
    # When the intent is traced
    result = await trace(f"{SENT.vendor}:{SENT.key}", od_password="not-the-password")
    # Then the ledger's story is told and the securitylog section says why it is missing
    assert result.exit_code == 0, result.output
    assert "attempt 2" in result.stdout
    audit = result.stdout.split("Open Dental securitylog")[1]
    assert "could not be read: office office-1's Open Dental database" in audit


async def test_a_rejected_intent_shows_its_reason_and_reaches_no_row(
    writer: LedgerWriter, ledger: MySqlLedger, trace: Trace
) -> None:
    # Given an intent the writer rejected before any API call (not authorized for the office)
    sent = Sent(vendor="crm-co", key="k-401", contract="patient.create", message_id="msg-401")
    intent_id = await writer.receive(sent)
    await ledger.finish(intent_id, Finish(
        status=OutcomeStatus.REJECTED, reason="unauthorized",
        last_error="crm-co may not send patient.create to office-1",
    ))
    # When it is traced, for a person and as JSON
    human = await trace("crm-co:k-401")
    as_json = await trace("crm-co:k-401", "--json")
    # Then both tell the outcome and its reason, with no call, no row and no securitylog
    assert human.exit_code == as_json.exit_code == 0
    lines = [line.split() for line in human.stdout.splitlines()]
    assert ["status", "rejected"] in lines and ["reason", "unauthorized"] in lines
    assert ["api", "calls", "0"] in lines and ["Open", "Dental", "row", "-"] in lines
    assert "crm-co may not send patient.create to office-1" in human.stdout
    assert "Open Dental securitylog" not in human.stdout
    doc = json.loads(as_json.stdout)
    assert (doc["intent"]["status"], doc["intent"]["reason"]) == ("rejected", "unauthorized")
    nothing = (doc["api_calls"], doc["od_row"], doc["securitylog"], doc["refs"])
    assert nothing == ([], None, None, [])
