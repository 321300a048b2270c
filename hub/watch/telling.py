"""The watch's attributions handed to change.v1 events (hub/change_events): each pass's changes
of an office become ``ChangeNotice``s for ``ChangeNotifier.notify``, which owes them to the
vendors whose read agreements cover the table and delivers what the office owes.

The notifier publishes on ``hub.outcomes`` over a confirming channel of the watch's own broker
connection. A registry where no vendor reads anything needs no broker: the watch then tells
nobody and does not connect.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from hub.broker_connection import connect_robust
from hub.change_events import ChangeNotice
from hub.change_events.mysql_sends import MySqlChangeSends
from hub.change_events.notifier import ChangeNotifier
from hub.ledger.mysql_session import ignore_query
from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.registry import Registry
from hub.settings import HubSettings
from hub.watch.model import Attribution
from hub.watch.scanner import Tell
from hub.writer.finishing import AmqpPublisher

CONNECTION_NAME = "hub-watch"


def notice_of(change: Attribution) -> ChangeNotice:
    return ChangeNotice(
        office=change.office_id, table=change.table.value, primary_key=change.key,
        door=change.door, columns=change.columns, changed_at=change.time, vendor=change.vendor,
        intent_id=change.intent_id, user_num=change.user_num, dev_name=change.dev_name,
    )


def anyone_reads(registry: Registry) -> bool:
    return any(
        agreement.read for vendor in registry.vendors.values() for agreement in vendor.agreements
    )


@asynccontextmanager
async def change_teller(settings: HubSettings, registry: Registry) -> AsyncIterator[Tell | None]:
    """What the watch tells its changes to (None: nobody reads, nothing to tell)."""
    if not anyone_reads(registry):
        yield None
        return
    sends = await MySqlChangeSends.open(settings.ledger_db, on_query=ignore_query)
    try:
        connection = await connect_robust(
            settings.broker_url, settings.tls, name=CONNECTION_NAME,
            reconnect_interval_s=settings.broker_reconnect_interval_s,
        )
        async with connection:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            publisher = AmqpPublisher(channel, confirm_timeout_s=settings.writer.confirm_timeout_s)
            notifier = ChangeNotifier(registry=registry, sends=sends, publisher=publisher)

            async def tell(
                office: str, db: ReadOnlyDatabase, changes: Sequence[Attribution]
            ) -> None:
                await notifier.notify(office, db, [notice_of(change) for change in changes])

            yield tell
    finally:
        await sends.close()
