"""One scenario per create contract: an intent with fixed natural keys, and how the writer's
client creates its row in the simulated office (optionally a "twin": same natural keys, another
field changed, as a second vendor message for the same thing would be)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from contracts import Intent, parse_intent
from hub.ledger import Fresh, InDoubt, IntentClaim, MySqlLedger
from hub.opendental import OpenDentalClient, Row
from hub.opendental.reconcile_queries import OdTable

OFFICE = "office-1"
VENDOR = "vendor-a"
KEY_FIELD = {
    OdTable.PATIENT: "PatNum", OdTable.APPOINTMENT: "AptNum",
    OdTable.COMMLOG: "CommlogNum", OdTable.PAYMENT: "PayNum", OdTable.DOCUMENT: "DocNum",
    OdTable.ALLERGY: "AllergyNum",
    OdTable.MEDICATIONPAT: "MedicationPatNum",
    OdTable.DISEASE: "DiseaseNum",
}
NOTE = "Called about the recall.\r\nLeft a message."


def intent_of(contract: str, payload: Mapping[str, object], version: int = 1) -> Intent:
    """A valid intent (version 1 unless told) for the test office, with a fresh idempotency
    key."""
    return parse_intent(json.dumps({
        "contract": contract, "version": version, "office_id": OFFICE,
        "idempotency_key": f"key-{uuid.uuid4().hex}",
        "occurred_at": datetime.now(UTC).isoformat(), "payload": payload,
    }))


@dataclass(frozen=True, kw_only=True)
class Scenario:
    contract: str
    table: OdTable
    payload: Mapping[str, object]  # without PatNum: the test's patient is added when it names one
    names_patient: bool
    twin_field: str  # a field outside the natural keys that tells twins apart
    twin_values: tuple[str, str]
    version: int = 1

    @property
    def id(self) -> str:
        return self.contract if self.version == 1 else f"{self.contract}.v{self.version}"

    def intent(self, pat_num: int | None = None) -> Intent:
        payload = dict(self.payload)
        if self.names_patient:
            payload["PatNum"] = pat_num
        return intent_of(self.contract, payload, self.version)

    async def create(self, od: OpenDentalClient, intent: Intent, *, twin: int | None = None) -> int:
        """Send the intent's create through the hub's client (as twin 0 or 1 if given); the new
        row's key."""
        body = dict(intent.payload.od_fields())
        if twin is not None:
            body[self.twin_field] = self.twin_values[twin]
        send = {
            OdTable.PATIENT: od.create_patient, OdTable.APPOINTMENT: od.create_appointment,
            OdTable.COMMLOG: od.create_commlog, OdTable.PAYMENT: od.create_payment,
            OdTable.DOCUMENT: od.upload_document,
            OdTable.ALLERGY: od.create_allergy,
            OdTable.MEDICATIONPAT: od.create_medication,
            OdTable.DISEASE: od.create_problem,
        }[self.table]
        return (await send(body)).primary_key

    async def listed_keys(self, od: OpenDentalClient, pat_num: int) -> list[int]:
        """The keys of the rows the API lists for the scenario (patients: by name)."""
        return [int(str(row[KEY_FIELD[self.table]])) for row in await self._rows(od, pat_num)]

    async def _rows(self, od: OpenDentalClient, pat_num: int) -> list[Row]:
        match self.table:
            case OdTable.PATIENT:
                return await od.list_patients_simple(
                    LName=str(self.payload["LName"]), FName=str(self.payload["FName"])
                )
            case OdTable.APPOINTMENT:
                return await od.list_appointments(PatNum=pat_num)
            case OdTable.COMMLOG:
                return await od.list_commlogs(pat_num)
            case OdTable.PAYMENT:
                return await od.list_payments(pat_num)
            case OdTable.DOCUMENT:
                return await od.list_documents(pat_num)
            case OdTable.ALLERGY:
                return await od.list_allergies(pat_num)
            case OdTable.MEDICATIONPAT:
                return await od.list_medications(pat_num)
            case OdTable.DISEASE:
                return await od.list_problems(pat_num)
        raise AssertionError(f"no list for {self.table}")


SCENARIOS = [
    Scenario(
        contract="patient.create", table=OdTable.PATIENT, names_patient=False,
        payload={"LName": "Halloway", "FName": "Wren", "Birthdate": "1984-03-09",
                 "HmPhone": "555-0100"},
        # Open Dental refuses a second patient with the same phone as a duplicate.
        twin_field="HmPhone", twin_values=("555-0201", "555-0202"),
    ),
    Scenario(
        contract="appointment.create", table=OdTable.APPOINTMENT, names_patient=True,
        payload={"Op": 2, "AptDateTime": "2031-05-06 09:30:00", "Note": "Check-up"},
        twin_field="Note", twin_values=("Twin one", "Twin two"),
    ),
    Scenario(
        contract="commlog.create", table=OdTable.COMMLOG, names_patient=True,
        payload={"Note": NOTE, "Mode_": "Phone", "CommDateTime": "2031-05-01 10:15:00"},
        twin_field="Mode_", twin_values=("Email", "Text"),
    ),
    Scenario(
        contract="commlog.create", version=2, table=OdTable.COMMLOG, names_patient=True,
        payload={"Note": NOTE, "CommType": "Misc", "CommDateTime": "2031-05-01 10:20:00"},
        twin_field="Mode_", twin_values=("Email", "Text"),
    ),
    Scenario(
        contract="payment.create", table=OdTable.PAYMENT, names_patient=True,
        payload={"PayAmt": 45.1, "PayDate": "2031-05-01", "PayNote": "Card at the desk"},
        twin_field="PayNote", twin_values=("Twin one", "Twin two"),
    ),
    Scenario(
        contract="document.upload", table=OdTable.DOCUMENT, names_patient=True,
        payload={"rawBase64": "JVBERi0xLjQgc2lnbmVk", "extension": ".pdf",
                 "Description": "Intake form (signed)", "ImgType": "Document",
                 "DateCreated": "2031-05-01 10:15:00"},
        # Another file under the same description: the row keeps nothing of the file.
        twin_field="rawBase64", twin_values=("VHdpbiBvbmU=", "VHdpbiB0d28="),
    ),
    # The clinical lists' twins name the same item in another case: Open Dental matches names
    # case-insensitively, so both rows point at the one item, as the lookup does.
    Scenario(
        contract="allergy.create", table=OdTable.ALLERGY, names_patient=True,
        payload={"defDescription": "Penicillin", "Reaction": "Hives\r\nswelling",
                 "StatusIsActive": "true", "DateAdverseReaction": "2031-04-30"},
        twin_field="defDescription", twin_values=("penicillin", "PENICILLIN"),
    ),
    Scenario(
        contract="medication.create", table=OdTable.MEDICATIONPAT, names_patient=True,
        payload={"medName": "Lisinopril", "PatNote": "10 mg daily", "DateStart": "2031-05-01",
                 "ProvNum": 1},
        twin_field="medName", twin_values=("lisinopril", "LISINOPRIL"),
    ),
    Scenario(
        contract="problem.create", table=OdTable.DISEASE, names_patient=True,
        payload={"diseaseDefName": "Hypertension", "ProbStatus": "Active",
                 "DateStart": "2031-05-01", "PatNote": "Controlled"},
        twin_field="diseaseDefName", twin_values=("hypertension", "HYPERTENSION"),
    ),
]
SCENARIO_IDS = [scenario.id for scenario in SCENARIOS]


def claim_for(intent: Intent) -> IntentClaim:
    return IntentClaim(
        vendor=VENDOR, idempotency_key=intent.idempotency_key,
        payload_hash=intent.payload_hash(), contract=intent.contract,
        contract_version=intent.version, office_id=intent.office_id, message_id=None,
        correlation_id=None, received_at=datetime.now(UTC),
    )


async def begin(ledger: MySqlLedger, intent: Intent) -> int:
    """Claim a fresh intent and begin its first attempt, as the writer does before a call."""
    claimed = await ledger.claim(claim_for(intent))
    assert isinstance(claimed, Fresh)
    assert await ledger.begin_attempt(claimed.intent_id) == 1
    return claimed.intent_id


async def redelivered(ledger: MySqlLedger, intent: Intent) -> InDoubt:
    """The same message delivered again after the writer lost the attempt's result."""
    claimed = await ledger.claim(claim_for(intent))
    assert isinstance(claimed, InDoubt)
    return claimed
