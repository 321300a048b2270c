"""``hub trace``: from an intent to the Open Dental row it produced, and from a row back to every
intent and vendor that touched it (DESIGN.md invariant 6).

The ledger knows who sent what and every API call it caused; Open Dental's ``securitylog`` knows
what happened to the row but names only the hub's developer key. A trace joins the two, reading
Open Dental only through ``ReadOnlyDatabase`` (invariant 5). ``queries`` asks, ``attribution``
pairs audit entries with API calls, ``text_view`` and ``json_view`` render (the JSON shape is in
``json_view``'s docstring), ``run`` builds it all from the settings and the registry.
"""

from hub.trace.json_view import intent_json, row_json
from hub.trace.models import (
    AuditLine,
    Cause,
    IntentTrace,
    OdRow,
    OfficeLog,
    RowAudit,
    RowTrace,
    TimedEntry,
)
from hub.trace.office_log import OfficeAudit, SqlOfficeAudit
from hub.trace.queries import row_of, stories_of, trace_intent, trace_row
from hub.trace.run import choose_office, run_intent_trace, run_row_trace
from hub.trace.targets import (
    IntentTarget,
    RowTarget,
    TraceError,
    parse_intent_target,
    parse_row_target,
)
from hub.trace.text_view import intent_text, row_text

__all__ = [
    "AuditLine",
    "Cause",
    "IntentTarget",
    "IntentTrace",
    "OdRow",
    "OfficeAudit",
    "OfficeLog",
    "RowAudit",
    "RowTarget",
    "RowTrace",
    "SqlOfficeAudit",
    "TimedEntry",
    "TraceError",
    "choose_office",
    "intent_json",
    "intent_text",
    "parse_intent_target",
    "parse_row_target",
    "row_json",
    "row_of",
    "row_text",
    "run_intent_trace",
    "run_row_trace",
    "stories_of",
    "trace_intent",
    "trace_row",
]
