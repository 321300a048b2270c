"""The console's intent search: filters from a bookmarkable query string, one indexed SELECT.

Pages are keyset (seek) pages: the next page is the rows past the last one shown, by the sort
key and the intent id, so a page deep in a million-row ledger costs what the first one does (an
OFFSET reads and drops every row before it). The cursor travels in the URL (``after`` or
``before``: ``<sort value>~<intent id>``), so every page stays bookmarkable.

Every filter is an equality or a range that an index of ``intents`` serves (ledger migrations 1
and 18): vendor, office, status with the time range and the sort on ``received_at``; message and
correlation ids, an idempotency key (with its vendor's unique key), an Open Dental row (office,
table, key). Contract, version and reason narrow what those find. Reads only, through the hub
database's pool; never the payload (the ledger keeps only its hash).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import StrEnum
from urllib.parse import urlencode

from hub.dlq import parse_moment
from hub.ledger import IntentRow, IntentStatus
from hub.ledger.mysql_rows import INTENT_COLUMNS, intent_row, to_db
from hub.ledger.mysql_session import MySqlSession
from hub.trace import TraceError, parse_row_target


class SortKey(StrEnum):
    RECEIVED = "received"
    UPDATED = "updated"

    @property
    def column(self) -> str:
        return {SortKey.RECEIVED: "received_at", SortKey.UPDATED: "updated_at"}[self]


class SearchError(ValueError):
    """A filter that does not parse; its message names the field, never a value's meaning."""


@dataclass(frozen=True, kw_only=True)
class IntentQuery:
    """The search form's fields, as text, exactly as the URL carries them."""

    vendor: str = ""
    office: str = ""
    contract: str = ""
    version: str = ""
    status: str = ""
    reason: str = ""
    since: str = ""
    until: str = ""
    key: str = ""
    correlation: str = ""
    message: str = ""
    row: str = ""
    sort: str = SortKey.RECEIVED.value
    order: str = "desc"
    after: str = ""  # a cursor: the rows after it, in the page's order
    before: str = ""  # a cursor: the rows before it (the previous page)

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> IntentQuery:
        texts = {f.name: params.get(f.name, "").strip() for f in fields(cls)}
        return cls(**{name: value for name, value in texts.items() if value})

    @property
    def sort_key(self) -> SortKey:
        known = {key.value for key in SortKey}
        return SortKey(self.sort) if self.sort in known else SortKey.RECEIVED

    @property
    def descending(self) -> bool:
        return self.order != "asc"

    def link(self, **changes: str) -> str:
        """This search's URL query, with ``changes``: for the page's own link and its pager."""
        values: dict[str, str] = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        defaults = {name: getattr(DEFAULT_QUERY, name) for name in values}
        kept = {
            name: value for name, value in values.items()
            if value not in ("", None) and value != defaults[name]
        }
        return urlencode(kept)


DEFAULT_QUERY = IntentQuery()


@dataclass(frozen=True, kw_only=True)
class Cursor:
    """A row's place in the page's order: its sort value (naive UTC, as stored) and its id."""

    at: datetime
    id: int

    def __str__(self) -> str:
        return f"{self.at.isoformat(timespec='microseconds')}~{self.id}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        at, _, number = text.partition("~")
        try:
            return cls(at=datetime.fromisoformat(at).replace(tzinfo=None), id=int(number))
        except ValueError:
            raise SearchError("page cursor: not one this console made") from None

    @classmethod
    def of(cls, row: IntentRow, key: SortKey) -> Cursor:
        at = row.received_at if key is SortKey.RECEIVED else row.updated_at
        return cls(at=to_db(at), id=row.id)


@dataclass(frozen=True, kw_only=True)
class SearchPage:
    rows: list[IntentRow]
    next: Cursor | None  # the last row's, when more follow
    previous: Cursor | None  # the first row's, when this is not the first page


def where_clause(query: IntentQuery, now: datetime) -> tuple[str, list[object]]:
    """The WHERE clause and its arguments; raises ``SearchError`` for a filter that does not
    parse."""
    clauses: list[str] = []
    args: list[object] = []
    for column, value in (
        ("vendor", query.vendor), ("office_id", query.office), ("contract", query.contract),
        ("reason", query.reason), ("idempotency_key", query.key),
        ("correlation_id", query.correlation), ("message_id", query.message),
    ):
        if value:
            clauses.append(f"{column} = %s")
            args.append(value)
    if query.status:
        clauses.append("status = %s")
        args.append(_status(query.status))
    if query.version:
        clauses.append("contract_version = %s")
        args.append(_number("version", query.version))
    if query.row:
        clauses.append("od_table = %s AND od_primary_key = %s")
        args += _row(query.row)
    for text, operator in ((query.since, ">="), (query.until, "<")):
        if text:
            clauses.append(f"received_at {operator} %s")
            args.append(to_db(_moment(text, now)))
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", args


def statement(
    query: IntentQuery, *, page_size: int, now: datetime
) -> tuple[str, list[object], bool]:
    """The page's SELECT, its arguments, and whether it reads backwards (a previous page, read
    in the opposite order and turned round)."""
    where, args = where_clause(query, now)
    column = query.sort_key.column
    backwards = bool(query.before) and not query.after
    text = query.after or query.before
    # Reading forwards in descending order, or backwards in ascending order, goes down.
    down = query.descending != backwards
    if text:
        cursor = Cursor.parse(text)
        # The index range on the sort column, then the id breaks ties within one instant.
        seek = f"{column} {'<=' if down else '>='} %s AND ({column} {'<' if down else '>'} %s" \
            f" OR id {'<' if down else '>'} %s)"
        where = f"{where} AND {seek}" if where else f"WHERE {seek}"
        args += [cursor.at, cursor.at, cursor.id]
    direction = "DESC" if down else "ASC"
    sql = (
        f"SELECT {INTENT_COLUMNS} FROM intents {where}"
        f" ORDER BY {column} {direction}, id {direction} LIMIT %s"
    )
    return sql, [*args, page_size + 1], backwards


async def search(
    session: MySqlSession, query: IntentQuery, *, page_size: int, now: datetime | None = None
) -> SearchPage:
    sql, args, backwards = statement(query, page_size=page_size, now=now or datetime.now(UTC))
    async with session.autocommit("searching intents") as tx:
        records = await tx.fetch_all("console.search", sql, args)
    rows = [intent_row(record) for record in records]
    more = len(rows) > page_size
    rows = rows[:page_size]
    if backwards:
        rows.reverse()
    key = query.sort_key
    first = Cursor.of(rows[0], key) if rows else None
    last = Cursor.of(rows[-1], key) if rows else None
    paged = bool(query.after or query.before)
    return SearchPage(
        rows=rows,
        next=last if (more if not backwards else paged) else None,
        previous=first if (more if backwards else paged) else None,
    )


def _status(text: str) -> str:
    try:
        return IntentStatus(text).value
    except ValueError:
        known = ", ".join(status.value for status in IntentStatus)
        raise SearchError(f"status: one of {known}") from None


def _number(name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise SearchError(f"{name}: a whole number") from None


def _row(text: str) -> list[object]:
    try:
        target = parse_row_target(text)
    except TraceError as exc:
        raise SearchError(f"row: {exc}") from None
    return [target.table.value, target.primary_key]


def _moment(text: str, now: datetime) -> datetime:
    try:
        return parse_moment(text, now)
    except ValueError as exc:
        raise SearchError(str(exc)) from None
