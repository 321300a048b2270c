"""The change event: a row of an office's Open Dental database changed, told to each vendor the
office agreed may read that table (a registry read agreement).

Published on ``hub.outcomes``, beside the vendor's outcome events, with routing key
``<vendor>.<office>.change.<table>.<door>`` and the AMQP ``type`` ``change.v1``. It names the row,
the door the change came through and the changed columns; it carries values only of the changed
columns the agreement lists (minimum necessary). It never names who changed the row: not another
vendor nor its intent (a change by another vendor through the hub says ``hub`` only), not an Open
Dental user, not another API developer. A vendor is not told of its own writes through the hub:
their outcome events told it already.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import AwareDatetime, Field, model_validator

from contracts.base import ContractModel
from contracts.fields import MAX_BIGINT
from contracts.od_tables import ChangeValue, WatchedTable

CHANGE_TYPE = "change.v1"
"""The AMQP ``type`` property of every change event, so a vendor's consumer tells change events
from outcome events on the one queue before reading the body."""


class ChangeDoor(StrEnum):
    """Which way the change reached the office's database."""

    HUB = "hub"  # an intent the hub applied (another vendor's, or the hub's own work)
    OPEN_DENTAL_USER = "open_dental_user"  # someone at the office, in Open Dental
    OTHER_API = "other_api"  # another developer's program, through the Open Dental API
    UNEXPLAINED = "unexplained"  # nothing accounts for it: e.g. a direct database write


def change_event_id(office_id: str, table: str, primary_key: int, changed_at: datetime) -> str:
    """The change's id: the same for every vendor told and on every resend, so a vendor drops a
    repeat by it. SHA-256 (hex) of office, table, key and the change's UTC time."""
    at = changed_at.astimezone(UTC).isoformat(timespec="microseconds")
    return hashlib.sha256(f"{office_id}\n{table}\n{primary_key}\n{at}".encode()).hexdigest()


class ChangeEvent(ContractModel):
    """A row of an office's Open Dental database changed, through one of four doors."""

    event_id: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="The change's id, the same on a resend: drop an event whose id you have "
        "seen.",
    )
    office_id: str
    table: WatchedTable = Field(description="The Open Dental table of the row.")
    primary_key: int = Field(ge=1, le=MAX_BIGINT, description="The row's primary key.")
    door: ChangeDoor = Field(description="Which way the change came; never who made it.")
    changed_at: AwareDatetime = Field(description="When the row changed, RFC 3339.")
    columns: list[str] = Field(
        description="The names of the columns that changed (Open Dental's names); empty when "
        "the hub could not tell which (a row it had not seen before, say).",
    )
    values: dict[str, ChangeValue] = Field(
        default_factory=dict,
        description="The new values of the changed columns the office's agreement lists, in "
        "Open Dental's API formats (enums by name, booleans \"true\"/\"false\", date-times "
        "yyyy-MM-dd HH:mm:ss in office local time); the other changed columns have none here.",
    )

    @model_validator(mode="after")
    def _values_only_of_changed_columns(self) -> ChangeEvent:
        if not set(self.values) <= set(self.columns):
            raise ValueError("values may only hold columns named in columns")
        return self

    def routing_key(self, vendor: str) -> str:
        """``<vendor>.<office>.change.<table>.<door>`` on ``hub.outcomes``."""
        return f"{vendor}.{self.office_id}.change.{self.table.value}.{self.door.value}"

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, body: bytes | str) -> ChangeEvent:
        """Read an event off the broker (the vendor's side)."""
        return cls.model_validate_json(body)
