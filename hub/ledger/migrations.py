"""The ledger's schema, as an ordered list of versioned migrations. Append; never edit one that
has shipped.

Keys and references are compared byte-exactly: ``utf8mb4_nopad_bin`` (``utf8mb4_bin`` is a PAD
SPACE collation in MariaDB, so "k1" and "k1 " would be one key). Times are UTC ``DATETIME(6)``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


EXACT = "CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin"
CODE = "CHARACTER SET ascii COLLATE ascii_bin"
TABLE_OPTIONS = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"

SCHEMA_MIGRATIONS_DDL = f"""
CREATE TABLE schema_migrations (
    version INT UNSIGNED NOT NULL PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    applied_at DATETIME(6) NOT NULL
) {TABLE_OPTIONS}
"""

_INTENTS = f"""
CREATE TABLE intents (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    vendor VARCHAR(64) {EXACT} NOT NULL,
    idempotency_key VARCHAR(128) {EXACT} NOT NULL,
    payload_hash CHAR(64) {CODE} NOT NULL,
    contract VARCHAR(64) {CODE} NOT NULL,
    contract_version SMALLINT UNSIGNED NOT NULL,
    office_id VARCHAR(64) {EXACT} NOT NULL,
    status VARCHAR(16) {CODE} NOT NULL,
    attempts INT UNSIGNED NOT NULL DEFAULT 0,
    deliveries INT UNSIGNED NOT NULL DEFAULT 1,
    received_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    attempt_started_at DATETIME(6) NULL,
    finished_at DATETIME(6) NULL,
    expires_at DATETIME(6) NOT NULL,
    message_id VARCHAR(255) {EXACT} NULL,
    correlation_id VARCHAR(255) {EXACT} NULL,
    od_table VARCHAR(64) {CODE} NULL,
    od_primary_key BIGINT NULL,
    reason VARCHAR(64) {CODE} NULL,
    last_error TEXT NULL,
    outcome_json MEDIUMTEXT {EXACT} NULL,
    CONSTRAINT ck_intents_status
        CHECK (status IN ('received', 'attempting', 'applied', 'rejected', 'dead')),
    UNIQUE KEY uq_intents_vendor_key (vendor, idempotency_key),
    KEY ix_intents_od_row (office_id, od_table, od_primary_key),
    KEY ix_intents_status_updated (status, updated_at),
    KEY ix_intents_expires (expires_at)
) {TABLE_OPTIONS}
"""

_API_CALLS = f"""
CREATE TABLE api_calls (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    intent_id BIGINT UNSIGNED NOT NULL,
    attempt INT UNSIGNED NOT NULL,
    method VARCHAR(8) {CODE} NOT NULL,
    path VARCHAR(255) {EXACT} NOT NULL,
    status SMALLINT UNSIGNED NULL,
    latency_ms INT UNSIGNED NOT NULL,
    od_primary_key BIGINT NULL,
    message VARCHAR(500) NULL,
    started_at DATETIME(6) NOT NULL,
    KEY ix_api_calls_intent (intent_id, id),
    CONSTRAINT fk_api_calls_intent FOREIGN KEY (intent_id) REFERENCES intents (id)
        ON DELETE CASCADE
) {TABLE_OPTIONS}
"""

# intent_id has no foreign key on purpose: a ref outlives its purged intent, because it maps a
# real Open Dental row, and the id still matches the writer's logs.
_VENDOR_REFS = f"""
CREATE TABLE vendor_refs (
    vendor VARCHAR(64) {EXACT} NOT NULL,
    office_id VARCHAR(64) {EXACT} NOT NULL,
    kind VARCHAR(16) {CODE} NOT NULL,
    ref VARCHAR(128) {EXACT} NOT NULL,
    od_primary_key BIGINT NOT NULL,
    intent_id BIGINT UNSIGNED NOT NULL,
    created_at DATETIME(6) NOT NULL,
    CONSTRAINT ck_vendor_refs_kind CHECK (kind IN ('patient', 'appointment')),
    PRIMARY KEY (vendor, office_id, kind, ref),
    KEY ix_vendor_refs_intent (intent_id)
) {TABLE_OPTIONS}
"""

# ``hub dlq purge``'s audit: who removed which dead letters, written and committed before the
# broker is told to drop them. The filter is stored as the JSON the command printed for
# confirmation; message rows name the intents only, never their bodies.
_DLQ_PURGES = f"""
CREATE TABLE dlq_purges (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    purged_at DATETIME(6) NOT NULL,
    os_user VARCHAR(64) {EXACT} NULL,
    operator VARCHAR(128) {EXACT} NULL,
    queue VARCHAR(255) {EXACT} NOT NULL,
    filter_json TEXT {EXACT} NOT NULL,
    message_count INT UNSIGNED NOT NULL,
    KEY ix_dlq_purges_at (purged_at)
) {TABLE_OPTIONS}
"""

_DLQ_PURGED_MESSAGES = f"""
CREATE TABLE dlq_purged_messages (
    purge_id BIGINT UNSIGNED NOT NULL,
    position INT UNSIGNED NOT NULL,
    message_id VARCHAR(255) {EXACT} NULL,
    vendor VARCHAR(64) {EXACT} NULL,
    idempotency_key VARCHAR(128) {EXACT} NULL,
    office_id VARCHAR(64) {EXACT} NULL,
    contract VARCHAR(64) {CODE} NULL,
    reason VARCHAR(64) {CODE} NULL,
    dead_lettered_at DATETIME(6) NULL,
    PRIMARY KEY (purge_id, position),
    KEY ix_dlq_purged_messages_intent (vendor, idempotency_key),
    CONSTRAINT fk_dlq_purged_messages_purge FOREIGN KEY (purge_id) REFERENCES dlq_purges (id)
        ON DELETE CASCADE
) {TABLE_OPTIONS}
"""

# Operations (hub/control): an operator's pause of an office lane or of a vendor, polled by every
# writer; the log of pauses and resumes; and what each writer's lanes are doing, for `hub status`.
# ``reason`` and ``last_error`` are operators' words and error codes, never patient data.
_PAUSES = f"""
CREATE TABLE pauses (
    kind VARCHAR(8) {CODE} NOT NULL,
    name VARCHAR(64) {EXACT} NOT NULL,
    paused_by VARCHAR(128) {EXACT} NOT NULL,
    reason VARCHAR(500) NULL,
    paused_at DATETIME(6) NOT NULL,
    CONSTRAINT ck_pauses_kind CHECK (kind IN ('office', 'vendor')),
    PRIMARY KEY (kind, name)
) {TABLE_OPTIONS}
"""

_PAUSE_LOG = f"""
CREATE TABLE pause_log (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    kind VARCHAR(8) {CODE} NOT NULL,
    name VARCHAR(64) {EXACT} NOT NULL,
    action VARCHAR(8) {CODE} NOT NULL,
    operator VARCHAR(128) {EXACT} NOT NULL,
    reason VARCHAR(500) NULL,
    at DATETIME(6) NOT NULL,
    CONSTRAINT ck_pause_log_action CHECK (action IN ('pause', 'resume')),
    KEY ix_pause_log_name (kind, name, id)
) {TABLE_OPTIONS}
"""

_LANE_STATUS = f"""
CREATE TABLE lane_status (
    office_id VARCHAR(64) {EXACT} NOT NULL,
    writer_id VARCHAR(128) {EXACT} NOT NULL,
    state VARCHAR(16) {CODE} NOT NULL,
    in_flight INT UNSIGNED NOT NULL,
    last_error VARCHAR(200) NULL,
    last_error_at DATETIME(6) NULL,
    updated_at DATETIME(6) NOT NULL,
    PRIMARY KEY (office_id, writer_id),
    KEY ix_lane_status_writer (writer_id)
) {TABLE_OPTIONS}
"""

# The writer's retry budget, kept durably: attempts that do not count against max_attempts
# (probes of a paused lane, and every attempt before an operator's replay reopened the intent),
# and when the current run of retries began (the clock of the writer's max total time).
_RETRY_BUDGET = """
ALTER TABLE intents
    ADD COLUMN free_attempts INT UNSIGNED NOT NULL DEFAULT 0 AFTER attempts,
    ADD COLUMN retrying_since DATETIME(6) NULL AFTER attempt_started_at
"""

# Custody (hub/custody): deliveries an office's lane took off the broker without deciding them,
# so that no broker timer decides for the hub during a long hold or a vendor's pause, in the
# order the broker delivered them (``id``); and each office's hold, the lock of the one writer
# that may drain them. A parked row is the vendor's message itself (body and AMQP properties,
# which can hold patient data); it is deleted as soon as the delivery is decided.
_OFFICE_HOLDS = f"""
CREATE TABLE office_holds (
    office_id VARCHAR(64) {EXACT} NOT NULL PRIMARY KEY,
    writer_id VARCHAR(128) {EXACT} NOT NULL,
    cause VARCHAR(32) {CODE} NOT NULL,
    since DATETIME(6) NOT NULL,
    renewed_at DATETIME(6) NOT NULL,
    KEY ix_office_holds_writer (writer_id)
) {TABLE_OPTIONS}
"""

_PARKED_DELIVERIES = f"""
CREATE TABLE parked_deliveries (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    office_id VARCHAR(64) {EXACT} NOT NULL,
    vendor VARCHAR(64) {EXACT} NULL,
    exchange VARCHAR(64) {EXACT} NOT NULL,
    cause VARCHAR(32) {CODE} NOT NULL,
    held INT UNSIGNED NOT NULL,
    crashes INT UNSIGNED NOT NULL,
    properties BLOB NOT NULL,
    body LONGBLOB NOT NULL,
    parked_by VARCHAR(128) {EXACT} NOT NULL,
    parked_at DATETIME(6) NOT NULL,
    KEY ix_parked_office (office_id, id)
) {TABLE_OPTIONS}
"""

# Which writer process began an intent's latest attempt (hub/control's writer id): a writer
# reconciles its own attempt in doubt at once, as it knows that attempt is over, and waits out
# the attempt's time limit only for another writer's.
_ATTEMPT_WRITER = f"""
ALTER TABLE intents ADD COLUMN attempt_writer VARCHAR(128) {EXACT} NULL AFTER attempt_started_at
"""

# The outbox of outcome events (hub/outbox): an outcome the broker would not take (the vendor's
# outcome queue missing or full, no confirm) waits here, in decision order (``id``), for the
# relay, so that one vendor's outcomes never hold an office's lane. ``event_json`` is the event as
# the vendor will receive it, like ``intents.outcome_json`` (stored, never logged); a row is
# deleted once the broker confirmed it, or dropped after the ledger's retention.
_OUTCOME_OUTBOX = f"""
CREATE TABLE outcome_outbox (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    vendor VARCHAR(64) {EXACT} NOT NULL,
    office_id VARCHAR(64) {EXACT} NOT NULL,
    intent_id BIGINT UNSIGNED NULL,
    routing_key VARCHAR(255) {EXACT} NOT NULL,
    correlation_id VARCHAR(255) {EXACT} NULL,
    event_json MEDIUMTEXT {EXACT} NOT NULL,
    created_at DATETIME(6) NOT NULL,
    attempts INT UNSIGNED NOT NULL DEFAULT 0,
    last_error VARCHAR(500) NULL,
    last_attempt_at DATETIME(6) NULL,
    KEY ix_outcome_outbox_vendor (vendor, id)
) {TABLE_OPTIONS}
"""

# The operators' audit trail (hub/audit): one row per operator action, written and committed
# (result ``pending``) before the action takes effect, its result (``ok`` or ``failed`` with an
# error code, and what the action reported in ``outcome``) recorded after. ``details`` and
# ``outcome`` are JSON of ids, counts, hashes and operators' words; never patient data or a
# password. Append-only: the triggers refuse every DELETE, and every UPDATE but the one that
# records a pending row's result (``result``, ``error``, ``outcome``, ``finished_at``). They guard
# against the hub's own code; an account that may drop triggers or tables is held back only by
# its grants (docs/operations.md, "Audit trail").
_OPERATOR_AUDIT = f"""
CREATE TABLE operator_audit (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    at DATETIME(6) NOT NULL,
    os_user VARCHAR(64) {EXACT} NULL,
    operator VARCHAR(128) {EXACT} NOT NULL,
    action VARCHAR(32) {CODE} NOT NULL,
    target VARCHAR(255) {EXACT} NOT NULL,
    details MEDIUMTEXT {EXACT} NOT NULL,
    result VARCHAR(8) {CODE} NOT NULL,
    error VARCHAR(64) {CODE} NULL,
    outcome MEDIUMTEXT {EXACT} NULL,
    finished_at DATETIME(6) NULL,
    CONSTRAINT ck_operator_audit_result CHECK (result IN ('pending', 'ok', 'failed')),
    CONSTRAINT ck_operator_audit_details CHECK (JSON_VALID(details)),
    CONSTRAINT ck_operator_audit_outcome CHECK (outcome IS NULL OR JSON_VALID(outcome)),
    KEY ix_operator_audit_at (at),
    KEY ix_operator_audit_action (action, id),
    KEY ix_operator_audit_operator (operator, id),
    KEY ix_operator_audit_target (target, id)
) {TABLE_OPTIONS}
"""

# What operators did before the trail existed joins it, in time order: each purge recorded in
# ``dlq_purges`` (recorded before its messages left the queue, its end never recorded: so
# ``pending``), and each pause and resume in ``pause_log`` (committed with the pause itself: so
# ``ok``). A purge's manifest of messages stays in ``dlq_purged_messages``; ``dlq_purges``
# points at its audit row from now on.
_LEGACY_OPERATOR_ACTIONS = """
INSERT INTO operator_audit (at, os_user, operator, action, target, details, result, finished_at)
SELECT at, os_user, operator, action, target, details, result, finished_at FROM (
    SELECT purged_at AS at, os_user, COALESCE(operator, os_user, 'unknown') AS operator,
        'dlq_purge' AS action, queue AS target,
        JSON_OBJECT('queue', queue, 'filter', JSON_QUERY(filter_json, '$'),
            'letters', message_count, 'purge_id', id, 'recorded_in', 'dlq_purges') AS details,
        'pending' AS result, NULL AS finished_at
    FROM dlq_purges
    UNION ALL
    SELECT at, NULL, operator, CONCAT(kind, '_', action), name,
        JSON_OBJECT('reason', reason, 'recorded_in', 'pause_log'), 'ok', at
    FROM pause_log
) AS legacy ORDER BY at
"""

_PURGE_AUDIT_ID = """
ALTER TABLE dlq_purges
    ADD COLUMN audit_id BIGINT UNSIGNED NULL AFTER id,
    ADD KEY ix_dlq_purges_audit (audit_id)
"""

_LEGACY_PURGE_AUDIT_IDS = """
UPDATE dlq_purges p JOIN operator_audit a
    ON a.action = 'dlq_purge' AND JSON_VALUE(a.details, '$.purge_id') = p.id
SET p.audit_id = a.id
"""

_AUDIT_NO_DELETE = """
CREATE TRIGGER operator_audit_no_delete BEFORE DELETE ON operator_audit FOR EACH ROW
    SIGNAL SQLSTATE '45000'
        SET MESSAGE_TEXT = 'operator_audit is append-only: no row is ever deleted'
"""

_AUDIT_RESULT_ONLY = """
CREATE TRIGGER operator_audit_result_only BEFORE UPDATE ON operator_audit FOR EACH ROW
BEGIN
    IF OLD.result <> 'pending' OR NEW.result = 'pending'
        OR NOT (NEW.id <=> OLD.id AND NEW.at <=> OLD.at AND NEW.os_user <=> OLD.os_user
            AND NEW.operator <=> OLD.operator AND NEW.action <=> OLD.action
            AND NEW.target <=> OLD.target AND NEW.details <=> OLD.details)
    THEN
        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT =
            'operator_audit is append-only: only a pending row''s result may be set, once';
    END IF;
END
"""

# hub.dead's retention (hub/dlq/retention.py): one row per dead letter that expired from a
# dead-letter queue, naming the intent (never its body), written by the writer's expiry recorder
# before it acks the expired message, so the body is gone and the record stays. ``expiry_key`` is
# the SHA-256 of what identifies one expiry (hub/dlq/expiries.py): a redelivered expiry, or two
# writers recording it, make one row. Append-only like the audit trail: the triggers refuse every
# DELETE and UPDATE.
_DEAD_LETTER_EXPIRIES = f"""
CREATE TABLE dead_letter_expiries (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    expiry_key CHAR(64) {CODE} NOT NULL,
    queue VARCHAR(255) {EXACT} NOT NULL,
    source VARCHAR(8) {CODE} NOT NULL,
    intent_id BIGINT UNSIGNED NULL,
    vendor VARCHAR(64) {EXACT} NULL,
    idempotency_key VARCHAR(128) {EXACT} NULL,
    message_id VARCHAR(255) {EXACT} NULL,
    office_id VARCHAR(64) {EXACT} NULL,
    contract VARCHAR(64) {CODE} NULL,
    reason VARCHAR(64) {CODE} NULL,
    dead_lettered_at DATETIME(6) NULL,
    expired_at DATETIME(6) NULL,
    recorded_at DATETIME(6) NOT NULL,
    UNIQUE KEY uq_dead_letter_expiries_key (expiry_key),
    KEY ix_dead_letter_expiries_recorded (recorded_at),
    KEY ix_dead_letter_expiries_intent (vendor, idempotency_key),
    KEY ix_dead_letter_expiries_office (office_id, recorded_at)
) {TABLE_OPTIONS}
"""

_EXPIRIES_NO_DELETE = """
CREATE TRIGGER dead_letter_expiries_no_delete BEFORE DELETE ON dead_letter_expiries
FOR EACH ROW SIGNAL SQLSTATE '45000'
    SET MESSAGE_TEXT = 'dead_letter_expiries is append-only: no row is ever deleted'
"""

_EXPIRIES_NO_UPDATE = """
CREATE TRIGGER dead_letter_expiries_no_update BEFORE UPDATE ON dead_letter_expiries
FOR EACH ROW SIGNAL SQLSTATE '45000'
    SET MESSAGE_TEXT = 'dead_letter_expiries is append-only: no row is ever changed'
"""

# A vendor's own reference may name a payment (payment.create registers it, payment.refund uses
# it). MariaDB checks a CHECK constraint on every write, so the old one goes and the wider comes.
_PAYMENT_REFS = """
ALTER TABLE vendor_refs DROP CONSTRAINT ck_vendor_refs_kind,
    ADD CONSTRAINT ck_vendor_refs_kind CHECK (kind IN ('patient', 'appointment', 'payment'))
"""

# sheet.fill's recovery points: one row per call that took effect, committed before the next call
# (hub/writer/sheet_fill.py). seq 0: the sheet was made (sheet_num); 1: its fields were listed
# (detail: each field's SheetFieldNum, FieldType and value as made, JSON); 2 and on: one field
# was set (field_name, sheet_field_num). The primary key refuses a step recorded twice.
_SHEET_FILL_STEPS = f"""
CREATE TABLE sheet_fill_steps (
    intent_id BIGINT UNSIGNED NOT NULL,
    seq INT UNSIGNED NOT NULL,
    kind VARCHAR(16) {CODE} NOT NULL,
    sheet_num BIGINT NULL,
    field_name VARCHAR(255) {EXACT} NULL,
    sheet_field_num BIGINT NULL,
    detail MEDIUMTEXT NULL,
    recorded_at DATETIME(6) NOT NULL,
    PRIMARY KEY (intent_id, seq),
    CONSTRAINT fk_sheet_fill_steps_intent FOREIGN KEY (intent_id) REFERENCES intents (id)
        ON DELETE CASCADE
) {TABLE_OPTIONS}
"""

# hub watch (hub/watch): every change in an office's Open Dental rows, attributed to its door.
# Only ids, column names and digests are kept, never values.
# - watch_cursors: where each table's scan of each office goes on from (the office's local
#   DateTStamp, then the key);
# - watch_rows: each row's last-seen stamp and, per column, a keyed digest of its value (JSON,
#   name -> hex), so that the next change names its columns and a stale SecurityHash shows, and
#   the last securitylog row that explained one of its changes (never used for another);
# - watch_changes: one row per change, with its door; a change is one state of a row (its stamp
#   and the digest of all its columns: DateTStamp keeps whole seconds, so two changes within one
#   second share a stamp), recorded once however many times it was seen;
# - watch_digest_key: the random key of those digests, made once by the first watch, so that a
#   digest cannot be looked up in a table of every birthdate.
_WATCH_CURSORS = f"""
CREATE TABLE watch_cursors (
    office_id VARCHAR(64) {EXACT} NOT NULL,
    od_table VARCHAR(64) {CODE} NOT NULL,
    stamp DATETIME NOT NULL,
    last_key BIGINT NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    PRIMARY KEY (office_id, od_table)
) {TABLE_OPTIONS}
"""

_WATCH_ROWS = f"""
CREATE TABLE watch_rows (
    office_id VARCHAR(64) {EXACT} NOT NULL,
    od_table VARCHAR(64) {CODE} NOT NULL,
    od_key BIGINT NOT NULL,
    stamp DATETIME NOT NULL,
    digests MEDIUMTEXT {CODE} NOT NULL,
    last_log BIGINT NULL,
    seen_at DATETIME(6) NOT NULL,
    PRIMARY KEY (office_id, od_table, od_key),
    KEY ix_watch_rows_seen (seen_at)
) {TABLE_OPTIONS}
"""

_WATCH_CHANGES = f"""
CREATE TABLE watch_changes (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    office_id VARCHAR(64) {EXACT} NOT NULL,
    od_table VARCHAR(64) {CODE} NOT NULL,
    od_key BIGINT NOT NULL,
    stamp DATETIME NOT NULL,
    row_digest CHAR(16) {CODE} NOT NULL,
    changed_at DATETIME(6) NOT NULL,
    door VARCHAR(32) {CODE} NOT NULL,
    vendor VARCHAR(64) {EXACT} NULL,
    intent_id BIGINT UNSIGNED NULL,
    user_num BIGINT NULL,
    dev_name VARCHAR(255) {EXACT} NULL,
    securitylog_num BIGINT NULL,
    stale_hash BOOLEAN NOT NULL DEFAULT FALSE,
    first_seen BOOLEAN NOT NULL DEFAULT FALSE,
    columns_changed TEXT {CODE} NOT NULL,
    source VARCHAR(16) {CODE} NOT NULL,
    recorded_at DATETIME(6) NOT NULL,
    CONSTRAINT ck_watch_changes_door
        CHECK (door IN ('hub', 'open_dental_user', 'other_api', 'unexplained')),
    UNIQUE KEY uq_watch_changes_row_state (office_id, od_table, od_key, stamp, row_digest),
    KEY ix_watch_changes_office_time (office_id, changed_at),
    KEY ix_watch_changes_row (office_id, od_table, od_key),
    KEY ix_watch_changes_recorded (recorded_at)
) {TABLE_OPTIONS}
"""

_WATCH_DIGEST_KEY = f"""
CREATE TABLE watch_digest_key (
    id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
    digest_key CHAR(64) {CODE} NOT NULL,
    CONSTRAINT ck_watch_digest_key_one CHECK (id = 1)
) {TABLE_OPTIONS}
"""

# A change the watch gave to the hub's key before the ledger knew its intent stays pending, asked
# again on each pass (least recently asked first) until the intent is known or
# HUB_WATCH__INTENT_WAIT_S has passed; only then is it told to vendors.
_WATCH_PENDING = """
ALTER TABLE watch_changes
    ADD COLUMN intent_pending BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN checked_at DATETIME(6) NULL,
    ADD KEY ix_watch_changes_pending (office_id, intent_pending, checked_at)
"""

# change.v1 events (hub/change_events): one row per (vendor, change) the hub owes a vendor that
# may read the table, recorded before it is published and settled once the broker confirms it,
# so a restart never sends one twice. Ids and column names only, never values: the values are
# read from the office's database when the event is published. state: pending until published
# (sent), or withdrawn when the vendor's read agreement no longer covers it.
_CHANGE_SENDS = f"""
CREATE TABLE change_sends (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    vendor VARCHAR(64) {EXACT} NOT NULL,
    event_id CHAR(64) {CODE} NOT NULL,
    office_id VARCHAR(64) {EXACT} NOT NULL,
    od_table VARCHAR(64) {CODE} NOT NULL,
    od_primary_key BIGINT NOT NULL,
    door VARCHAR(32) {CODE} NOT NULL,
    changed_at DATETIME(6) NOT NULL,
    columns_json TEXT {EXACT} NOT NULL,
    state VARCHAR(16) {CODE} NOT NULL DEFAULT 'pending',
    created_at DATETIME(6) NOT NULL,
    settled_at DATETIME(6) NULL,
    attempts INT UNSIGNED NOT NULL DEFAULT 0,
    last_error VARCHAR(500) NULL,
    CONSTRAINT ck_change_sends_state CHECK (state IN ('pending', 'sent', 'withdrawn')),
    UNIQUE KEY uq_change_sends_vendor_event (vendor, event_id),
    KEY ix_change_sends_office_state (office_id, state, id),
    KEY ix_change_sends_created (created_at)
) {TABLE_OPTIONS}
"""

# The console's intent search (hub/console/search.py): every filter it offers finds its rows by an
# index, and its pages sort by received_at. Equality on office, status or vendor, with a time
# range and the sort on received_at; message and correlation ids by their own. The vendor's key
# is already the unique key's prefix.
_CONSOLE_SEARCH = """
ALTER TABLE intents
    ADD KEY ix_intents_received (received_at),
    ADD KEY ix_intents_office_received (office_id, received_at),
    ADD KEY ix_intents_vendor_received (vendor, received_at),
    ADD KEY ix_intents_status_received (status, received_at),
    ADD KEY ix_intents_message (message_id),
    ADD KEY ix_intents_correlation (correlation_id)
"""

# Several writers (hub/control/ownership.py): each writer's heartbeat, by the database's clock, so
# that every writer sees the same live writers and computes the same owner of each office; and,
# per lane row, whether that writer serves the office (``hub status``).
_WRITERS = f"""
CREATE TABLE writers (
    writer_id VARCHAR(128) {EXACT} NOT NULL PRIMARY KEY,
    started_at DATETIME(6) NOT NULL,
    beat_at DATETIME(6) NOT NULL,
    KEY ix_writers_beat (beat_at)
) {TABLE_OPTIONS}
"""

_LANE_SERVING = """
ALTER TABLE lane_status ADD COLUMN serving BOOLEAN NOT NULL DEFAULT FALSE AFTER in_flight
"""

# The console's keyset pages (hub/console/search.py): sorted by the last change, found by a
# reason alone (a rare reason would otherwise walk the whole received_at index), and by an Open
# Dental row in any office (patient:17 without an office).
_CONSOLE_PAGES = """
ALTER TABLE intents
    ADD KEY ix_intents_updated (updated_at),
    ADD KEY ix_intents_reason_received (reason, received_at),
    ADD KEY ix_intents_od_key (od_table, od_primary_key)
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(version=1, name="intents", statements=(_INTENTS,)),
    Migration(version=2, name="api_calls", statements=(_API_CALLS,)),
    Migration(version=3, name="vendor_refs", statements=(_VENDOR_REFS,)),
    Migration(version=4, name="dlq_purges", statements=(_DLQ_PURGES, _DLQ_PURGED_MESSAGES)),
    Migration(version=5, name="operations", statements=(_PAUSES, _PAUSE_LOG, _LANE_STATUS)),
    Migration(version=6, name="retry_budget", statements=(_RETRY_BUDGET,)),
    Migration(version=7, name="custody", statements=(_OFFICE_HOLDS, _PARKED_DELIVERIES)),
    Migration(version=8, name="attempt_writer", statements=(_ATTEMPT_WRITER,)),
    Migration(version=9, name="outcome_outbox", statements=(_OUTCOME_OUTBOX,)),
    Migration(
        version=10,
        name="operator_audit",
        statements=(
            _OPERATOR_AUDIT, _LEGACY_OPERATOR_ACTIONS, _PURGE_AUDIT_ID, _LEGACY_PURGE_AUDIT_IDS,
            _AUDIT_NO_DELETE, _AUDIT_RESULT_ONLY,
        ),
    ),
    Migration(
        version=11,
        name="dead_letter_expiries",
        statements=(_DEAD_LETTER_EXPIRIES, _EXPIRIES_NO_DELETE, _EXPIRIES_NO_UPDATE),
    ),
    Migration(version=14, name="payment_refs", statements=(_PAYMENT_REFS,)),
    Migration(version=15, name="sheet_fill_steps", statements=(_SHEET_FILL_STEPS,)),
    Migration(
        version=16,
        name="watch",
        statements=(_WATCH_CURSORS, _WATCH_ROWS, _WATCH_CHANGES, _WATCH_DIGEST_KEY),
    ),
    Migration(version=17, name="change_sends", statements=(_CHANGE_SENDS,)),
    Migration(version=18, name="console_search", statements=(_CONSOLE_SEARCH,)),
    Migration(version=19, name="writers", statements=(_WRITERS, _LANE_SERVING)),
    Migration(version=20, name="console_pages", statements=(_CONSOLE_PAGES,)),
    Migration(version=21, name="watch_intent_wait", statements=(_WATCH_PENDING,)),
)
