"""The label values the hub's metrics may take, each from a bounded set.

Vendor and office come from the registry, contract from the contracts the hub serves; anything
else becomes ``unknown``. The rest are enums. No label ever carries an intent id, an idempotency
key, a patient field or an Open Dental primary key: a value outside its set is mapped, never
passed through, so a bad caller cannot explode the number of series.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from contracts.outcome import OutcomeReason, OutcomeStatus
from hub.errors import ThrottledError, TransientError
from hub.registry import V1_CONTRACTS, Registry

UNKNOWN = "unknown"
OTHER = "other"
NO_REASON = "none"
SHARED = "shared"  # the office label of a channel that serves every office
# Query names are constants in the code; this shape and cap keep a mistake from becoming a leak
# (a name built from data) or a flood of series.
QUERY_NAME = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
MAX_QUERY_NAMES = 100
MAX_WRAPPER_NAMES = 20


DUPLICATE = "duplicate"  # the outcome label of an intent decided before: its outcome is repeated
OUTCOME_LABELS = frozenset({*(status.value for status in OutcomeStatus), DUPLICATE})


def outcome_label(status: OutcomeStatus, *, duplicate: bool) -> str:
    """How one delivery of an intent ended, as counted: its ``OutcomeStatus``, or ``duplicate``
    when it repeats an earlier decision."""
    return DUPLICATE if duplicate else status.value


class LaneState(StrEnum):
    """What an office's lane is doing; exactly one is 1 at a time in ``hub_lane_state``."""

    RUNNING = "running"
    BACKING_OFF = "backing_off"  # a transient failure: the lane waits before retrying in place
    PAUSED = "paused"  # a 401, or an operator's pause: nothing is applied for the office


class PauseCause(StrEnum):
    """Why a paused lane is paused; exactly one is 1 in ``hub_lane_paused`` while it is."""

    AUTH = "auth"  # Open Dental refuses the office's keys (401)
    OPEN_DENTAL_DOWN = "open_dental_down"  # the office's Open Dental cannot be reached
    RECONCILE_UNAVAILABLE = "reconcile_unavailable"  # its database cannot be read to reconcile
    HUB = "hub"  # the hub's own ledger or broker failed
    OPERATOR = "operator"  # an operator paused the office
    OTHER = "other"

    @classmethod
    def of(cls, cause: str) -> PauseCause:
        known = {item.value for item in cls}
        return cls(cause) if cause in known else cls.OTHER


class StatusClass(StrEnum):
    """An Open Dental reply, by what it means to the hub; 401 and 429 stand apart."""

    OK = "2xx"
    REDIRECT = "3xx"
    UNAUTHORIZED = "401"
    THROTTLED = "429"
    CLIENT_ERROR = "4xx"
    SERVER_ERROR = "5xx"
    NO_RESPONSE = "none"  # timeout, refused or dropped connection: no status came back

    @classmethod
    def of(cls, status: int | None) -> StatusClass:
        if status is None:
            return cls.NO_RESPONSE
        special = {401: cls.UNAUTHORIZED, 429: cls.THROTTLED}
        by_hundred = {2: cls.OK, 3: cls.REDIRECT, 4: cls.CLIENT_ERROR, 5: cls.SERVER_ERROR}
        return special.get(status) or by_hundred.get(status // 100, cls.NO_RESPONSE)


class ErrorClass(StrEnum):
    """Why an attempt is retried."""

    THROTTLED = "throttled"  # Open Dental said too many requests
    MAYBE_APPLIED = "maybe_applied"  # the request may have reached Open Dental: reconcile first
    TRANSIENT = "transient"  # 5xx, 504, eConnector down, a database or broker hiccup
    TIMEOUT = "timeout"  # the writer's own per-attempt time limit ran out
    OPEN_DENTAL_DOWN = "open_dental_down"  # refused connection, eConnector down: the lane pauses
    HUB = "hub"  # the hub's own ledger or broker failed: the lane pauses
    # The office's database cannot be read to reconcile an attempt in doubt: the lane pauses
    RECONCILE_UNAVAILABLE = "reconcile_unavailable"
    CRASHED = "crashed"  # the writer failed on the delivery unexpectedly (a bug)
    OTHER = "other"

    @classmethod
    def of(cls, error: BaseException) -> ErrorClass:
        if isinstance(error, ThrottledError):
            return cls.THROTTLED
        if isinstance(error, TransientError):
            return cls.MAYBE_APPLIED if error.maybe_applied else cls.TRANSIENT
        if isinstance(error, TimeoutError):
            return cls.TIMEOUT
        return cls.OTHER


class Reconciled(StrEnum):
    """What the office's database said of an attempt in doubt (hub/reconcile's verdicts)."""

    FOUND = "found"  # the row is there: applied, nothing sent again
    NOT_FOUND = "not_found"  # a create that did not land: sent again
    SAFE_TO_RESEND = "safe_to_resend"  # an update: sent again
    AMBIGUOUS = "ambiguous"  # several candidate rows: dead, for a person
    OTHER = "other"

    @classmethod
    def of(cls, verdict: str) -> Reconciled:
        """From the verdict's class name (``NotFound``) or its value (``not_found``)."""
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", verdict).lower()
        return cls(snake) if snake in {item.value for item in cls} else cls.OTHER


class SqlResult(StrEnum):
    OK = "ok"
    ERROR = "error"


class ChannelRole(StrEnum):
    """Which of the writer's AMQP channels: what it carries."""

    CONSUME = "consume"  # deliveries from office queues, and their acks
    PUBLISH = "publish"  # outcome events and dead letters, with confirms


class BrokerReply(StrEnum):
    """Why the broker closed a connection or a channel: its AMQP reply code's name."""

    CONTENT_TOO_LARGE = "content_too_large"
    NO_ROUTE = "no_route"
    NO_CONSUMERS = "no_consumers"
    CONNECTION_FORCED = "connection_forced"  # an operator, or the node shutting down
    INVALID_PATH = "invalid_path"
    ACCESS_REFUSED = "access_refused"
    NOT_FOUND = "not_found"
    RESOURCE_LOCKED = "resource_locked"
    PRECONDITION_FAILED = "precondition_failed"
    # A 406 of its own: a delivery stayed unacked past the node's consumer_timeout.
    CONSUMER_TIMEOUT = "consumer_timeout"
    FRAME_ERROR = "frame_error"
    SYNTAX_ERROR = "syntax_error"
    COMMAND_INVALID = "command_invalid"
    CHANNEL_ERROR = "channel_error"
    UNEXPECTED_FRAME = "unexpected_frame"
    RESOURCE_ERROR = "resource_error"
    NOT_ALLOWED = "not_allowed"
    NOT_IMPLEMENTED = "not_implemented"
    INTERNAL_ERROR = "internal_error"
    LOST = "lost"  # no close came: the TCP connection dropped or missed its heartbeats
    OTHER = "other"

    @classmethod
    def of(cls, code: int, text: str = "") -> BrokerReply:
        """From the reply code, and the reply text to tell a consumer timeout from other 406s."""
        if code == 406 and CONSUMER_TIMEOUT_TEXT.search(text):
            return cls.CONSUMER_TIMEOUT
        return REPLY_CODES.get(code, cls.OTHER)


# RabbitMQ's words for it (3.8 to 4.x): "delivery acknowledgement on channel 1 timed out".
CONSUMER_TIMEOUT_TEXT = re.compile(r"delivery acknowledgement on channel \d+ timed out")
REPLY_CODES: Mapping[int, BrokerReply] = {
    311: BrokerReply.CONTENT_TOO_LARGE, 312: BrokerReply.NO_ROUTE, 313: BrokerReply.NO_CONSUMERS,
    320: BrokerReply.CONNECTION_FORCED, 402: BrokerReply.INVALID_PATH,
    403: BrokerReply.ACCESS_REFUSED, 404: BrokerReply.NOT_FOUND, 405: BrokerReply.RESOURCE_LOCKED,
    406: BrokerReply.PRECONDITION_FAILED, 501: BrokerReply.FRAME_ERROR,
    502: BrokerReply.SYNTAX_ERROR, 503: BrokerReply.COMMAND_INVALID,
    504: BrokerReply.CHANNEL_ERROR, 505: BrokerReply.UNEXPECTED_FRAME,
    506: BrokerReply.RESOURCE_ERROR, 530: BrokerReply.NOT_ALLOWED,
    540: BrokerReply.NOT_IMPLEMENTED, 541: BrokerReply.INTERNAL_ERROR,
}


def reason_label(reason: OutcomeReason | str | None) -> str:
    """``none`` for an applied intent, the outcome reason's code otherwise (``other`` if
    unknown)."""
    if reason is None:
        return NO_REASON
    known = {item.value for item in OutcomeReason}
    return str(reason) if str(reason) in known else OTHER


# Every Open Dental request the client makes, by method and path with ids replaced by {id}.
OD_OPERATIONS = frozenset(
    {
        "POST /patients",
        "PUT /patients/{id}",
        "GET /patients/{id}",
        "GET /patients/Simple",
        "GET /patients",
        "POST /appointments",
        "PUT /appointments/{id}",
        "PUT /appointments/{id}/Confirm",
        "PUT /appointments/{id}/Break",
        "PUT /appointments/{id}/Note",
        "GET /appointments",
        "GET /appointments/{id}",
        "POST /commlogs",
        "GET /commlogs",
        "POST /payments",
        "GET /payments",
        "POST /payments/Refund",
        "POST /documents/Upload",
        "GET /documents",
        "POST /patfields",
        "PUT /patfields",
        "GET /patfields",
        "POST /allergies",
        "GET /allergies",
        "POST /medicationpats",
        "GET /medicationpats",
        "POST /diseases",
        "GET /diseases",
        "GET /definitions",
        "GET /operatories",
        "GET /providers",
        "GET /securitylogs",
    }
)
_NUMBER = re.compile(r"/\d+(?=/|$)")


def od_operation(method: str, path: str) -> str:
    """``POST /patients``, ``PUT /appointments/{id}/Confirm``…; ``other`` outside the set.

    ``path`` is relative to the API's base URL (``/patients/12``), without a query string."""
    template = f"{method.upper()} {_NUMBER.sub('/{id}', path.split('?', 1)[0].rstrip('/'))}"
    return template if template in OD_OPERATIONS else OTHER


@dataclass(frozen=True, kw_only=True)
class LabelBounds:
    """The vendors, offices and contracts a metric label may name; the rest is ``unknown``."""

    vendors: frozenset[str]
    offices: frozenset[str]
    contracts: frozenset[str] = V1_CONTRACTS
    # (vendor, office, contract) of every data agreement: the series worth creating at start.
    agreements: frozenset[tuple[str, str, str]] = frozenset()

    @classmethod
    def from_registry(
        cls, registry: Registry, contracts: Iterable[str] = V1_CONTRACTS
    ) -> LabelBounds:
        known = frozenset(contracts)
        agreements = frozenset(
            (vendor.name, agreement.office, contract)
            for vendor in registry.vendors.values()
            for agreement in vendor.agreements
            for contract in agreement.contracts
            if contract in known
        )
        return cls(
            vendors=frozenset(registry.vendors),
            offices=frozenset(registry.offices),
            contracts=known,
            agreements=agreements,
        )

    def vendor(self, name: str | None) -> str:
        return _within(name, self.vendors)

    def office(self, office_id: str | None) -> str:
        return _within(office_id, self.offices)

    def contract(self, name: str | None) -> str:
        return _within(name, self.contracts)


def _within(value: str | None, allowed: frozenset[str]) -> str:
    return value if value is not None and value in allowed else UNKNOWN


class QueryNames:
    """Admits names from the code (queries, wrappers) as label values: a name that looks like
    one, up to a cap; the rest are ``other``."""

    def __init__(self, cap: int = MAX_QUERY_NAMES) -> None:
        self._cap = cap
        self._seen: set[str] = set()

    def __call__(self, name: str) -> str:
        if name in self._seen:
            return name
        if not QUERY_NAME.match(name) or len(self._seen) >= self._cap:
            return OTHER
        self._seen.add(name)
        return name
