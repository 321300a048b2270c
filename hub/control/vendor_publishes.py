"""A paused vendor's publishes, refused by the broker itself.

Its topic permission on ``hub.intents`` becomes "no routing key", so each new channel's publish
is refused (ACCESS_REFUSED) and the vendor's publisher keeps the message. RabbitMQ caches a
permission a channel already used, so the vendor's open connections are closed too: it
reconnects into the refusal. The management API lists a connection only a few seconds after it
opened, so the connections are closed once more after ``recheck_s`` to catch those. Resuming
restores the permission of the vendor's agreements (what ``hub vendor add`` sets).
"""

from __future__ import annotations

import asyncio

from hub import names
from hub.broker_admin import ManagementApi, TopicPermission
from hub.registry import Vendor
from hub.vendor_access import NOTHING, VENDOR_TAG, intents_topic_permission

CLOSE_REASON = "paused by the hub's operators: publishes are refused until resumed"


async def is_vendor_user(api: ManagementApi, name: str) -> bool:
    """Whether ``name`` is a broker user the hub manages (tagged by ``hub vendor add``)."""
    user = await api.user(name)
    return user is not None and VENDOR_TAG in user.tags


async def refuse_publishes(api: ManagementApi, vendor: str, *, recheck_s: float) -> int:
    """Refuse the vendor's publishes from now on; how many of its connections were closed."""
    refused = TopicPermission(
        user=vendor, exchange=names.INTENTS_EXCHANGE, write=NOTHING, read=NOTHING
    )
    await api.set_topic_permission(refused)
    closed = await _close_connections(api, vendor)
    if recheck_s > 0:
        await asyncio.sleep(recheck_s)
        closed += await _close_connections(api, vendor)
    return closed


async def accept_publishes(api: ManagementApi, vendor: Vendor) -> None:
    await api.set_topic_permission(intents_topic_permission(vendor.name, vendor.offices))


async def _close_connections(api: ManagementApi, vendor: str) -> int:
    closed = 0
    for connection in await api.connections_of(vendor):
        closed += await api.close_connection(connection.name, CLOSE_REASON)
    return closed
