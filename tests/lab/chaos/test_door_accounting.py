"""The chaos run's account of every change's door: the hub's writes from the ledger against the
watch's attributions, and the rogue's direct writes against the changes flagged unexplained."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.watch.model import Door
from lab.chaos.door_accounting import (
    HubWrite,
    LostAttempt,
    RogueChange,
    Seen,
    WriteCall,
    account_doors,
    hub_writes,
    table_of_path,
)
from lab.chaos.rogue import rogue_plan

T0 = datetime(2031, 1, 6, 9, 0, 0, 300_000, tzinfo=UTC)
SCANNED = frozenset({"patient", "appointment", "allergy"})


def _database(office: str) -> str:
    return {"office-001": "od1", "office-002": "od2", "office-003": "od1"}[office]


def _call(intent: int, method: str, path: str, status: int | None, key: int | None,
          intent_key: int | None = None, intent_table: str | None = None) -> WriteCall:
    return WriteCall(intent_id=intent, vendor="v", idempotency_key=f"k{intent}",
                     office_id="office-001", intent_table=intent_table, intent_key=intent_key,
                     method=method, path=path, status=status, key=key,
                     started_at=T0 + timedelta(seconds=intent))


def _write(intent: int, key: int = 7, *, at: float = 0.0, office: str = "office-001",
           table: str = "patient") -> HubWrite:
    return HubWrite(intent_id=intent, vendor="v", idempotency_key=f"k{intent}", office_id=office,
                    table=table, key=key, started_at=T0 + timedelta(seconds=at))


def _seen(door: Door, intent: int | None, key: int = 7, *, at: float = 0.0,
          office: str = "office-001", table: str = "patient") -> Seen:
    moment = (T0 + timedelta(seconds=at)).replace(microsecond=0)
    return Seen(office_id=office, table=table, key=key, door=door, intent_id=intent,
                stamp=moment.replace(tzinfo=None), changed_at=moment)


def test_the_rows_applied_intents_wrote_come_from_their_answered_or_unanswered_writes() -> None:
    # Given a created patient, an update, a create whose reply was lost, a read, a sheet and
    # a payment (not scanned), and a 500
    calls = [
        _call(1, "POST", "/patients", 201, 7),
        _call(2, "PUT", "/patients/7", 200, 7),
        _call(3, "POST", "/allergies", None, None, intent_key=4, intent_table="allergy"),
        _call(4, "GET", "/patients/7", 200, 7),
        _call(5, "POST", "/sheets", 201, 9),
        _call(6, "POST", "/payments", 201, 3),
        _call(7, "PUT", "/appointments/2/Note", 500, None, intent_key=2,
              intent_table="appointment"),
    ]
    # When the hub's writes are read, Then each written row of a scanned table is one write
    writes = hub_writes(calls, SCANNED)
    assert [(w.intent_id, w.table, w.key) for w in writes] == [
        (1, "patient", 7), (2, "patient", 7), (3, "allergy", 4),
    ]
    assert (table_of_path("/appointments/2/Note"), table_of_path("/sheetfields/3")) == (
        "appointment", None)


def test_a_hub_write_is_attributed_by_its_intent_or_by_a_later_one_in_the_same_scan() -> None:
    # Given a create (intent 1) and an update (intent 2) of one patient that one scan saw as
    # one change naming the update, and an allergy the watch named by its intent
    writes = [_write(1, at=0.0), _write(2, at=0.5), _write(3, 4, table="allergy", at=3.0)]
    seen = [_seen(Door.HUB, 2, at=0.5), _seen(Door.HUB, 3, 4, table="allergy", at=3.0)]
    # When the doors are accounted
    doors = account_doors(writes, seen, [], _database)
    # Then all three are attributed, one of them through the later intent
    assert (doors.hub_changes, doors.hub_attributed, doors.hub_collapsed) == (3, 3, 1)
    assert (doors.misses, doors.hub_unexplained, doors.ok) == ((), 0, True)


def test_a_later_intent_attributed_in_a_scan_of_its_own_does_not_cover_an_earlier_one() -> None:
    # Given the create seen under no intent's name before the update came, and the update seen
    writes = [_write(1, at=0.0), _write(2, at=5.0)]
    seen = [_seen(Door.OTHER_API, None, at=0.0), _seen(Door.HUB, 2, at=5.0)]
    # When the doors are accounted
    doors = account_doors(writes, seen, [], _database)
    # Then the create is missed, and its row's other door counted
    assert [m.idempotency_key for m in doors.misses] == ["k1"]
    assert (doors.hub_attributed, doors.hub_unexplained, doors.ok) == (1, 1, False)
    assert doors.unexplained_doors == {"other_api": 1}


def test_a_hub_change_seen_before_the_ledger_knew_its_row_is_counted_apart_and_fails() -> None:
    # Given a create whose reply was lost, seen as the hub's (its DevName) but no intent's
    doors = account_doors([_write(1)], [_seen(Door.HUB, None)], [], _database)
    # Then it is neither attributed nor missed: the intent is unknown, the door is the hub; and
    # the run fails, since every hub change must name its intent
    assert (doors.hub_attributed, len(doors.hub_intent_unknown), doors.misses) == (1 - 1, 1, ())
    assert not doors.ok


def test_another_offices_view_of_a_shared_database_counts_against_the_hub_rows() -> None:
    # Given office-003 sharing office-001's database, whose watcher saw the hub's row unexplained
    writes = [_write(1)]
    seen = [_seen(Door.HUB, 1), _seen(Door.UNEXPLAINED, None, office="office-003"),
            _seen(Door.UNEXPLAINED, None, office="office-002")]  # another database's row 7
    # When the doors are accounted, Then that one attribution is counted, not office-002's
    doors = account_doors(writes, seen, [], _database)
    assert (doors.hub_attributed, doors.hub_unexplained) == (1, 1)


def test_a_rogue_change_is_flagged_only_by_an_unexplained_change_with_its_stamp() -> None:
    stamp = T0.replace(tzinfo=None, microsecond=0)
    rogue = [
        RogueChange(office_id="office-003", table="patient", key=50, act="insert", stamp=stamp,
                    at=T0),
        RogueChange(office_id="office-001", table="patient", key=50, act="update",
                    stamp=stamp + timedelta(seconds=4), at=T0 + timedelta(seconds=4)),
        RogueChange(office_id="office-001", table="patient", key=51, act="update", stamp=stamp,
                    at=T0),
    ]
    # Given the first seen unexplained at the office sharing its database, the second seen
    # under another stamp, and the third given another door
    seen = [_seen(Door.UNEXPLAINED, None, 50, office="office-001"),
            _seen(Door.UNEXPLAINED, None, 50, at=9.0),
            _seen(Door.OPEN_DENTAL_USER, None, 51)]
    # When the doors are accounted, Then only the first is flagged
    doors = account_doors([], seen, rogue, _database)
    assert (doors.rogue_injected, doors.rogue_flagged) == (3, 1)
    assert [c.key for c in doors.rogue_missed] == [50, 51]
    assert not doors.ok


def test_the_rogue_inserts_every_row_before_it_updates_any() -> None:
    # Given 8 changes drawn over a minute
    steps = rogue_plan(8, seed=3, window_s=60.0)
    # Then three rows are inserted, then updated, then updated in a hashed column, in time order
    assert [(s.row, s.act) for s in steps] == [
        (0, "insert"), (1, "insert"), (2, "insert"), (0, "update"), (1, "update"),
        (2, "update"), (0, "update_hashed"), (1, "update_hashed"),
    ]
    assert [s.after_s for s in steps] == sorted(s.after_s for s in steps)
    assert rogue_plan(8, seed=3, window_s=60.0) == steps


def test_a_change_seen_under_an_earlier_intents_name_is_counted_apart_and_fails() -> None:
    # Given two writes of one row, the later seen under the earlier intent's name
    writes = [_write(1, at=0.0), _write(2, at=5.0)]
    seen = [_seen(Door.HUB, 1, at=0.0), _seen(Door.HUB, 1, at=5.0)]
    # When the doors are accounted
    doors = account_doors(writes, seen, [], _database)
    # Then the door is right but the later intent is listed apart, not missed, and fails the run
    assert [m.idempotency_key for m in doors.hub_other_intent] == ["k2"]
    assert (doors.hub_attributed, doors.misses, doors.ok) == (1, (), False)


def test_an_attempt_whose_call_went_unrecorded_is_a_write_of_its_row() -> None:
    # Given a booking POSTed, then a note on it whose writer was killed while its PUT was out
    # (the ledger has no call of that attempt; reconciliation found the note in Open Dental)
    booked = _call(1, "POST", "/appointments", 201, 34)
    noted = LostAttempt(intent_id=2, vendor="v", idempotency_key="k2", office_id="office-001",
                        table="appointment", key=34, received_at=T0 + timedelta(seconds=1.5))
    # When both fell between two scans, the watch naming the note's intent
    seen = [_seen(Door.HUB, 2, key=34, at=3.0, table="appointment")]
    writes = hub_writes([booked], SCANNED, [noted])
    doors = account_doors(writes, seen, [], _database)
    # Then the note is a hub change of the row, and the booking is covered by it, collapsed
    assert [(w.intent_id, w.table, w.key) for w in writes] == [
        (1, "appointment", 34), (2, "appointment", 34),
    ]
    assert (doors.hub_changes, doors.hub_attributed, doors.hub_collapsed, doors.ok) == (
        2, 2, 1, True,
    )
    # And without it, the booking would be listed as seen under another intent's name
    alone = account_doors(hub_writes([booked], SCANNED), seen, [], _database)
    assert [m.idempotency_key for m in alone.hub_other_intent] == ["k1"]
