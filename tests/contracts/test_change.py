"""The change event: what an entitled vendor reads of a row's change, validated by its own
published schema; the committed examples agree with both."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import jsonschema
import pytest
from pydantic import ValidationError

from contracts import CHANGE_TYPE, ChangeDoor, ChangeEvent, change_event_id
from contracts.od_tables import WatchedTable
from tests.contracts.examples import SCHEMAS_DIR, Example, event_examples

VALID = event_examples(CHANGE_TYPE, "valid-")
INVALID = event_examples(CHANGE_TYPE, "invalid-")
AT = datetime(2030, 4, 2, 14, 5, 31, tzinfo=UTC)


def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS_DIR / f"{CHANGE_TYPE}.schema.json").read_text())
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def _reschedule() -> ChangeEvent:
    return ChangeEvent(
        event_id=change_event_id("office-1", "appointment", 5021, AT),
        office_id="office-1",
        table=WatchedTable.APPOINTMENT,
        primary_key=5021,
        door=ChangeDoor.OPEN_DENTAL_USER,
        changed_at=AT,
        columns=["AptDateTime", "Op"],
        values={"AptDateTime": "2030-04-09 10:30:00"},
    )


def test_a_change_event_round_trips_matches_its_schema_and_routes_by_table_and_door() -> None:
    # Given a front-desk reschedule told with one listed value
    event = _reschedule()
    # When written to JSON and read back by a vendor
    text = event.to_json()
    # Then it is equal, valid against the published schema, and routed under the vendor's key
    assert ChangeEvent.from_json(text) == event
    _validator().validate(json.loads(text))
    assert event.routing_key("remindly") == "remindly.office-1.change.appointment.open_dental_user"


def test_the_event_id_is_stable_per_change_whatever_the_time_zone() -> None:
    # Given one change's time written in UTC and in another offset
    elsewhere = AT.astimezone(timezone(timedelta(hours=-5)))
    # When its id is derived
    # Then it is the same id, and another key or time gives another id
    first = change_event_id("office-1", "appointment", 5021, AT)
    assert change_event_id("office-1", "appointment", 5021, elsewhere) == first
    assert change_event_id("office-1", "appointment", 5022, AT) != first
    assert change_event_id("office-1", "appointment", 5021, AT + timedelta(microseconds=1)) != first


def test_values_may_only_hold_changed_columns() -> None:
    # Given an event whose values name a column that did not change
    # When it is built, Then it is refused
    with pytest.raises(ValidationError, match="values may only hold columns named in columns"):
        _reschedule().model_validate(
            {**_reschedule().model_dump(), "values": {"AptStatus": "Broken"}}
        )


@pytest.mark.parametrize("example", VALID, ids=lambda e: e.id)
def test_valid_example_reads_and_matches_its_schema(example: Example) -> None:
    # Given a valid example event
    document = example.load()
    # When a vendor reads it, Then the model and the schema accept it, and the id is its own
    event = ChangeEvent.from_json(json.dumps(document))
    _validator().validate(document)
    assert event.event_id == change_event_id(
        event.office_id, event.table.value, event.primary_key, event.changed_at
    )


@pytest.mark.parametrize("example", INVALID, ids=lambda e: e.id)
def test_invalid_example_is_refused_by_the_model_and_the_schema(example: Example) -> None:
    # Given an invalid example event and why it is invalid
    document = example.load()
    assert document["why"]
    # When the model and the schema judge it, Then both refuse it
    with pytest.raises(ValidationError):
        ChangeEvent.from_json(json.dumps(document["message"]))
    assert not _validator().is_valid(document["message"])


def test_there_are_valid_and_several_invalid_examples() -> None:
    assert len(VALID) >= 2 and len(INVALID) >= 5
