"""What the Open Dental client hands back: rows, created and updated objects, and each call."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

JsonValue: TypeAlias = "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"
Row: TypeAlias = Mapping[str, JsonValue]  # one Open Dental object, as its JSON reply has it
WireBody: TypeAlias = Mapping[str, str | int | float]  # a request body of Open Dental wire fields


@dataclass(frozen=True, kw_only=True)
class ApiCall:
    """One attempt at one request, success or failure, for metrics and the writer's ledger.

    ``path`` has no host and no query string (filters can name a patient); ``message`` is Open
    Dental's error text or the transport error's class name, never the request body.
    """

    method: str
    path: str
    status: int | None  # None when no response came back
    latency_s: float
    od_primary_key: int | None
    message: str | None
    paced_s: float  # time spent waiting for the key's slot before sending


@dataclass(frozen=True, kw_only=True)
class Created:
    """A row Open Dental created; ``primary_key`` is checked against the Location header."""

    table: str
    primary_key: int
    status: int
    body: Row
    latency_s: float


@dataclass(frozen=True, kw_only=True)
class Updated:
    """A row Open Dental changed (PUT): ``body`` is the object it returned, or empty."""

    table: str
    primary_key: int
    status: int
    body: Row
    latency_s: float
