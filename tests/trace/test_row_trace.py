"""``hub trace --od TABLE:KEY``: every intent that touched an Open Dental row, joined with the
row's securitylog, and the errors a person can make asking for it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from hub.opendental import Created, OpenDentalClient, Updated
from odsim.config import DEFAULT_DEVELOPER
from tests.trace.conftest import OFFICE, OTHER_DEVELOPER, Office, Trace, registry_text
from tests.trace.writer_steps import LedgerWriter, Sent

CREATE = Sent(vendor="forms-co", key="new-patient:41", contract="patient.create",
              message_id="msg-create")
UPDATE = Sent(vendor="crm-co", key="phone-change:9", contract="patient.update",
              message_id="msg-update")
HUB_EDIT_LOG = f"Patient edited by {DEFAULT_DEVELOPER.name} through API."
OTHER_EDIT_LOG = f"Patient edited by {OTHER_DEVELOPER.name} through API."
USAGE = "give VENDOR:IDEMPOTENCY_KEY, or --od TABLE:KEY [--office ID]"
BOX = re.compile("[│╭╮╰╯─]")  # the frame typer draws around usage errors


async def _post_patient(api: httpx.AsyncClient) -> int:
    reply = await api.post("/patients", json={"LName": "Quill", "FName": "Ada"})
    assert reply.status_code == 201, reply.text
    return int(reply.json()["PatNum"])


@pytest.fixture
async def touched_patient(writer: LedgerWriter, other_program: httpx.AsyncClient) -> int:
    """A patient forms-co created through the hub, crm-co then changed through the hub, and the
    office's other program changed last, outside the hub."""

    async def create(client: OpenDentalClient) -> Created:
        return await client.create_patient({"LName": "Quill", "FName": "Ada"})

    created = await writer.apply(CREATE, create)

    async def update(client: OpenDentalClient) -> Updated:
        return await client.update_patient(created.primary_key, {"HmPhone": "555-0142"})

    await writer.apply(UPDATE, update)
    outside = await other_program.put(f"/patients/{created.primary_key}", json={"WkPhone": "1"})
    assert outside.status_code == 200, outside.text
    return created.primary_key


def _vendor_and_message(cause: dict[str, object] | None) -> tuple[object, object] | None:
    return None if cause is None else (cause["vendor"], cause["message_id"])


def _line_with(text: str, out: str) -> str:
    return next(line for line in out.splitlines() if text in line)


async def test_a_row_lists_both_vendors_next_to_open_dentals_log(
    touched_patient: int, trace: Trace
) -> None:
    # Given a patient created by one vendor, changed by another, then changed outside the hub
    # When a person asks who touched it
    result = await trace("--od", f"patient:{touched_patient}")
    # Then both intents are listed, oldest first, with vendor, key, contract, status, message
    assert result.exit_code == 0, result.output
    out = result.stdout
    intents = out.split("Intents that created or changed it")[1].split("Open Dental securitylog")[0]
    create, update = _line_with("forms-co", intents), _line_with("crm-co", intents)
    assert intents.index(create) < intents.index(update)
    for line, sent in [(create, CREATE), (update, UPDATE)]:
        assert line.split()[1:] == [
            sent.vendor, sent.key, sent.contract, "v1", "applied", sent.message_id
        ]
    # And each of Open Dental's own log lines stands next to the vendor and message behind it
    created_log = _line_with("PatientCreate", out)
    assert created_log.endswith("<- forms-co:new-patient:41 (message msg-create)")
    assert _line_with(HUB_EDIT_LOG, out).endswith("<- crm-co:phone-change:9 (message msg-update)")
    outsider = _line_with(OTHER_EDIT_LOG, out)
    assert outsider.endswith("<- no intent on record: changed outside the hub")


async def test_a_row_as_json_pairs_each_log_entry_with_its_intent(
    touched_patient: int, trace: Trace
) -> None:
    # Given the same patient, When it is traced with --json
    result = await trace("--od", f"patient:{touched_patient}", "--json")
    # Then the document names the row and both intents, oldest first
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc) == {
        "trace", "od_row", "intents", "securitylog", "changes", "changes_error"
    }
    assert (doc["changes"], doc["changes_error"]) == ([], None)  # no watch ran
    assert doc["trace"] == "row"
    row = {"office_id": OFFICE, "table": "patient", "primary_key": touched_patient}
    assert doc["od_row"] == row
    assert [(i["vendor"], i["idempotency_key"], i["contract"]) for i in doc["intents"]] == [
        (CREATE.vendor, CREATE.key, CREATE.contract), (UPDATE.vendor, UPDATE.key, UPDATE.contract),
    ]
    # And Open Dental's three entries, newest first, each with its cause (none for the outsider)
    entries = doc["securitylog"]["entries"]
    causes = [
        (e["perm_type"], e["log_text"], _vendor_and_message(e["cause"])) for e in entries
    ]
    assert causes == [
        ("PatientEdit", OTHER_EDIT_LOG, None),
        ("PatientEdit", HUB_EDIT_LOG, (UPDATE.vendor, UPDATE.message_id)),
        ("PatientCreate", f"Patient created by {DEFAULT_DEVELOPER.name} through API.",
         (CREATE.vendor, CREATE.message_id)),
    ]
    assert entries[1]["cause"]["intent_id"] == doc["intents"][1]["id"]


@pytest.mark.parametrize("as_json", [False, True], ids=["human", "json"])
async def test_a_row_no_intent_touched_is_an_answer_with_open_dentals_log(
    other_program: httpx.AsyncClient, ledger_db: object, trace: Trace, as_json: bool
) -> None:
    # Given a patient the office's other program created, with nothing in the hub's ledger
    pat_num = await _post_patient(other_program)
    # When it is traced
    result = await trace("--od", f"patient:{pat_num}", *(["--json"] if as_json else []))
    # Then that is an answer (exit 0): no intent, and Open Dental's own entry, unattributed
    assert result.exit_code == 0, result.output
    created_log = f"Patient created by {OTHER_DEVELOPER.name} through API."
    if as_json:
        doc = json.loads(result.stdout)
        assert doc["intents"] == []
        assert [(e["log_text"], e["cause"]) for e in doc["securitylog"]["entries"]] == [
            (created_log, None)
        ]
    else:
        assert "none: no intent in the hub's ledger created or changed this row" in result.stdout
        assert _line_with(created_log, result.stdout).endswith("changed outside the hub")


@pytest.fixture
def two_offices(office: Office, registry_file: Path) -> None:
    registry_file.write_text(registry_text(office, "office-2"), encoding="utf-8")


async def test_with_several_offices_the_office_must_be_named(
    two_offices: None, trace: Trace
) -> None:
    # Given a registry of two offices (the two_offices fixture)
    # When a row is traced without --office, or with an office the registry lacks
    unnamed = await trace("--od", "patient:1")
    unknown = await trace("--od", "patient:1", "--office", "office-9")
    named = await trace("--od", "patient:1", "--office", "office-2")
    # Then the first two exit 1 saying what is missing, and a named office is traced
    assert unnamed.exit_code == 1
    assert "--office" in unnamed.stderr and "office-1, office-2" in unnamed.stderr
    assert unknown.exit_code == 1 and "unknown office 'office-9'" in unknown.stderr
    assert named.exit_code == 0, named.output
    assert "Open Dental patient 1 in office office-2" in named.stdout


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--od", "tooth:3"], 1, "patient, appointment, commlog, payment"),
        (["--od", "patient:abc"], 1, "positive whole number"),
        (["forms-co"], 1, "VENDOR:IDEMPOTENCY_KEY"),
        (["forms-co:k", "--od", "patient:1"], 2, USAGE),
        ([], 2, USAGE),
        (["forms-co:k", "--office", OFFICE], 2, USAGE),
    ],
    ids=["unknown-table", "bad-key", "no-colon", "both", "neither", "office-without-od"],
)
async def test_malformed_requests_are_refused_with_a_reason(
    trace: Trace, args: list[str], code: int, says: str
) -> None:
    # Given a request that cannot be traced, When it is run
    result = await trace(*args)
    # Then it exits non-zero and says why
    assert result.exit_code == code
    assert says in " ".join(BOX.sub(" ", result.stderr).split())
