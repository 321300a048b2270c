"""What the writer does to the ledger for one intent, around real calls to the simulator:
claim → begin_attempt → the API call(s) → record_api_call → release_attempt or finish.

The writer itself is being built elsewhere; these steps follow the ledger's documented order so
that the trace reads exactly what the writer will leave behind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from contracts import OutcomeStatus
from hub.errors import HubError
from hub.ledger import (
    ApiCallRecord,
    Finish,
    Fresh,
    IntentClaim,
    MySqlLedger,
    NewRef,
)
from hub.opendental import (
    ApiCall,
    Created,
    HttpClient,
    KeyPacer,
    OfficeApi,
    OpenDentalClient,
    Updated,
)

Write = Callable[[OpenDentalClient], Awaitable[Created | Updated]]


@dataclass(frozen=True, kw_only=True)
class Sent:
    """One intent message as a vendor published it (its payload stays with the vendor here)."""

    vendor: str
    key: str
    contract: str
    message_id: str
    correlation_id: str | None = None

    def claim(self, office_id: str) -> IntentClaim:
        return IntentClaim(
            vendor=self.vendor,
            idempotency_key=self.key,
            payload_hash=hashlib.sha256(self.key.encode()).hexdigest(),
            contract=self.contract,
            contract_version=1,
            office_id=office_id,
            message_id=self.message_id,
            correlation_id=self.correlation_id,
            received_at=datetime.now(UTC),
        )


@dataclass(frozen=True, kw_only=True)
class LedgerWriter:
    ledger: MySqlLedger
    office: OfficeApi
    http: HttpClient

    async def receive(self, sent: Sent) -> int:
        """Claim a delivery; a redelivery of the same message claims again (deliveries + 1)."""
        return (await self.ledger.claim(sent.claim(self.office.office_id))).intent_id

    async def attempt(self, intent_id: int, write: Write) -> Created | Updated | None:
        """One attempt: every API call it made is recorded; None (and the attempt released) when
        it failed without effect."""
        attempt = await self.ledger.begin_attempt(intent_id)
        assert attempt is not None
        calls: list[ApiCall] = []
        pacer = KeyPacer()
        pacer.register(self.office)
        client = OpenDentalClient(self.http, self.office, pacer, on_call=calls.append)
        try:
            result: Created | Updated | None = await write(client)
        except HubError as exc:
            result, error = None, str(exc)
        for call in calls:
            await self.ledger.record_api_call(intent_id, _record(attempt, call))
        if result is None:
            assert await self.ledger.release_attempt(intent_id, error)
        return result

    async def applied(
        self, intent_id: int, result: Created | Updated, refs: tuple[NewRef, ...] = ()
    ) -> None:
        finish = Finish(
            status=OutcomeStatus.APPLIED, od_table=result.table, od_primary_key=result.primary_key,
            outcome_json='{"status": "applied"}', refs=refs,
        )
        assert await self.ledger.finish(intent_id, finish)

    async def apply(self, sent: Sent, write: Write) -> Created | Updated:
        """A new intent applied on its first attempt."""
        claimed = await self.ledger.claim(sent.claim(self.office.office_id))
        assert isinstance(claimed, Fresh)
        result = await self.attempt(claimed.intent_id, write)
        assert result is not None
        await self.applied(claimed.intent_id, result)
        return result


def _record(attempt: int, call: ApiCall) -> ApiCallRecord:
    # The client reports a call when it ends; it started its latency earlier.
    return ApiCallRecord(
        attempt=attempt, method=call.method, path=call.path, status=call.status,
        latency_s=call.latency_s, od_primary_key=call.od_primary_key, message=call.message,
        started_at=datetime.now(UTC) - timedelta(seconds=call.latency_s),
    )
