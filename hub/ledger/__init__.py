"""The ledger: the writer's durable memory in the hub's MariaDB database.

It makes each intent take effect at most once, remembers every Open Dental API call, and traces
an Open Dental row back to the vendor and message that caused it. ``port`` says what callers may
ask; ``MySqlLedger`` answers; ``migrate`` keeps the schema current.
"""

from hub.ledger.migrator import MigrationState, migrate, migration_status
from hub.ledger.models import (
    ApiCallRecord,
    ApiCallRow,
    Charge,
    ClaimResult,
    Conflict,
    Finish,
    Finished,
    Fresh,
    InDoubt,
    IntentClaim,
    IntentRow,
    IntentStatus,
    IntentStory,
    NewRef,
    RefKind,
    RefRow,
    Resumed,
    RetryBudget,
)
from hub.ledger.mysql_ledger import MySqlLedger
from hub.ledger.port import Ledger, LedgerTrace, QueryObserver

__all__ = [
    "ApiCallRecord",
    "ApiCallRow",
    "Charge",
    "ClaimResult",
    "Conflict",
    "Finish",
    "Finished",
    "Fresh",
    "InDoubt",
    "IntentClaim",
    "IntentRow",
    "IntentStatus",
    "IntentStory",
    "Ledger",
    "LedgerTrace",
    "MigrationState",
    "MySqlLedger",
    "NewRef",
    "QueryObserver",
    "RefKind",
    "RefRow",
    "Resumed",
    "RetryBudget",
    "migrate",
    "migration_status",
]
