"""Dead-letter tools: list, show, replay and purge what waits in ``hub.dead``.

Reading never loses or reorders the queue (``scan``); a message leaves it only after its
replacement is safe: a replay's re-publish confirmed, a purge's audit committed. Replays and
purges are operator actions, audited (hub/audit) before the first message moves.

A dead letter stays at most ``HUB_DEAD_RETENTION_DAYS``: ``retention`` is the policy that says so,
``expiries`` the record of each one that expired (by intent id, never the body), and
``expiry_recorder`` the writer's consumer that writes that record before the body goes.
"""

from hub.audit import Operator
from hub.dlq.commands import (
    ReplayReport,
    ScanReport,
    list_dead_letters,
    replay_dead_letters,
    show_dead_letter,
)
from hub.dlq.filters import DeadLetterFilter, parse_moment
from hub.dlq.model import (
    DeadLetter,
    DlqError,
    DlqNames,
    ImpersonationRefused,
    ScanBounds,
    ScanEnd,
    ScanSummary,
    Source,
)
from hub.dlq.purge import Confirm, PurgePlan, PurgeReport, purge_dead_letters
from hub.dlq.replay import ReplayProgress, ReplayResult, ReplayStatus

__all__ = [
    "Confirm",
    "DeadLetter",
    "DeadLetterFilter",
    "DlqError",
    "DlqNames",
    "ImpersonationRefused",
    "Operator",
    "PurgePlan",
    "PurgeReport",
    "ReplayProgress",
    "ReplayReport",
    "ReplayResult",
    "ReplayStatus",
    "ScanBounds",
    "ScanEnd",
    "ScanReport",
    "ScanSummary",
    "Source",
    "list_dead_letters",
    "parse_moment",
    "purge_dead_letters",
    "replay_dead_letters",
    "show_dead_letter",
]
