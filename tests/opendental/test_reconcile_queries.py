"""Reconciliation lookups find the rows the simulator's API created, and only those.

Every row here is created through the simulator's HTTP API, never inserted by the test: the hub
never writes to an Open Dental database, and neither do its tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.opendental.reconcile_queries import (
    Candidate,
    DocumentKeys,
    OdTable,
    find_created_appointments,
    find_created_commlogs,
    find_created_documents,
    find_created_patients,
    find_created_payments,
    securitylog_for_row,
)
from odsim.config import DEFAULT_CUSTOMER, DEFAULT_DEVELOPER
from odsim.server import SimHandle

AUTH = f"ODFHIR {DEFAULT_DEVELOPER.key}/{DEFAULT_CUSTOMER.key}"
BIRTHDATE = date(1984, 3, 9)
APT_AT = datetime(2031, 5, 6, 9, 30)
OPERATORY = 2
NOTE = "Called about the recall.\r\nLeft a message."
PAY_AMT = Decimal("45.10")
DESCRIPTION = "Intake form (signed)"


@pytest.fixture
async def api(simulator: SimHandle) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the simulated office with the default full-permission keys."""
    async with httpx.AsyncClient(
        base_url=simulator.base_url, headers={"Authorization": AUTH}
    ) as client:
        yield client


async def _post(api: httpx.AsyncClient, path: str, body: dict[str, object]) -> dict[str, object]:
    reply = await api.post(path, json=body)
    assert reply.status_code == 201, reply.text
    created = reply.json()
    assert isinstance(created, dict)
    return created


async def _new_patient(api: httpx.AsyncClient, phone: str, first_name: str = "Wren") -> int:
    created = await _post(api, "/patients", {
        "LName": "Halloway", "FName": first_name, "Birthdate": BIRTHDATE.isoformat(),
        "HmPhone": phone,
    })
    return int(str(created["PatNum"]))


@pytest.fixture
async def pat_num(api: httpx.AsyncClient) -> int:
    """A patient of the simulated office, created before the attempt under test begins."""
    return await _new_patient(api, "555-0100", first_name="Anchor")


@dataclass(frozen=True, kw_only=True)
class Contract:
    """One create method: make a row through the API, and look for it with matching keys (or
    with keys that differ from the row's in one natural key)."""

    table: OdTable

    async def create(self, api: httpx.AsyncClient, pat_num: int, twin: int) -> int:
        """Create the row (``twin`` varies a field that is not a natural key); its key."""
        match self.table:
            case OdTable.PATIENT:
                return await _new_patient(api, f"555-01{twin:02d}")
            case OdTable.APPOINTMENT:
                body: dict[str, object] = {
                    "PatNum": pat_num, "AptDateTime": APT_AT.strftime("%Y-%m-%d %H:%M:%S"),
                    "Op": OPERATORY, "Note": f"twin {twin}",
                }
                return int(str((await _post(api, "/appointments", body))["AptNum"]))
            case OdTable.COMMLOG:
                body = {"PatNum": pat_num, "Note": NOTE, "Mode_": "Phone"}
                return int(str((await _post(api, "/commlogs", body))["CommlogNum"]))
            case OdTable.PAYMENT:
                body = {"PatNum": pat_num, "PayAmt": str(PAY_AMT), "PayNote": f"twin {twin}"}
                return int(str((await _post(api, "/payments", body))["PayNum"]))
            case OdTable.DOCUMENT:
                # Twins differ by their file, which the row does not keep.
                body = {"PatNum": pat_num, "rawBase64": f"dHdpbi{twin % 10}=", "extension": ".pdf",
                        "Description": DESCRIPTION}
                return int(str((await _post(api, "/documents/Upload", body))["DocNum"]))

    async def find(
        self, db: ReadOnlyDatabase, since: datetime, pat_num: int, *, other: bool = False
    ) -> list[Candidate]:
        match self.table:
            case OdTable.PATIENT:
                return await find_created_patients(
                    db, since=since, last_name="Halloway",
                    first_name="Wrenna" if other else "Wren", birthdate=BIRTHDATE,
                )
            case OdTable.APPOINTMENT:
                return await find_created_appointments(
                    db, since=since, pat_num=pat_num, apt_date_time=APT_AT,
                    op=OPERATORY + 1 if other else OPERATORY,
                )
            case OdTable.COMMLOG:
                # Differs only by a trailing space: the note is compared byte for byte.
                return await find_created_commlogs(
                    db, since=since, pat_num=pat_num, note=NOTE + " " if other else NOTE,
                    comm_date_time=None,
                )
            case OdTable.PAYMENT:
                return await find_created_payments(
                    db, since=since, pat_num=pat_num,
                    pay_amt=PAY_AMT + Decimal("0.01") if other else float(PAY_AMT),
                    pay_date=None,
                )
            case OdTable.DOCUMENT:
                # Differs only by the case of one letter: the Description is compared byte for
                # byte (the extension is not: Open Dental's file names keep whichever case).
                description = DESCRIPTION.upper() if other else DESCRIPTION
                keys = DocumentKeys(extension=".PDF", description=description,
                                    doc_category=None, img_type=0, date_created=None)
                return await find_created_documents(db, since=since, pat_num=pat_num, keys=keys)


# The clinical tables' lookups are tested through reconciliation (tests/reconcile).
CLINICAL = {OdTable.PATFIELD, OdTable.ALLERGY, OdTable.MEDICATIONPAT, OdTable.DISEASE}
CONTRACTS = [Contract(table=table) for table in OdTable if table not in CLINICAL]
CREATE_PERM = {
    OdTable.PATIENT: "PatientCreate", OdTable.APPOINTMENT: "AppointmentCreate",
    OdTable.COMMLOG: "CommlogCreate", OdTable.PAYMENT: "PaymentCreate",
    OdTable.DOCUMENT: "ImageCreate",
}


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


@pytest.mark.parametrize("contract", CONTRACTS, ids=[c.table.value for c in CONTRACTS])
async def test_a_lost_create_is_found_with_its_securitylog_entry(
    contract: Contract, api: httpx.AsyncClient, readonly_db: ReadOnlyDatabase, pat_num: int
) -> None:
    # Given an attempt that began now and created one row through the API
    since = _now()
    key = await contract.create(api, pat_num, twin=1)
    # When we look for what that attempt created
    found = await contract.find(readonly_db, since, pat_num)
    # Then exactly that row comes back, with the API's create entry in the securitylog
    assert [(c.table, c.primary_key) for c in found] == [(contract.table, key)]
    candidate = found[0]
    assert candidate.pat_num == (key if contract.table is OdTable.PATIENT else pat_num)
    assert candidate.created_at >= since - timedelta(seconds=2)
    log = await securitylog_for_row(readonly_db, contract.table, key)
    assert [(e.securitylog_num, e.perm_type) for e in log] == [
        (candidate.securitylog_num, CREATE_PERM[contract.table])
    ]
    assert DEFAULT_DEVELOPER.name in log[0].log_text
    assert log[0].user_num == 0


@pytest.mark.parametrize("contract", CONTRACTS, ids=[c.table.value for c in CONTRACTS])
async def test_rows_with_other_natural_keys_are_not_candidates(
    contract: Contract, api: httpx.AsyncClient, readonly_db: ReadOnlyDatabase, pat_num: int
) -> None:
    # Given a row created through the API during the attempt
    since = _now()
    await contract.create(api, pat_num, twin=1)
    # When we look with natural keys that differ from it in one field
    found = await contract.find(readonly_db, since, pat_num, other=True)
    # Then nothing matches
    assert found == []


@pytest.mark.parametrize("contract", CONTRACTS, ids=[c.table.value for c in CONTRACTS])
async def test_rows_created_before_the_attempt_are_not_candidates(
    contract: Contract, api: httpx.AsyncClient, readonly_db: ReadOnlyDatabase, pat_num: int
) -> None:
    # Given a matching row created through the API before the attempt began
    await contract.create(api, pat_num, twin=1)
    since = _now() + timedelta(minutes=1)
    # When we look for what the later attempt created
    found = await contract.find(readonly_db, since, pat_num)
    # Then the earlier row is not taken for it
    assert found == []


@pytest.mark.parametrize("contract", CONTRACTS, ids=[c.table.value for c in CONTRACTS])
async def test_two_identical_creates_are_both_candidates(
    contract: Contract, api: httpx.AsyncClient, readonly_db: ReadOnlyDatabase, pat_num: int
) -> None:
    # Given two rows with the same natural keys created through the API during the attempt
    since = _now()
    first = await contract.create(api, pat_num, twin=1)
    second = await contract.create(api, pat_num, twin=2)
    # When we look for what the attempt created
    found = await contract.find(readonly_db, since, pat_num)
    # Then both come back, in creation order, each with its own securitylog entry
    assert [c.primary_key for c in found] == [first, second]
    log_nums = [c.securitylog_num for c in found]
    assert None not in log_nums
    assert len(set(log_nums)) == 2


async def test_a_patients_audit_trail_is_newest_first(
    api: httpx.AsyncClient, readonly_db: ReadOnlyDatabase
) -> None:
    # Given a patient created and then edited through the API
    key = await _new_patient(api, "555-0199")
    reply = await api.put(f"/patients/{key}", json={"Email": "wren@example.com"})
    assert reply.status_code == 200, reply.text
    # When we read the row's audit trail
    log = await securitylog_for_row(readonly_db, OdTable.PATIENT, key)
    # Then the edit comes before the create, both by the API's developer and UserNum 0
    assert [e.perm_type for e in log] == ["PatientEdit", "PatientCreate"]
    assert log[0].log_datetime >= log[1].log_datetime
    assert all(e.user_num == 0 for e in log)


async def test_a_patient_found_without_a_birthdate(
    api: httpx.AsyncClient, readonly_db: ReadOnlyDatabase
) -> None:
    # Given a patient created through the API with a birthdate
    since = _now()
    key = await _new_patient(api, "555-0142")
    # When we look without a birthdate, and with another one
    without = await find_created_patients(
        readonly_db, since=since, last_name="Halloway", first_name="Wren", birthdate=None
    )
    other_day = await find_created_patients(
        readonly_db, since=since, last_name="Halloway", first_name="Wren",
        birthdate=BIRTHDATE + timedelta(days=1),
    )
    # Then the birthdate narrows the match only when it is given
    assert [c.primary_key for c in without] == [key]
    assert other_day == []


async def test_given_comm_date_time_and_pay_date_narrow_the_match(
    api: httpx.AsyncClient, readonly_db: ReadOnlyDatabase, pat_num: int
) -> None:
    # Given a commlog and a payment created through the API with explicit dates
    since = _now()
    comm_at = datetime(2031, 1, 2, 15, 45)
    commlog = await _post(api, "/commlogs", {
        "PatNum": pat_num, "Note": NOTE, "CommDateTime": comm_at.strftime("%Y-%m-%d %H:%M:%S"),
    })
    paid_on = date(2031, 1, 3)
    payment = await _post(api, "/payments", {
        "PatNum": pat_num, "PayAmt": "12.34", "PayDate": paid_on.isoformat(),
    })
    # When we look with the same dates, and with other ones
    same_commlog = await find_created_commlogs(
        readonly_db, since=since, pat_num=pat_num, note=NOTE, comm_date_time=comm_at
    )
    other_commlog = await find_created_commlogs(
        readonly_db, since=since, pat_num=pat_num, note=NOTE,
        comm_date_time=comm_at + timedelta(minutes=1),
    )
    same_payment = await find_created_payments(
        readonly_db, since=since, pat_num=pat_num, pay_amt=12.34, pay_date=paid_on
    )
    other_payment = await find_created_payments(
        readonly_db, since=since, pat_num=pat_num, pay_amt=12.34,
        pay_date=paid_on + timedelta(days=1),
    )
    # Then only the matching dates find the rows
    assert [c.primary_key for c in same_commlog] == [commlog["CommlogNum"]]
    assert other_commlog == []
    assert [c.primary_key for c in same_payment] == [payment["PayNum"]]
    assert other_payment == []
