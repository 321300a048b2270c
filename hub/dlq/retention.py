"""How long ``hub.dead`` keeps a dead letter: a RabbitMQ policy, and what it must not override.

A dead letter is the vendor's whole intent, names and birthdates included, so ``hub.dead`` keeps
it for ``HUB_DEAD_RETENTION_DAYS`` and no longer. The retention is a *policy*, not a queue
argument: the broker never changes a declared queue's arguments, while a policy is replaced by
putting it again, so ``hub topology`` (and ``hub worker`` at start) apply the setting as it is now.

    hub.dead ──message-ttl, dead-lettered at least once──▶ hub.dead.expired (exchange, #)
                                                            └─▶ hub.dead.expired (quorum queue)
                                                                 └─▶ the writer records it
                                                                     (hub/dlq/expiry_recorder.py)

Facts checked on RabbitMQ 3.10.8:

- A quorum queue takes ``message-ttl`` from a policy (3.10+). The TTL is fixed when a message
  enters the queue, and a quorum queue expires messages from its head: a new TTL applies to dead
  letters that arrive after the change, and one behind an older, longer-lived letter leaves when
  that one does.
- ``dead-letter-strategy: at-least-once`` keeps an expired letter in ``hub.dead`` until
  ``hub.dead.expired`` confirmed it (nothing is dropped unrecorded, even while the expiry queue
  is missing); the broker honours it only with ``overflow: reject-publish``. That overflow acts
  only at a length limit, and ``hub.dead`` has none, so the writer's confirmed dead-letter
  publishes are never refused for it.
- Only one policy applies to a queue: the matching one of highest priority. So a policy of the
  operator's that also matches ``hub.dead`` with a priority as high or higher would silently take
  the retention away: ``apply_retention`` refuses that, naming it. One of lower priority no
  longer applies to ``hub.dead``; that is said in the log.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from hub import names
from hub.broker_admin import ManagementApi, Policy
from hub.errors import HubError

log = logging.getLogger(__name__)

MS_PER_DAY = 86_400_000
RETENTION_PRIORITY = 10  # above a catch-all policy's usual 0; see the module's docstring
_APPLIES_TO_QUEUES = frozenset({"queues", "quorum_queues", "all"})  # the last is 3.12+


class RetentionError(HubError):
    """The retention policy could not be set, or another policy would take its place."""


@dataclass(frozen=True, kw_only=True)
class RetentionNames:
    """The dead-letter queue the policy is for, where its expired letters go, and the policy's
    name; tests use their own so that no test touches ``hub.dead``."""

    dead_queue: str = names.DEAD_LETTER_QUEUE
    expired_exchange: str = names.EXPIRED_EXCHANGE
    expired_queue: str = names.EXPIRED_QUEUE
    policy: str = names.RETENTION_POLICY


DEFAULT_RETENTION_NAMES = RetentionNames()


def retention_ms(days: float) -> int:
    """``HUB_DEAD_RETENTION_DAYS`` as the policy's ``message-ttl`` (ms; 1 at the least)."""
    return max(1, round(days * MS_PER_DAY))


def retention_policy(where: RetentionNames, days: float) -> Policy:
    """The policy for ``where.dead_queue`` alone (its exact name is the pattern)."""
    return Policy(
        name=where.policy,
        pattern=f"^{re.escape(where.dead_queue)}$",
        apply_to="queues",
        priority=RETENTION_PRIORITY,
        definition={
            "message-ttl": retention_ms(days),
            "dead-letter-exchange": where.expired_exchange,
            # Kept in the dead queue until the expiry queue confirmed it; needs reject-publish.
            "dead-letter-strategy": "at-least-once",
            "overflow": "reject-publish",
        },
    )


async def apply_retention(api: ManagementApi, where: RetentionNames, days: float) -> Policy:
    """Put the retention policy (replacing an older definition of it) once no other policy
    would override it on the dead queue; the policy as put. Declare ``where``'s expiry exchange
    and queue first, or the expired letters wait in the dead queue until they exist."""
    wanted = retention_policy(where, days)
    try:
        others = [p for p in await api.policies() if p.name != wanted.name]
    except HubError as exc:
        raise RetentionError(f"cannot set {wanted.name} on {where.dead_queue}: {exc}") from exc
    rivals = [p for p in others if _matches(p, where.dead_queue)]
    winning = [p for p in rivals if p.priority >= wanted.priority]
    if winning:
        named = ", ".join(f"{p.name} (priority {p.priority})" for p in winning)
        raise RetentionError(
            f"policy {named} also matches {where.dead_queue} with a priority of at least "
            f"{wanted.priority}, so {wanted.name} (HUB_DEAD_RETENTION_DAYS) would not apply: "
            "only one policy applies to a queue. Narrow its pattern or lower its priority"
        )
    for policy in rivals:
        log.warning("policy %s matches %s too; %s replaces it there", policy.name,
                    where.dead_queue, wanted.name)
    try:
        await api.put_policy(wanted)
    except HubError as exc:
        raise RetentionError(f"cannot set {wanted.name} on {where.dead_queue}: {exc}") from exc
    return wanted


def _matches(policy: Policy, queue: str) -> bool:
    """Whether the broker would apply ``policy`` to ``queue``: its pattern is searched in the
    name, as RabbitMQ does. An odd pattern Python cannot read is taken as matching."""
    if policy.apply_to not in _APPLIES_TO_QUEUES:
        return False
    try:
        return re.search(policy.pattern, queue) is not None
    except re.error:
        return True
