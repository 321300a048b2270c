"""The scan's edges: its bound, the writer's time header in every AMQP shape, and time filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aio_pika
import pytest
from aio_pika.abc import AbstractConnection, FieldValue

from hub import names
from hub.dlq import (
    DeadLetter,
    DeadLetterFilter,
    ScanBounds,
    ScanEnd,
    Source,
    list_dead_letters,
    parse_moment,
)
from hub.settings import HubSettings
from tests.dlq.conftest import Stage
from tests.dlq.letters import drain_ids, fill
from tests.dlq.test_list_show import IN_ORDER

NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)


async def test_a_scan_stopped_at_its_bound_loses_nothing(
    stage: Stage, as_impersonator: AbstractConnection
) -> None:
    # Given the four dead letters
    await fill(as_impersonator, stage)
    # When a list may read only two messages
    bounds = ScanBounds(max_messages=2)
    report = await list_dead_letters(
        HubSettings(), DeadLetterFilter(), where=stage.where, bounds=bounds
    )
    # Then it lists the first two and says it stopped at the bound
    assert [letter.message_id for letter in report.letters] == IN_ORDER[:2]
    assert (report.summary.scanned, report.summary.end) == (2, ScanEnd.MAX_MESSAGES)
    # And all four are still there (the two read now wait behind the other two)
    assert await drain_ids(as_impersonator, stage.dead) == [*IN_ORDER[2:], *IN_ORDER[:2]]


@pytest.mark.parametrize(
    "stamp",
    [datetime(2024, 1, 5, 8, tzinfo=UTC), int(datetime(2024, 1, 5, 8, tzinfo=UTC).timestamp()),
     "2024-01-05T08:00:00+00:00", "2024-01-05T09:00:00+01:00"],
    ids=["amqp-timestamp", "unix-seconds", "iso-utc", "iso-offset"],
)
async def test_the_writer_time_header_is_read_in_any_shape(
    stage: Stage, as_impersonator: AbstractConnection, stamp: FieldValue
) -> None:
    # Given a dead letter whose x-hub-dead-lettered-at is in this shape
    channel = await as_impersonator.channel(publisher_confirms=True)
    dlx = await channel.get_exchange(stage.dlx)
    headers: dict[str, FieldValue] = {
        names.HEADER_REASON: "invalid", names.HEADER_DEAD_LETTERED_AT: stamp
    }
    await dlx.publish(aio_pika.Message(b"{}", message_id="k-t", headers=headers), "dead.x")
    # When it is listed
    report = await list_dead_letters(HubSettings(), DeadLetterFilter(), where=stage.where)
    # Then its time is that moment, in UTC
    assert [letter.dead_lettered_at for letter in report.letters] == [
        datetime(2024, 1, 5, 8, tzinfo=UTC)
    ]


def letter_at(moment: datetime | None) -> DeadLetter:
    return DeadLetter(
        position=0, source=Source.WRITER, message_id="k", idempotency_key="k", vendor="v",
        office="o", contract="patient.create", reason="invalid", dead_lettered_at=moment,
        attempts=None, routing_key="dead.o", properties={}, headers={}, body=b"",
    )


def test_a_time_window_leaves_out_letters_of_unknown_time() -> None:
    # Given a window and letters inside, at its ends, and of unknown time
    window = DeadLetterFilter(since=NOW, until=NOW + timedelta(hours=1))
    # When each is matched, Then since is inclusive, until exclusive, unknown never matches
    assert window.matches(letter_at(NOW))
    assert not window.matches(letter_at(NOW + timedelta(hours=1)))
    assert not window.matches(letter_at(None))
    assert DeadLetterFilter().matches(letter_at(None))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h", NOW - timedelta(hours=2)),
        ("30m", NOW - timedelta(minutes=30)),
        ("7d", NOW - timedelta(days=7)),
        ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
        ("2024-05-01T13:00", datetime(2024, 5, 1, 13, tzinfo=UTC)),
        ("2024-05-01T13:00+02:00", datetime(2024, 5, 1, 11, tzinfo=UTC)),
    ],
)
def test_parse_moment(text: str, expected: datetime) -> None:
    # Given a --since/--until text, When it is parsed, Then it is that UTC moment
    assert parse_moment(text, NOW) == expected


def test_parse_moment_refuses_what_is_not_a_time() -> None:
    # Given text that is no time, When it is parsed, Then it is refused by name
    with pytest.raises(ValueError, match="not a time"):
        parse_moment("yesterday", NOW)
