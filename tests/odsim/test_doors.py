"""The other doors (odsim/doors.py) and the SecurityHash (odsim/security_hash.py): each door's
traces read back with SQL, as a watcher of the office database would read them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from odsim.config import DEFAULT_DEVELOPER, DoorsConfig, SimConfig
from odsim.security_hash import security_hash
from tests.odsim.conftest import FULL_KEY, HASH_SECRET, NewPatient, Office

AT = "2030-03-04 09:30:00"
SECRET = HASH_SECRET.encode()
LOG_COLUMNS = "PermType, UserNum, LogSource, LogText, PatNum, FKey, CompName"


async def _appointment(api: httpx.AsyncClient, pat: int) -> int:
    response = await api.post("/appointments", json={"PatNum": pat, "Op": 1, "AptDateTime": AT})
    assert response.status_code == 201, response.text
    apt: int = response.json()["AptNum"]
    return apt


async def _door(office: Office, door: str, table: str, key: int,
                **values: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=office.admin_url) as admin:
        return await admin.post(f"/admin/doors/{door}", json={
            "customer_key": FULL_KEY, "table": table, "key": key, "set": values,
        })


async def _counts(office: Office) -> tuple[int, int, int]:
    row = await office.row(
        "SELECT (SELECT COUNT(*) FROM securitylog) AS logs,"
        " (SELECT COUNT(*) FROM securityloghash) AS hashes,"
        " (SELECT COUNT(*) FROM histappointment) AS hist"
    )
    return int(row["logs"]), int(row["hashes"]), int(row["hist"])


async def _last_log(office: Office) -> dict[str, Any]:
    return await office.row(
        f"SELECT SecurityLogNum, {LOG_COLUMNS} FROM securitylog"
        " ORDER BY SecurityLogNum DESC LIMIT 1"
    )


async def _expected_hash(office: Office, table: str, key: int) -> tuple[str, str]:
    """(the stored SecurityHash, the one the simulator's secret gives the stored columns)."""
    pk = "PatNum" if table == "patient" else "AptNum"
    row = await office.row(f"SELECT * FROM {table} WHERE {pk} = %s", key)
    return row["SecurityHash"], security_hash(SECRET, table, row)


async def test_api_writes_keep_the_security_hash_current(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given a patient and an appointment created through the API
    pat = await new_patient(Birthdate="1990-01-02")
    apt = await _appointment(api, pat)
    stored, expected = await _expected_hash(office, "patient", pat)
    assert stored == expected and len(stored) == 64
    first_apt_hash, expected = await _expected_hash(office, "appointment", apt)
    assert first_apt_hash == expected

    # When hashed columns change through the API (a birthdate, a confirmation, a move)
    assert (await api.put(f"/patients/{pat}", json={"Birthdate": "1990-01-03"})).is_success
    assert (await api.put(f"/appointments/{apt}/Confirm",
                          json={"confirmVal": "Confirmed"})).is_success
    assert (await api.put(f"/appointments/{apt}",
                          json={"AptDateTime": "2030-03-05 10:00:00"})).is_success

    # Then each row's hash was recomputed over its new columns
    stored, expected = await _expected_hash(office, "patient", pat)
    assert stored == expected
    stored, expected = await _expected_hash(office, "appointment", apt)
    assert stored == expected != first_apt_hash


async def test_front_desk_reschedule(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given an appointment made through the API
    pat = await new_patient()
    apt = await _appointment(api, pat)
    old_hash, _ = await _expected_hash(office, "appointment", apt)
    user = await office.row("SELECT UserNum FROM userod WHERE UserName = 'frontdesk'")

    # When the front desk moves it (no values given: a day later)
    reply = await _door(office, "front-desk", "appointment", apt)

    # Then the reply names the change and its log
    assert reply.status_code == 200, reply.text
    result = reply.json()
    assert (result["door"], result["table"], result["key"], result["changed"]) == (
        "front-desk", "appointment", apt, ["AptDateTime"])
    moved = await office.row("SELECT AptDateTime FROM appointment WHERE AptNum = %s", apt)
    assert moved["AptDateTime"] == datetime(2030, 3, 5, 9, 30)
    # And the securitylog has the user's AppointmentMove, LogSource None, from its workstation
    log = await _last_log(office)
    assert log["SecurityLogNum"] == result["security_log_num"]
    assert {k: log[k] for k in LOG_COLUMNS.split(", ")} == {
        "PermType": 26, "UserNum": user["UserNum"], "LogSource": 0,
        "LogText": "Appointment moved: AptDateTime.", "PatNum": pat, "FKey": apt,
        "CompName": "FRONTDESK1",
    }
    assert user["UserNum"] != 0 and result["user_num"] == user["UserNum"]
    assert await office.rows("SELECT 1 FROM securityloghash WHERE SecurityLogNum = %s",
                             log["SecurityLogNum"])
    # And a histappointment copy by that user, and a fresh SecurityHash
    hist = await office.row(
        "SELECT HistUserNum, HistApptAction, AptDateTime FROM histappointment"
        " WHERE AptNum = %s ORDER BY HistApptNum DESC LIMIT 1", apt)
    assert (hist["HistUserNum"], hist["HistApptAction"]) == (user["UserNum"], 1)
    assert hist["AptDateTime"] == moved["AptDateTime"]
    stored, expected = await _expected_hash(office, "appointment", apt)
    assert stored == expected != old_hash


@pytest.mark.parametrize(("table", "values", "perm"), [
    ("patient", {"Preferred": "Al"}, 108),
    ("commlog", {"Note": "called back"}, 43),
    ("patfield", {"FieldValue": "Newspaper"}, 80),
])
async def test_front_desk_perm_types(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient,
    table: str, values: dict[str, str], perm: int,
) -> None:
    # Given a patient with a commlog and a patfield made through the API
    pat = await new_patient()
    commlog = await api.post("/commlogs", json={"PatNum": pat, "Note": "first call"})
    field = await api.post("/patfields", json={"PatNum": pat, "FieldName": "Referral Source",
                                               "FieldValue": "Friend"})
    keys = {"patient": pat, "commlog": commlog.json()["CommlogNum"],
            "patfield": field.json()["PatFieldNum"]}

    # When the front desk edits one of them
    reply = await _door(office, "front-desk", table, keys[table], **values)

    # Then its securitylog row has the table's PermType, the user and LogSource None
    assert reply.status_code == 200, reply.text
    assert reply.json()["changed"] == list(values)
    log = await _last_log(office)
    assert (log["PermType"], log["LogSource"], log["PatNum"], log["FKey"]) == (
        perm, 0, pat, keys[table])
    assert log["UserNum"] != 0


async def test_another_api_developer(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given a patient created through the API by the hub's developer
    pat = await new_patient(Birthdate="1985-05-05")
    old_hash, _ = await _expected_hash(office, "patient", pat)

    # When another developer's program changes its birthdate through the API
    reply = await _door(office, "other-api", "patient", pat, Birthdate="1985-05-06")

    # Then the log says so: LogSource API, UserNum 0, the other DevName; the hash is current
    assert reply.status_code == 200, reply.text
    assert (reply.json()["developer"], reply.json()["changed"]) == (
        "Other Dental Apps", ["Birthdate"])
    log = await _last_log(office)
    assert (log["PermType"], log["UserNum"], log["LogSource"], log["LogText"], log["CompName"]
            ) == (108, 0, 23, "Updated by Other Dental Apps through API.", "API")
    stored, expected = await _expected_hash(office, "patient", pat)
    assert stored == expected != old_hash
    # And the hub's developer does not see that log through the API (only its own)
    mine = (await api.get("/securitylogs")).json()
    assert log["SecurityLogNum"] not in [entry["SecurityLogNum"] for entry in mine]


async def test_direct_database_writer(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given an appointment whose DateTStamp lies an hour back
    pat = await new_patient()
    apt = await _appointment(api, pat)
    await office.rows("UPDATE appointment SET DateTStamp = NOW() - INTERVAL 1 HOUR"
                      " WHERE AptNum = %s", apt)
    before = await office.row("SELECT * FROM appointment WHERE AptNum = %s", apt)
    counts = await _counts(office)

    # When a program writes the database directly, changing a hashed column
    reply = await _door(office, "direct-db", "appointment", apt, AptStatus="Broken")

    # Then the row changed and MariaDB moved its DateTStamp
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"door": "direct-db", "table": "appointment", "key": apt,
                            "changed": ["AptStatus"], "deleted": False, "security_log_num": None,
                            "user_num": None, "developer": None}
    after = await office.row("SELECT * FROM appointment WHERE AptNum = %s", apt)
    assert (before["AptStatus"], after["AptStatus"]) == (1, 5)
    assert after["DateTStamp"] > before["DateTStamp"] + timedelta(minutes=30)
    # And no securitylog, no hash of one, no history; the SecurityHash is stale
    assert await _counts(office) == counts
    stored, expected = await _expected_hash(office, "appointment", apt)
    assert stored == before["SecurityHash"] != expected


async def test_door_refusals(office: Office, new_patient: NewPatient) -> None:
    # Given a patient
    pat = await new_patient()

    # When a door is asked for a column the table lacks, one nobody sets, a missing row, no
    # values for a patient, a bad value, or a door that does not exist
    replies = [
        await _door(office, "front-desk", "patient", pat, Nope="1"),
        await _door(office, "direct-db", "patient", pat, SecurityHash="x"),
        await _door(office, "direct-db", "patient", 999999, Preferred="x"),
        await _door(office, "other-api", "patient", pat),
        await _door(office, "other-api", "patient", pat, Birthdate="not a date"),
        await _door(office, "back-door", "patient", pat, Preferred="x"),
    ]

    # Then 400s and 404s naming columns, never values
    assert [(r.status_code, r.json()) for r in replies] == [
        (400, "Nope is not a column of patient."),
        (400, "SecurityHash is not settable."),
        (404, "patient 999999 not found."),
        (400, "set is required for patient."),
        (400, "Birthdate is invalid."),
        (404, "No such door: front-desk, other-api or direct-db."),
    ]


async def test_deleting_an_appointment(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient
) -> None:
    # Given two appointments of a patient
    pat = await new_patient()
    at_desk, rogue = await _appointment(api, pat), await _appointment(api, pat)
    user = await office.row("SELECT UserNum FROM userod WHERE UserName = 'frontdesk'")

    # When the front desk deletes one, another developer tries to, and a program deletes the
    # other straight from the database
    async with httpx.AsyncClient(base_url=office.admin_url) as admin:
        async def delete(door: str, apt: int) -> httpx.Response:
            return await admin.post(f"/admin/doors/{door}", json={
                "customer_key": FULL_KEY, "table": "appointment", "key": apt, "delete": True})

        by_desk = await delete("front-desk", at_desk)
        counts = await _counts(office)
        refused = await delete("other-api", rogue)
        by_rogue = await delete("direct-db", rogue)

    # Then the front desk's delete left its history, deletedobject and AppointmentDelete log
    assert by_desk.status_code == 200, by_desk.text
    assert (by_desk.json()["deleted"], by_desk.json()["user_num"]) == (True, user["UserNum"])
    hist = await office.row("SELECT HistUserNum FROM histappointment WHERE AptNum = %s"
                            " AND HistApptAction = 4", at_desk)
    assert hist["HistUserNum"] == user["UserNum"]
    assert await office.rows("SELECT 1 FROM deletedobject WHERE ObjectNum = %s"
                             " AND ObjectType = 0", at_desk)
    log = await office.row(f"SELECT {LOG_COLUMNS} FROM securitylog WHERE SecurityLogNum = %s",
                           by_desk.json()["security_log_num"])
    assert (log["PermType"], log["UserNum"], log["LogSource"], log["FKey"]) == (
        237, user["UserNum"], 0, at_desk)
    # And the API has no DELETE for appointments; the direct delete left no trace at all
    assert (refused.status_code, refused.json()) == (
        400, "appointments DELETE  is not a valid method.")
    assert by_rogue.status_code == 200 and by_rogue.json()["security_log_num"] is None
    assert await _counts(office) == counts
    assert await office.rows("SELECT 1 FROM deletedobject WHERE ObjectNum = %s", rogue) == []
    assert await office.rows("SELECT 1 FROM appointment WHERE AptNum IN (%s, %s)",
                             at_desk, rogue) == []


def test_the_other_developer_is_never_one_of_the_configured_developers() -> None:
    # When the other door's developer is given the hub's own developer name
    with pytest.raises(ValidationError, match="other API developer"):
        SimConfig(doors=DoorsConfig(other_developer_name=DEFAULT_DEVELOPER.name))

    # Then the configuration is refused; the default differs from it
    assert SimConfig().doors.other_developer_name != DEFAULT_DEVELOPER.name
