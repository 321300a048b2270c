"""Which Open Dental API call each contract makes: one table, no branching per contract."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from hub.opendental import Created, Updated, WireBody


class OpenDentalWrites(Protocol):
    """The writes of ``OpenDentalClient`` the writer uses (one office, paced, classified)."""

    async def create_patient(self, body: WireBody) -> Created: ...
    async def update_patient(self, pat_num: int, body: WireBody) -> Updated: ...
    async def create_appointment(self, body: WireBody) -> Created: ...
    async def confirm_appointment(self, apt_num: int, body: WireBody) -> Updated: ...
    async def break_appointment(self, apt_num: int, body: WireBody) -> Updated: ...
    async def create_commlog(self, body: WireBody) -> Created: ...
    async def create_payment(self, body: WireBody) -> Created: ...


@dataclass(frozen=True, kw_only=True)
class OdRequest:
    """One intent as Open Dental's API takes it: the body, and the key its path names."""

    body: WireBody
    path_key: int | None = None  # PatNum or AptNum in the URL, resolved from a ref if need be

    def key(self) -> int:
        if self.path_key is None:
            raise ValueError("this call names its row in the path, but no key was resolved")
        return self.path_key


ApiMethod = Callable[[OpenDentalWrites, OdRequest], Awaitable[Created | Updated]]

CALLS: Mapping[tuple[str, int], ApiMethod] = {
    ("patient.create", 1): lambda od, r: od.create_patient(r.body),
    ("patient.update", 1): lambda od, r: od.update_patient(r.key(), r.body),
    ("appointment.create", 1): lambda od, r: od.create_appointment(r.body),
    ("appointment.confirm", 1): lambda od, r: od.confirm_appointment(r.key(), r.body),
    ("appointment.break", 1): lambda od, r: od.break_appointment(r.key(), r.body),
    ("commlog.create", 1): lambda od, r: od.create_commlog(r.body),
    ("payment.create", 1): lambda od, r: od.create_payment(r.body),
}
"""(contract, major version) → the client call; a test checks every served contract is here."""
