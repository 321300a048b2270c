"""``hub dlq replay``: back to the intents exchange as the vendor sent it, then removed."""

from __future__ import annotations

import os

import pytest
from aio_pika.abc import AbstractConnection, AbstractIncomingMessage

from hub import names
from hub.audit import AuditError
from hub.dlq import (
    DeadLetterFilter,
    ImpersonationRefused,
    ReplayProgress,
    ReplayStatus,
    replay_dead_letters,
)
from hub.settings import HubSettings, MySqlSettings
from tests.dlq.conftest import Login, Stage
from tests.dlq.letters import VENDOR_A, drain_ids, fill, make_poison
from tests.dlq.test_list_show import IN_ORDER, hub_cli
from tests.support.audit import ALICE, drop_the_trail, said, trail


async def office_messages(
    connection: AbstractConnection, stage: Stage
) -> list[AbstractIncomingMessage]:
    """Take everything off the test's office queue."""
    channel = await connection.channel()
    queue = await channel.get_queue(stage.office_queue)
    taken: list[AbstractIncomingMessage] = []
    while (message := await queue.get(no_ack=True, fail=False)) is not None:
        taken.append(message)
    await channel.close()
    return taken


async def test_replay_publishes_the_original_messages_and_removes_only_them(
    stage: Stage, impersonator: Login, as_impersonator: AbstractConnection,
    ledger_db: MySqlSettings, replay_settings: HubSettings,
) -> None:
    # Given the four dead letters and a hub user with the impersonator tag
    sent = await fill(as_impersonator, stage)

    # When office O1's dead letters are replayed (vendor A's with user_id, vendor B's without)
    wanted = DeadLetterFilter(office=stage.offices[0])
    report = await replay_dead_letters(replay_settings, wanted, where=stage.where, operator=ALICE)

    # Then both were confirmed on their keys and reached the office's queue in order
    assert [(r.status, r.routing_key) for r in report.results] == [
        (ReplayStatus.REPLAYED, names.intent_key(stage.offices[0], "patient.create")),
        (ReplayStatus.REPLAYED, names.intent_key(stage.offices[0], "appointment.create")),
    ]
    a1, b1 = await office_messages(as_impersonator, stage)
    # And each as its vendor sent it: user_id, message_id, correlation_id, type and body
    for replayed, original in ((a1, sent[0]), (b1, sent[1])):
        assert (replayed.user_id, replayed.message_id, replayed.body) == (
            original.vendor, original.message_id, original.body
        )
        assert (replayed.correlation_id, replayed.type, replayed.content_type) == (
            f"corr-{original.key}", f"{original.contract}.v1", "application/json"
        )
        # And without the dead-letter headers
        assert not [name for name in replayed.headers if name.startswith("x-hub-")]
    # And they left the dead-letter queue while the others stayed, in order
    assert await drain_ids(as_impersonator, stage.dead) == ["m-a2", "k-poison"]
    # And the replay is in the audit trail: who, which queue and filter, and that both went
    (entry,) = await trail(ledger_db)
    assert said([entry]) == [("dlq_replay", stage.dead, "ok", None)]
    assert (entry.os_user, entry.operator) == ("alice", "Alice Ops")
    assert entry.details == {
        "filter": {"office": stage.offices[0], "limit": 100}, "letters": 2,
        "message_ids": ["k-a1", "k-b1"],
    }
    assert entry.outcome == {"replayed": 2, "kept": 0}


async def test_a_poison_message_without_user_id_is_replayed_as_nobody(
    stage: Stage, as_impersonator: AbstractConnection, replay_settings: HubSettings,
) -> None:
    # Given a poison message published without user_id, forging x-hub-vendor: vendor B
    await make_poison(as_impersonator, stage, vendor=None)

    # When it is replayed
    report = await replay_dead_letters(
        replay_settings, DeadLetterFilter(), where=stage.where, operator=ALICE
    )

    # Then it was read as nobody's and re-published without user_id (the writer will refuse it)
    assert [(r.letter.vendor, r.status) for r in report.results] == [
        (None, ReplayStatus.REPLAYED)
    ]
    channel = await as_impersonator.channel()
    poison = await channel.get_queue(stage.poison_queue)
    replayed = await poison.get(no_ack=True)
    assert replayed is not None and replayed.user_id is None
    assert replayed.message_id == "k-poison"


async def test_dry_run_lists_what_would_be_replayed_and_changes_nothing(
    stage: Stage, as_impersonator: AbstractConnection,
    ledger_db: MySqlSettings, replay_settings: HubSettings,
) -> None:
    # Given the four dead letters
    await fill(as_impersonator, stage)

    # When office O1's are replayed with --dry-run
    wanted = DeadLetterFilter(office=stage.offices[0])
    report = await replay_dead_letters(
        replay_settings, wanted, dry_run=True, where=stage.where, operator=ALICE
    )

    # Then both would be replayed, nothing was published, and the queue is as it was
    assert [(r.letter.message_id, r.status) for r in report.results] == [
        ("k-a1", ReplayStatus.WOULD_REPLAY), ("k-b1", ReplayStatus.WOULD_REPLAY)
    ]
    assert await office_messages(as_impersonator, stage) == []
    assert await drain_ids(as_impersonator, stage.dead) == IN_ORDER
    # And a dry run is no operator action: the audit trail has nothing
    assert await trail(ledger_db) == []


async def test_an_unroutable_replay_stays_on_the_queue(
    stage: Stage, as_impersonator: AbstractConnection,
    ledger_db: MySqlSettings, replay_settings: HubSettings,
) -> None:
    # Given the four dead letters, and no queue bound for the poison's office O3 any more
    await fill(as_impersonator, stage)
    channel = await as_impersonator.channel()
    poison = await channel.get_queue(stage.poison_queue)
    await poison.unbind(stage.intents, names.office_binding(stage.offices[2]))

    # When the poison message is replayed while no queue is bound for its office
    report = await replay_dead_letters(
        replay_settings, DeadLetterFilter(reason="delivery_limit"), where=stage.where,
        operator=ALICE,
    )

    # Then the broker returned it, so it stays on the dead-letter queue, in its place
    assert [r.status for r in report.results] == [ReplayStatus.UNROUTABLE]
    assert await drain_ids(as_impersonator, stage.dead) == IN_ORDER
    # And the audit trail says the replay failed, keeping it on the queue
    (entry,) = await trail(ledger_db)
    assert said([entry]) == [("dlq_replay", stage.dead, "failed", "kept_on_queue")]
    assert entry.outcome == {"replayed": 0, "kept": 1}


async def test_replay_without_the_impersonator_tag_fails_clearly_and_loses_nothing(
    stage: Stage, plain_user: Login, as_impersonator: AbstractConnection,
    ledger_db: MySqlSettings,
) -> None:
    # Given the four dead letters and a hub user without the impersonator tag
    await fill(as_impersonator, stage)
    settings = HubSettings(broker_url=plain_user.url(HubSettings()), ledger_db=ledger_db)

    # When everything is replayed
    with pytest.raises(ImpersonationRefused) as refused:
        await replay_dead_letters(
            settings, DeadLetterFilter(), where=stage.where, operator=ALICE
        )

    # Then the error names the tag and the users, nothing reached the office queue,
    # and every dead letter is still there, in order
    message = str(refused.value)
    assert "impersonator" in message and plain_user.name in message and VENDOR_A in message
    assert await office_messages(as_impersonator, stage) == []
    assert await drain_ids(as_impersonator, stage.dead) == IN_ORDER
    # And the audit trail records the refused replay as failed, with the error's class
    assert said(await trail(ledger_db)) == [
        ("dlq_replay", stage.dead, "failed", "ImpersonationRefused")
    ]


async def test_a_replay_that_cannot_be_audited_replays_nothing(
    stage: Stage, as_impersonator: AbstractConnection,
    ledger_db: MySqlSettings, replay_settings: HubSettings,
) -> None:
    # Given the four dead letters and a hub database whose audit table is gone
    await fill(as_impersonator, stage)
    await drop_the_trail(ledger_db)

    # When everything is replayed
    with pytest.raises(AuditError) as refused:
        await replay_dead_letters(
            replay_settings, DeadLetterFilter(), where=stage.where, operator=ALICE
        )

    # Then it says nothing was done, nothing reached the office queue, and every dead letter
    # is still there, in order
    assert "nothing was done" in str(refused.value)
    assert await office_messages(as_impersonator, stage) == []
    assert await drain_ids(as_impersonator, stage.dead) == IN_ORDER


async def test_a_bulk_replay_goes_on_only_if_the_filter_still_matches_the_count_confirmed(
    stage: Stage, as_impersonator: AbstractConnection,
    ledger_db: MySqlSettings, replay_settings: HubSettings,
) -> None:
    # Given the four dead letters, two of them office O1's
    await fill(as_impersonator, stage)
    wanted = DeadLetterFilter(office=stage.offices[0])

    # When O1's are replayed confirming 3 (the preview was stale)
    stale = await replay_dead_letters(
        replay_settings, wanted, expected=3, where=stage.where, operator=ALICE
    )
    # Then nothing moved, nothing is audited, and the report says what matches now
    assert (stale.confirmed, stale.matched, stale.results) == (False, 2, [])
    assert await office_messages(as_impersonator, stage) == []
    assert await trail(ledger_db) == []

    # When they are replayed confirming 2
    done = await replay_dead_letters(
        replay_settings, wanted, expected=2, where=stage.where, operator=ALICE
    )
    # Then both went, and the audit entry holds the filter and the count confirmed
    assert done.confirmed and [r.status for r in done.results] == [ReplayStatus.REPLAYED] * 2
    (entry,) = await trail(ledger_db)
    assert entry.details["confirmed"] == 2 and entry.details["letters"] == 2
    assert entry.outcome == {"replayed": 2, "kept": 0}


class CancelledAfterTheFirst(ReplayProgress):
    """Bob cancels while the first letter's replay is being confirmed."""

    async def pause(self, gap_s: float) -> None:
        self.cancel("bob")
        await super().pause(gap_s)


async def test_a_cancelled_replay_stops_before_the_next_letter_and_keeps_the_rest_in_order(
    stage: Stage, as_impersonator: AbstractConnection,
    ledger_db: MySqlSettings, replay_settings: HubSettings,
) -> None:
    # Given the four dead letters
    await fill(as_impersonator, stage)

    # When all are replayed and Bob cancels after the first
    progress = CancelledAfterTheFirst()
    report = await replay_dead_letters(
        replay_settings, DeadLetterFilter(), progress=progress, where=stage.where, operator=ALICE
    )

    # Then only the first was replayed, and the other three stay on the queue in their order
    assert [r.letter.message_id for r in report.results] == ["k-a1"]
    assert (report.matched, report.cancelled_by, progress.total) == (4, "bob", 4)
    assert [m.message_id for m in await office_messages(as_impersonator, stage)] == ["k-a1"]
    assert await drain_ids(as_impersonator, stage.dead) == IN_ORDER[1:]
    # And the audit trail names who cancelled it and how far it got
    (entry,) = await trail(ledger_db)
    assert said([entry]) == [("dlq_replay", stage.dead, "failed", "cancelled")]
    assert entry.outcome == {"replayed": 1, "kept": 3, "cancelled_by": "bob"}


async def test_hub_dlq_replay_expect_refuses_a_stale_count_and_moves_nothing(
    stage: Stage, as_impersonator: AbstractConnection, ledger_db: MySqlSettings
) -> None:
    # Given the four dead letters, three of them vendor A's
    await fill(as_impersonator, stage)
    env = {**os.environ, "HUB_LEDGER_DB__DATABASE": ledger_db.database}

    # When `hub dlq replay --vendor A --expect 2` runs (a dry run had shown two)
    code, _, err = await hub_cli(
        "dlq", "replay", "--vendor", VENDOR_A, "--expect", "2", "--queue", stage.dead, env=env
    )

    # Then it says what matches now, replays nothing, audits nothing and exits 1
    assert code == 1 and "the filter matches 3, not 2: nothing replayed" in err
    assert await trail(ledger_db) == []
    assert await drain_ids(as_impersonator, stage.dead) == IN_ORDER
