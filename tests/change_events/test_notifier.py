"""change.v1 events end to end on the real broker and databases: the front desk's reschedule
reaches the vendors that may read appointments, on their own outcome queues, with values only of
the columns their agreement lists; nobody else hears of it, a vendor is not told of its own
write, another vendor's write says ``hub`` and no more, and a restarted notifier sends nothing
again."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from contracts import CHANGE_TYPE, ChangeDoor, ChangeEvent, change_event_id
from contracts.od_tables import watched_tables
from hub import names
from hub.change_events import ChangeNotice
from hub.change_events.notifier import value_query
from hub.registry import Registry
from hub.topology import declare_outcome_queue
from tests.change_events.conftest import MakeNotifier, Office
from tests.writer.support import GUARD_S, od_rows

SENTINEL = b"sentinel: nothing came before me"


async def _appointment(office: Office) -> int:
    """An appointment the front desk booked: Op 1, 2 April 2030 at 09:00."""
    return await office.root_sql(
        "INSERT INTO appointment (PatNum, AptStatus, Op, AptDateTime, Note)"
        " VALUES (1, 1, 1, '2030-04-02 09:00:00', 'first visit')"
    )


async def _front_desk_reschedule(office: Office, apt_num: int) -> ChangeNotice:
    """The front desk moves it to 9 April 10:30 in operatory 3 and edits its note, as the watch
    reports it: door open_dental_user, the changed columns by name."""
    await office.root_sql(
        "UPDATE appointment SET AptDateTime = '2030-04-09 10:30:00', Op = 3, Note = 'moved'"
        " WHERE AptNum = %s", (apt_num,),
    )
    return ChangeNotice(
        office=office.id, table="appointment", primary_key=apt_num,
        door=ChangeDoor.OPEN_DENTAL_USER, columns=("AptDateTime", "Op", "Note"),
        changed_at=datetime(2030, 4, 1, 15, 2, 3, 123456, tzinfo=UTC), user_num=7,
    )


async def _next_messages(office: Office, vendor: str, count: int) -> list[AbstractIncomingMessage]:
    """The next ``count`` messages of the vendor's own outcome queue, consumed and acked."""
    queue = await office.channel.get_queue(names.outcome_queue(vendor), ensure=False)
    taken: list[AbstractIncomingMessage] = []
    async with asyncio.timeout(GUARD_S), queue.iterator() as messages:  # a guard, not a timing
        async for message in messages:
            await message.ack()
            taken.append(message)
            if len(taken) == count:
                break
    return taken


async def _assert_received_nothing(office: Office, vendor: str) -> None:
    """Everything the notifier published was confirmed before it returned: a sentinel published
    to the vendor's queue now is the first message there only if nothing else came."""
    exchange = await office.channel.get_exchange(names.OUTCOMES_EXCHANGE, ensure=False)
    await exchange.publish(aio_pika.Message(SENTINEL), f"{vendor}.sentinel")
    [first] = await _next_messages(office, vendor, 1)
    assert first.body == SENTINEL, f"{vendor} received {first.type}: {first.body!r}"


async def test_the_front_desk_reschedule_reaches_each_reader_with_only_its_listed_values(
    office: Office, make_notifier: MakeNotifier
) -> None:
    # Given an appointment the front desk moved, and the watch's notice of it
    apt_num = await _appointment(office)
    notice = await _front_desk_reschedule(office, apt_num)
    notifier = await make_notifier()
    vendors = office.vendors
    # When the notifier is told
    notified = await notifier.notify(office.id, office.reads, [notice])
    # Then both readers are owed it and got it; the vendor without a read agreement is not
    assert (notified.owed, notified.sent, notified.held) == (2, 2, 0)
    [with_values] = await _next_messages(office, vendors.with_values, 1)
    [names_only] = await _next_messages(office, vendors.names_only, 1)
    await _assert_received_nothing(office, vendors.no_read)
    # And the reader that lists AptDateTime and Op gets their new values, the note by name only
    event = ChangeEvent.from_json(with_values.body)
    assert event.door is ChangeDoor.OPEN_DENTAL_USER
    assert (event.table.value, event.primary_key) == ("appointment", apt_num)
    assert event.columns == ["AptDateTime", "Op", "Note"]
    assert event.values == {"AptDateTime": "2030-04-09 10:30:00", "Op": 3}
    # And the reader that lists no values gets the names only, under the same event id
    other = ChangeEvent.from_json(names_only.body)
    assert other.values == {} and other.columns == event.columns
    assert other.event_id == event.event_id == change_event_id(
        office.id, "appointment", apt_num, notice.changed_at
    )
    # And each is a persistent, typed message on the vendor's own routing key
    assert with_values.type == CHANGE_TYPE and with_values.message_id == event.event_id
    assert with_values.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert with_values.routing_key == (
        f"{vendors.with_values}.{office.id}.change.appointment.open_dental_user"
    )
    # And the values were read once, by primary key, through the read-only connection
    assert [r.query_name for r in office.query_log.records] == ["change_events.values.appointment"]


async def test_a_vendor_is_not_told_of_its_own_write_and_others_learn_only_door_hub(
    office: Office, make_notifier: MakeNotifier
) -> None:
    # Given an appointment the names-only vendor rescheduled through the hub (its intent)
    apt_num = await _appointment(office)
    vendors = office.vendors
    notice = ChangeNotice(
        office=office.id, table="appointment", primary_key=apt_num, door=ChangeDoor.HUB,
        columns=("AptDateTime",), changed_at=datetime(2030, 4, 1, 16, 0, tzinfo=UTC),
        vendor=vendors.names_only, intent_id=987654321,
    )
    notifier = await make_notifier()
    # When the notifier is told
    notified = await notifier.notify(office.id, office.reads, [notice])
    # Then only the other reader is owed it: the writer had its outcome event
    assert (notified.owed, notified.sent) == (1, 1)
    await _assert_received_nothing(office, vendors.names_only)
    await _assert_received_nothing(office, vendors.no_read)
    # And the other reader learns door hub, and neither who nor which intent
    [message] = await _next_messages(office, vendors.with_values, 1)
    document = json.loads(message.body)
    assert document["door"] == "hub"
    assert set(document) == {
        "event_id", "office_id", "table", "primary_key", "door", "changed_at", "columns", "values"
    }
    assert vendors.names_only.encode() not in message.body
    assert b"987654321" not in message.body and b"intent" not in message.body
    assert message.routing_key == f"{vendors.with_values}.{office.id}.change.appointment.hub"


async def test_a_restarted_notifier_sends_nothing_again(
    office: Office, make_notifier: MakeNotifier
) -> None:
    # Given a reschedule the notifier told both readers of
    apt_num = await _appointment(office)
    notice = await _front_desk_reschedule(office, apt_num)
    first = await make_notifier()
    await first.notify(office.id, office.reads, [notice])
    await _next_messages(office, office.vendors.with_values, 1)
    await _next_messages(office, office.vendors.names_only, 1)
    # When a new notifier (a restarted watch) is told of the same change again
    again = await make_notifier()
    notified = await again.notify(office.id, office.reads, [notice])
    # Then nothing is owed or sent, and neither reader receives a second event
    assert (notified.owed, notified.sent) == (0, 0)
    await _assert_received_nothing(office, office.vendors.with_values)
    await _assert_received_nothing(office, office.vendors.names_only)


async def test_an_event_the_broker_refuses_waits_and_goes_out_on_the_next_pass(
    office: Office, make_notifier: MakeNotifier
) -> None:
    # Given a reader whose outcome queue is gone (so the mandatory publish is returned)
    apt_num = await _appointment(office)
    notice = await _front_desk_reschedule(office, apt_num)
    queue = await office.channel.get_queue(
        names.outcome_queue(office.vendors.with_values), ensure=False
    )
    await queue.delete(if_unused=False, if_empty=False)
    notifier = await make_notifier()
    # When the notifier is told
    notified = await notifier.notify(office.id, office.reads, [notice])
    # Then that reader's event is held, the other's sent
    assert (notified.owed, notified.sent, notified.held) == (2, 1, 1)
    # And once the queue is back, the next pass delivers it, once
    await declare_outcome_queue(office.channel, office.vendors.with_values)
    retried = await notifier.deliver(office.id, office.reads)
    assert (retried.sent, retried.held) == (1, 0)
    [message] = await _next_messages(office, office.vendors.with_values, 1)
    assert ChangeEvent.from_json(message.body).values["Op"] == 3
    assert (await notifier.deliver(office.id, office.reads)).sent == 0


async def test_an_event_owed_under_an_agreement_since_withdrawn_is_never_sent(
    office: Office, make_notifier: MakeNotifier
) -> None:
    # Given a reschedule owed to both readers while the with-values reader's queue was gone
    apt_num = await _appointment(office)
    notice = await _front_desk_reschedule(office, apt_num)
    reader = office.vendors.with_values
    queue = await office.channel.get_queue(names.outcome_queue(reader), ensure=False)
    await queue.delete(if_unused=False, if_empty=False)
    await (await make_notifier()).notify(office.id, office.reads, [notice])
    await declare_outcome_queue(office.channel, reader)
    # When the office withdraws that reader's agreement and a notifier delivers what is owed
    vendors = {name: v for name, v in office.registry.vendors.items() if name != reader}
    narrower = Registry(offices=office.registry.offices, vendors=vendors)
    delivered = await (await make_notifier(narrower)).deliver(office.id, office.reads)
    # Then the event is settled withdrawn, and the reader never receives it
    assert (delivered.sent, delivered.withdrawn, delivered.held) == (0, 1, 0)
    await _assert_received_nothing(office, reader)


async def test_values_are_read_by_primary_key_never_by_scanning_a_table(office: Office) -> None:
    # Given the value query of every watched table, over all its columns
    queries = {
        name: value_query(table, sorted(table.columns)) for name, table in watched_tables().items()
    }
    # When MariaDB explains each one, for a key that exists (the hub's guard admits SELECTs
    # only, so as the read-only user on a connection of the test's own)
    apt_num = await _appointment(office)
    plans = {name: await od_rows(office.database, f"EXPLAIN {sql}", (apt_num,))
             for name, sql in queries.items()}
    # Then each is a constant lookup by the table's primary key: at most one row, no scan
    for name, [plan] in plans.items():
        assert plan["type"] == "const" or "Impossible WHERE" in (plan["Extra"] or ""), (name, plan)
        assert plan["type"] != "ALL", (name, plan)
