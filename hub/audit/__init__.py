"""The operators' audit trail: every operator action, recorded before it takes effect.

    hub vendor add|remove, hub vendor add --rotate-password ─┐
    hub office|vendor pause|resume                           │  audit(): begin (pending, committed)
    hub dlq replay|purge                                     ├─▶ ─▶ the action ─▶ ok / failed
    registry loads (hub worker, hub topology, hub vendor add)┘      operator_audit (append-only)
                                                                          │
                                                             hub audit ◀──┘ (lists and filters)

Each row says who (the OS user and the operator's name), when (the database's clock), what (an
``AuditAction`` and its target, with details: ids, counts, a file's hash) and how it ended. If
the row cannot be written the action does not happen. The table refuses deletes and every
update but the one that records a pending row's result (ledger migration 10).
"""

from hub.audit.audited import Run, audit, audited, error_code
from hub.audit.model import (
    AuditAction,
    AuditEntry,
    AuditError,
    AuditFilter,
    AuditResult,
    AuditRow,
    AuditTrail,
    Details,
    JsonValue,
    Operator,
    operator_of,
    os_user,
)
from hub.audit.mysql_trail import MySqlAuditTrail, mysql_trail

__all__ = [
    "AuditAction",
    "AuditEntry",
    "AuditError",
    "AuditFilter",
    "AuditResult",
    "AuditRow",
    "AuditTrail",
    "Details",
    "JsonValue",
    "MySqlAuditTrail",
    "Operator",
    "Run",
    "audit",
    "audited",
    "error_code",
    "mysql_trail",
    "operator_of",
    "os_user",
]
