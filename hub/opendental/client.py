"""The typed async client for one office's Open Dental API: the hub's only write path into it.

Every request is paced per customer key before it is sent, reported to ``on_call`` once per
attempt (success or failure), and every failure leaves as one of the hub's errors, classified
at this boundary (hub/opendental/classify.py). The client never retries: the writer decides.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from hub.errors import HubError, PermanentError, ThrottledError
from hub.opendental import replies
from hub.opendental.classify import (
    TRANSPORT_ERRORS,
    classify_status,
    classify_transport,
    error_message,
    parse_retry_after,
)
from hub.opendental.constants import THROTTLE_DEFER_S
from hub.opendental.http_client import HttpClient, HttpReply
from hub.opendental.office import OfficeApi
from hub.opendental.pacer import Pacer
from hub.opendental.replies import (
    ALLERGY,
    APPOINTMENT,
    COMMLOG,
    DISEASE,
    DOCUMENT,
    MEDICATIONPAT,
    PATFIELD,
    PATIENT,
    PAYMENT,
    SHEET,
    SHEET_FIELD,
    Table,
)
from hub.opendental.results import ApiCall, Created, Row, Updated, WireBody
from hub.tls import handshake_failure

Filter = str | int
_T = TypeVar("_T")


@dataclass(frozen=True, kw_only=True)
class _Attempt:
    """One request as sent: what the ``on_call`` report is made of."""

    method: str
    path: str
    status: int | None
    latency_s: float
    paced_s: float

    def record(self, *, message: str | None, od_primary_key: int | None = None) -> ApiCall:
        return ApiCall(
            method=self.method,
            path=self.path,
            status=self.status,
            latency_s=self.latency_s,
            od_primary_key=od_primary_key,
            message=message,
            paced_s=self.paced_s,
        )


@dataclass(frozen=True, kw_only=True)
class _Reply:
    """A 2xx reply, before its body is read."""

    attempt: _Attempt
    response: HttpReply


def _matching(rows: list[Row], field: str, value: int) -> list[Row]:
    return [row for row in rows if row.get(field) == value]


class OpenDentalClient:
    """One office's Open Dental API over the process's shared HTTP client."""

    def __init__(
        self,
        http: HttpClient,
        office: OfficeApi,
        pacer: Pacer,
        on_call: Callable[[ApiCall], None] | None = None,
    ) -> None:
        self._http = http
        self._office = office
        self._pacer = pacer
        self._on_call = on_call

    # Writes ---------------------------------------------------------------------------------

    async def create_patient(self, body: WireBody) -> Created:
        return await self._create(PATIENT, "/patients", body)

    async def update_patient(self, pat_num: int, body: WireBody) -> Updated:
        return await self._update(PATIENT, pat_num, f"/patients/{pat_num}", body)

    async def create_appointment(self, body: WireBody) -> Created:
        return await self._create(APPOINTMENT, "/appointments", body)

    async def update_appointment(self, apt_num: int, body: WireBody) -> Updated:
        return await self._update(APPOINTMENT, apt_num, f"/appointments/{apt_num}", body)

    async def confirm_appointment(self, apt_num: int, body: WireBody) -> Updated:
        return await self._update(APPOINTMENT, apt_num, f"/appointments/{apt_num}/Confirm", body)

    async def break_appointment(self, apt_num: int, body: WireBody) -> Updated:
        return await self._update(APPOINTMENT, apt_num, f"/appointments/{apt_num}/Break", body)

    async def append_appointment_note(self, apt_num: int, body: WireBody) -> Updated:
        """Appointments PUT Note appends to the Note: sent twice, the text is there twice."""
        return await self._update(APPOINTMENT, apt_num, f"/appointments/{apt_num}/Note", body)

    async def create_commlog(self, body: WireBody) -> Created:
        return await self._create(COMMLOG, "/commlogs", body)

    async def create_payment(self, body: WireBody) -> Created:
        return await self._create(PAYMENT, "/payments", body)

    async def refund_payment(self, body: WireBody) -> Created:
        """Payments POST Refund: a new payment, the refund, offsetting the one named."""
        return await self._create(PAYMENT, "/payments/Refund", body)

    async def upload_document(self, body: WireBody) -> Created:
        """Documents POST Upload: the file travels as base64 in the body, up to Open Dental's
        body limit of 16.8 million characters."""
        return await self._create(DOCUMENT, "/documents/Upload", body)

    async def set_patfield(self, body: WireBody) -> Created | Updated:
        """PatFields POST when the patient has no row for the field, PUT (same body) when it
        has: Open Dental keeps one row per patient and field, and what POST answers for a field
        the patient has (or PUT for one it has not) is unconfirmed, so the client asks first.
        Should the office set the same field between the read and the write, Open Dental refuses
        the write with its message (a rejection a person reads), never a second row."""
        pat_num, name = body.get("PatNum"), body.get("FieldName")
        if not isinstance(pat_num, int) or not isinstance(name, str):
            raise ValueError("a patfield set needs PatNum (a number) and FieldName (text)")
        mine = [row for row in await self.list_patfields(pat_num) if row.get("FieldName") == name]
        if not mine:
            return await self._create(PATFIELD, "/patfields", body)
        key = mine[0].get("PatFieldNum")
        if not isinstance(key, int):
            raise PermanentError("GET /patfields: PatFieldNum is not a number")
        return await self._update(PATFIELD, key, "/patfields", body)

    async def create_allergy(self, body: WireBody) -> Created:
        return await self._create(ALLERGY, "/allergies", body)

    async def create_medication(self, body: WireBody) -> Created:
        return await self._create(MEDICATIONPAT, "/medicationpats", body)

    async def create_problem(self, body: WireBody) -> Created:
        return await self._create(DISEASE, "/diseases", body)

    # A sheet is filled in several calls, none idempotent (opendental-api.md §4.7); the writer
    # records a recovery point after each (hub/writer/sheet_fill.py).

    async def create_sheet(self, body: WireBody) -> Created:
        """Sheets POST: the sheet and every field of its definition, no values."""
        return await self._create(SHEET, "/sheets", body)

    async def list_sheet_fields(self, sheet_num: int) -> list[Row]:
        """The sheet's fields, each with its SheetFieldNum, FieldName, FieldType, FieldValue."""
        rows = await self._list("/sheetfields", {"SheetNum": sheet_num})
        return _matching(rows, "SheetNum", sheet_num)

    async def set_sheet_field(self, sheet_field_num: int, value: str) -> Updated:
        """SheetFields PUT: one field's FieldValue."""
        path = f"/sheetfields/{sheet_field_num}"
        return await self._update(SHEET_FIELD, sheet_field_num, path, {"FieldValue": value})

    # Reads ----------------------------------------------------------------------------------

    async def get_patient(self, pat_num: int) -> Row:
        reply = await self._send("GET", f"/patients/{pat_num}")
        return self._finish(reply, replies.object_of)

    async def list_patients_simple(self, **filters: Filter) -> list[Row]:
        """Patients matching Open Dental's filters, which it ignores when misspelled: re-check."""
        return await self._list("/patients/Simple", filters)

    async def list_appointments(self, **filters: Filter) -> list[Row]:
        """Appointments matching Open Dental's filters, which it ignores when misspelled."""
        return await self._list("/appointments", filters)

    # Open Dental answers an ignored filter with unfiltered rows (opendental-api.md §3), so the
    # lists filtered on one id are checked again here.

    async def list_commlogs(self, pat_num: int) -> list[Row]:
        return _matching(await self._list("/commlogs", {"PatNum": pat_num}), "PatNum", pat_num)

    async def list_payments(self, pat_num: int) -> list[Row]:
        return _matching(await self._list("/payments", {"PatNum": pat_num}), "PatNum", pat_num)

    async def list_documents(self, pat_num: int) -> list[Row]:
        return _matching(await self._list("/documents", {"PatNum": pat_num}), "PatNum", pat_num)

    async def list_patfields(self, pat_num: int) -> list[Row]:
        return _matching(await self._list("/patfields", {"PatNum": pat_num}), "PatNum", pat_num)

    async def list_allergies(self, pat_num: int) -> list[Row]:
        return _matching(await self._list("/allergies", {"PatNum": pat_num}), "PatNum", pat_num)

    async def list_medications(self, pat_num: int) -> list[Row]:
        rows = await self._list("/medicationpats", {"PatNum": pat_num})
        return _matching(rows, "PatNum", pat_num)

    async def list_problems(self, pat_num: int) -> list[Row]:
        return _matching(await self._list("/diseases", {"PatNum": pat_num}), "PatNum", pat_num)

    async def list_definitions(self, category: int) -> list[Row]:
        rows = await self._list("/definitions", {"Category": category})
        return _matching(rows, "Category", category)

    async def list_operatories(self) -> list[Row]:
        return await self._list("/operatories", {})

    async def list_providers(self) -> list[Row]:
        return await self._list("/providers", {})

    # Plumbing -------------------------------------------------------------------------------

    async def _create(self, table: Table, path: str, body: WireBody) -> Created:
        reply = await self._send("POST", path, body=body)

        def parse(response: HttpReply) -> Created:
            obj = replies.optional_object_of(response)
            return Created(
                table=table.name,
                primary_key=replies.created_key(table, response, obj),
                status=response.status_code,
                body=obj,
                latency_s=reply.attempt.latency_s,
            )

        return self._finish(reply, parse, lambda created: created.primary_key)

    async def _update(self, table: Table, key: int, path: str, body: WireBody) -> Updated:
        reply = await self._send("PUT", path, body=body)

        def parse(response: HttpReply) -> Updated:
            obj = replies.optional_object_of(response)
            replies.check_updated_key(table, key, response, obj)
            return Updated(
                table=table.name,
                primary_key=key,
                status=response.status_code,
                body=obj,
                latency_s=reply.attempt.latency_s,
            )

        return self._finish(reply, parse, lambda updated: updated.primary_key)

    async def _list(self, path: str, filters: Mapping[str, Filter]) -> list[Row]:
        """Every page of a list, asking for pages until one comes back short."""
        limit = self._office.page_limit
        rows: list[Row] = []
        previous_first: Row | None = None
        while True:
            params = {**filters, "Offset": len(rows), "Limit": limit}
            page = self._finish(await self._send("GET", path, params=params), replies.rows_of)
            if page and page[0] == previous_first:
                # Open Dental ignores parameters it does not know; paging on would never end.
                raise PermanentError(f"GET {path} ignored Offset: the same page came back twice")
            rows.extend(page)
            if len(page) < limit:
                return rows
            previous_first = page[0]

    async def _send(
        self,
        method: str,
        path: str,
        *,
        body: WireBody | None = None,
        params: Mapping[str, Filter] | None = None,
    ) -> _Reply:
        """Pace, send once, and return the 2xx reply; any failure is reported and raised."""
        paced_s = 0.0
        started_at: float | None = None  # set once past the pacer, when the request goes out

        def attempt(status: int | None) -> _Attempt:
            latency_s = 0.0 if started_at is None else time.monotonic() - started_at
            return _Attempt(
                method=method, path=path, status=status, latency_s=latency_s, paced_s=paced_s
            )

        try:
            async with self._pacer.slot(self._office.customer_key.get_secret_value()) as paced_s:
                started_at = time.monotonic()
                response = await self._http.request(
                    method,
                    f"{self._office.base_url}{path}",
                    params=params,
                    headers=self._headers(),
                    content=None if body is None else json.dumps(dict(body)),
                )
        except TRANSPORT_ERRORS as exc:
            error = classify_transport(
                exc, office_id=self._office.office_id, base_url=self._office.base_url
            )
            # A refused certificate is named in the call's record (hub trace): the class name
            # alone would not say which certificate or why.
            tls = handshake_failure(exc) is not None
            self._report(attempt(None).record(message=str(error) if tls else type(exc).__name__))
            raise error from exc
        except asyncio.CancelledError:
            # The caller's own timeout: once past the pacer the request may have been sent, so
            # it is on the record.
            if started_at is not None:
                self._report(attempt(None).record(message="CancelledError"))
            raise
        sent = attempt(response.status_code)
        failure = self._failure_of(response)
        if failure is not None:
            self._report(sent.record(message=str(failure)))
            raise failure
        return _Reply(attempt=sent, response=response)

    def _failure_of(self, response: HttpReply) -> HubError | None:
        if response.is_success:  # no error message to read out of a created row's body
            return None
        message = error_message(response.text, fallback=response.reason_phrase)
        retry_after_s = parse_retry_after(
            response.headers.get("Retry-After"), now=datetime.now(UTC)
        )
        failure = classify_status(response.status_code, message, retry_after_s=retry_after_s)
        if isinstance(failure, ThrottledError):
            customer_key = self._office.customer_key.get_secret_value()
            self._pacer.defer(customer_key, failure.retry_after_s or THROTTLE_DEFER_S)
        return failure

    def _finish(
        self,
        reply: _Reply,
        parse: Callable[[HttpReply], _T],
        key_of: Callable[[_T], int] | None = None,
    ) -> _T:
        """Read a 2xx reply's body and report the attempt, with the row's key when there is one."""
        try:
            result = parse(reply.response)
        except PermanentError as exc:
            self._report(reply.attempt.record(message=str(exc)))
            raise
        key = None if key_of is None else key_of(result)
        self._report(reply.attempt.record(message=None, od_primary_key=key))
        return result

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": self._office.authorization(),
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    def _report(self, call: ApiCall) -> None:
        if self._on_call is not None:
            self._on_call(call)
