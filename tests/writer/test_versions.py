"""Major versions side by side: v1 and v2 of appointment.confirm and commlog.create through one
writer, each validated and applied by its own rules; outcomes name their version, and a
deprecated version's outcomes and metric say so."""

from __future__ import annotations

from datetime import date
from typing import Any

from aio_pika.abc import AbstractRobustChannel

from contracts import Deprecation, OutcomeReason, OutcomeStatus
from tests.writer.conftest import MakeWorld
from tests.writer.support import (
    appointment_create,
    drain_outcomes,
    letters,
    od_rows,
    patient_create,
    running_worker,
    unique,
    vendor_client,
)


def _versioned(contract: str, version: int, office: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "contract": contract, "version": version, "idempotency_key": unique("key"),
        "office_id": office, "occurred_at": "2030-03-01T09:30:00-05:00", "payload": payload,
    }


async def test_v1_and_v2_intents_are_each_applied_by_their_own_rules(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel
) -> None:
    # Given a vendor whose agreement names the contracts without a version, a patient and an
    # appointment it created by its own references, and the writer running
    world = await make_world()
    office, patient_ref, apt_ref = world.office, unique("p"), unique("a")
    note_v1, note_v2 = f"v1 {letters()}", f"v2 {letters()}"
    intents = [
        ("appointment.confirm", _versioned("appointment.confirm", 1, office,
                                           {"AppointmentRef": apt_ref, "confirmVal": "Sent"})),
        ("appointment.confirm", _versioned("appointment.confirm", 2, office,
                                           {"AppointmentRef": apt_ref, "confirmVal": "Confirmed"})),
        ("commlog.create", _versioned("commlog.create", 1, office,
                                      {"PatientRef": patient_ref, "Note": note_v1,
                                       "commType": "Insurance"})),
        ("commlog.create", _versioned("commlog.create", 2, office,
                                      {"PatientRef": patient_ref, "Note": note_v2,
                                       "CommType": "Financial"})),
        # v1's way of naming a type is not v2's: a DefNum in v2's CommType is refused
        ("commlog.create", _versioned("commlog.create", 2, office,
                                      {"PatientRef": patient_ref, "Note": "x", "CommType": 1})),
    ]
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        await vendor.publish(
            patient_create(office, unique("key"), last=letters(), ref=patient_ref), office=office
        )
        await vendor.publish(
            {**appointment_create(office, unique("key"), patient_ref=patient_ref),
             "payload": {"PatientRef": patient_ref, "Op": 1,
                         "AptDateTime": "2030-04-03 08:00:00", "AppointmentRef": apt_ref}},
            office=office, contract="appointment.create",
        )
        # When it sends both versions of both contracts, interleaved
        for contract, intent in intents:
            await vendor.publish(intent, office=office, contract=contract)
        events = await drain_outcomes(hub_channel, vendor.name, 2 + len(intents))

    # Then every v1 and v2 intent is applied, and each outcome names its contract's version
    confirm_v1, confirm_v2, commlog_v1, commlog_v2, refused = events[2:]
    assert [(e.contract, e.version, e.status) for e in events[2:6]] == [
        ("appointment.confirm", 1, OutcomeStatus.APPLIED),
        ("appointment.confirm", 2, OutcomeStatus.APPLIED),
        ("commlog.create", 1, OutcomeStatus.APPLIED),
        ("commlog.create", 2, OutcomeStatus.APPLIED),
    ]
    # And v2's CommType by name became the definition of that name, as v1's commType did
    types = await od_rows(
        world.od_database,
        "SELECT c.Note, d.ItemName FROM commlog c JOIN definition d ON d.DefNum = c.CommType"
        " WHERE c.CommlogNum IN (%s, %s) ORDER BY c.CommlogNum",
        (commlog_v1.od[0].primary_key, commlog_v2.od[0].primary_key),
    )
    assert types == [{"Note": note_v1, "ItemName": "Insurance"},
                     {"Note": note_v2, "ItemName": "Financial"}]
    # And the appointment carries v2's confirmation last
    (apt,) = await od_rows(
        world.od_database,
        "SELECT d.ItemName FROM appointment a JOIN definition d ON d.DefNum = a.Confirmed"
        " WHERE a.AptNum = %s", (confirm_v2.od[0].primary_key,),
    )
    assert apt == {"ItemName": "Confirmed"}
    # And v2's own rules refused the DefNum v1 would have taken
    assert (refused.version, refused.status, refused.reason) == (
        2, OutcomeStatus.REJECTED, OutcomeReason.INVALID
    )
    assert [(error.path, error.rule) for error in refused.errors] == [("payload.CommType", "type")]
    # And only the deprecated version's outcome says so
    assert confirm_v1.deprecation == Deprecation(sunset=date(2027, 6, 30), successor=2)
    assert [e.deprecation for e in (confirm_v2, commlog_v1, commlog_v2, refused)] == [None] * 4
    # And the deprecated traffic is counted for this vendor, by contract and version
    deprecated = {"vendor": vendor.name, "contract": "appointment.confirm", "version": "1"}
    assert world.metrics.get_sample_value("hub_intents_deprecated_total", deprecated) == 1
