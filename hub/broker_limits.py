"""The broker's timers and counters the writer depends on, checked at start-up where they can be
read, and said in its log where they cannot.

- ``consumer_timeout`` (rabbitmq.conf, 30 min by default): RabbitMQ closes a channel whose
  delivery stays unacked longer. RabbitMQ 3.10's management API does not show it, so the hub is
  told (``HUB_BROKER_CONSUMER_TIMEOUT_S``); a lane keeps a delivery unacked for at most half of
  it, so one attempt (``HUB_WRITER__ATTEMPT_TIMEOUT_S``) must fit in that half.
- ``x-delivery-limit`` (each office queue; a policy's ``delivery-limit`` may lower it): a
  quorum queue dead-letters a message returned this often. The writer never hands back what it
  can keep, so only a writer dying on the same message again and again reaches it (a poison
  message); the effective limit is read from the management API.
- Prefetch: RabbitMQ has no byte prefetch, and a quorum queue's consumers no shared one, so the
  writer's budget of message bytes in hand (``HUB_WRITER__IN_HAND_BYTES``) is kept by each
  lane's count, sized by the largest message that office's agreements let its vendors send
  (docs/performance.md, "Memory").
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from contracts.limits import DEFAULT_MAX_BYTES, max_bytes
from hub import names
from hub.broker_admin import ManagementApi
from hub.errors import HubError
from hub.registry import Registry
from hub.settings import HubSettings, WriterSettings

log = logging.getLogger(__name__)

DELIVERY_LIMIT_ARGUMENT = "x-delivery-limit"
DELIVERY_LIMIT_POLICY = "delivery-limit"


class BrokerLimitsError(HubError):
    """The settings ask the writer to keep deliveries longer than the broker lets it."""


def hold_limit_s(settings: HubSettings) -> float:
    """The longest a lane keeps a delivery unacked: half the broker's timeout (it checks once
    per channel tick, and a delivery's age counts from when it reached the lane)."""
    return settings.broker_consumer_timeout_s / 2


def check_settings(settings: HubSettings) -> None:
    """Raise unless one attempt fits in the time a delivery may stay unacked."""
    attempt_s, limit_s = settings.writer.attempt_timeout_s, hold_limit_s(settings)
    timeout_s = settings.broker_consumer_timeout_s
    if attempt_s >= limit_s:
        raise BrokerLimitsError(
            f"HUB_WRITER__ATTEMPT_TIMEOUT_S ({attempt_s:g} s) must be below half the broker's "
            f"consumer_timeout (HUB_BROKER_CONSUMER_TIMEOUT_S {timeout_s:g} s): a delivery "
            "under way would outlive the time the writer may keep it unacked"
        )


def office_ceilings(registry: Registry) -> dict[str, int]:
    """Each office's largest message: the ceiling of the largest contract any vendor agreed
    with it (contracts/limits.py). An office whose vendors may upload documents gets Open
    Dental's body limit; the others a few hundred KiB at most."""
    ceilings = dict.fromkeys(registry.offices, DEFAULT_MAX_BYTES)
    for vendor in registry.vendors.values():
        for agreement in vendor.agreements:
            if agreement.office in ceilings:
                largest = max(map(max_bytes, agreement.contracts), default=DEFAULT_MAX_BYTES)
                ceilings[agreement.office] = max(ceilings[agreement.office], largest)
    return ceilings


def lane_prefetch(settings: WriterSettings, offices: int, ceiling_bytes: int) -> int:
    """One lane's prefetch: the configured one, lowered (to 1 at the least) so that the lane
    holding its prefetch of its office's largest messages (``ceiling_bytes``) stays within its
    even share of the writer's byte budget among ``offices`` lanes."""
    share = settings.in_hand_bytes // max(offices, 1)
    return max(1, min(settings.prefetch, share // ceiling_bytes))


def in_hand_at_most(settings: WriterSettings, registry: Registry) -> int:
    """The most message bytes the lanes may hold unacked: each its prefetch of its office's
    largest messages. Above ``in_hand_bytes`` only when more offices agreed document uploads
    than the budget holds one each."""
    ceilings = office_ceilings(registry)
    prefetches = lane_prefetches(settings, registry)
    return sum(prefetches[office] * ceilings[office] for office in ceilings)


def log_in_hand(settings: WriterSettings, registry: Registry) -> None:
    """Say what the lanes may hold; warn when it is more than the budget."""
    at_most, budget = in_hand_at_most(settings, registry), settings.in_hand_bytes
    mib = 1024 * 1024
    if at_most > budget:
        log.warning("the lanes may hold %d MiB of messages, above HUB_WRITER__IN_HAND_BYTES "
                    "(%d MiB): more offices agreed document uploads than it holds one each of; "
                    "the lanes may hold that much", at_most // mib, budget // mib)
    else:
        log.info("the lanes hold at most %d MiB of messages (HUB_WRITER__IN_HAND_BYTES %d MiB)",
                 at_most // mib, budget // mib)


def lane_prefetches(settings: WriterSettings, registry: Registry) -> dict[str, int]:
    """Every office lane's prefetch (``lane_prefetch`` with the office's own ceiling)."""
    ceilings = office_ceilings(registry)
    return {
        office: lane_prefetch(settings, len(ceilings), ceiling)
        for office, ceiling in ceilings.items()
    }


@dataclass(frozen=True, kw_only=True)
class QueueLimit:
    office: str
    argument: int | None  # the queue's x-delivery-limit
    policy: int | None  # a policy's delivery-limit

    @property
    def effective(self) -> int | None:
        limits = [limit for limit in (self.argument, self.policy) if limit is not None]
        return min(limits) if limits else None


async def office_queue_limits(api: ManagementApi, offices: Sequence[str]) -> list[QueueLimit]:
    """Each existing office queue's delivery limits, as the broker has them."""
    limits: list[QueueLimit] = []
    for office in offices:
        queue = await api.queue(names.office_queue(office))
        if queue is None:
            continue
        policy = queue.effective_policy_definition or {}
        limits.append(QueueLimit(
            office=office,
            argument=_number(queue.arguments.get(DELIVERY_LIMIT_ARGUMENT)),
            policy=_number(policy.get(DELIVERY_LIMIT_POLICY)),
        ))
    return limits


async def log_broker_limits(
    settings: HubSettings, api: ManagementApi, offices: Sequence[str]
) -> None:
    """Say what the writer relies on; warn where the broker's figures differ from the settings."""
    log.info("the broker's consumer_timeout is taken as %g s (HUB_BROKER_CONSUMER_TIMEOUT_S): "
             "no delivery stays unacked past %g s", settings.broker_consumer_timeout_s,
             hold_limit_s(settings))
    try:
        limits = await office_queue_limits(api, offices)
    except HubError as exc:
        log.warning("cannot read the office queues' delivery limits (%s)", exc)
        return
    expected = settings.office_delivery_limit
    odd = [limit for limit in limits if limit.effective != expected]
    for limit in odd:
        log.warning("office queue %s has a delivery limit of %s (argument %s, policy %s), not "
                    "the %d of HUB_OFFICE_DELIVERY_LIMIT", names.office_queue(limit.office),
                    limit.effective, limit.argument, limit.policy, expected)
    if limits and not odd:
        log.info("office queues: delivery limit %d on all %d", expected, len(limits))


def _number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
