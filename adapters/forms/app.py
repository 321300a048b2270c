"""``POST /forms/intake``: a form signed in the Standard Webhooks style in, two confirmed intents
out (adapters/forms/webhook.py has the protocol, seen.py the memory of published ids).

    202  both intents are confirmed by the broker: {"intents": [{"contract", "idempotency_key"}]}
    200  a webhook id already published, same body: {"duplicate": true, "intents": [...]} as first
         answered; nothing is published again
    400  webhook-id or webhook-timestamp is malformed: {"error", "message"} naming the header
    401  a header is missing, the timestamp is outside the tolerance, or no signature matches:
         nothing is published
    403  the broker refused the vendor's intents for an office outside its agreements (final)
    409  a webhook id already published, with another body: nothing is published
    413  the body is over the size limit (refused on its Content-Length before it is read)
    422  the form breaks its rules: {"errors": [{"path", "rule", "message"}]}, never the values
    503  the broker did not confirm, or refused an office of the vendor's agreements because the
         hub's operators paused the vendor (Retry-After): sending the same form again is
         harmless, its intents keep their idempotency keys and the hub applies each once

Every refusal is ``{"error": code, "message": ...}`` and never echoes the body or a header's
value. Logs name the office, the webhook id and intents' keys and the rules broken, never a
patient's data.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Protocol

from aiohttp import web
from pydantic import ValidationError

from adapters.forms.model import IntakeForm
from adapters.forms.seen import Published, SeenWebhooks
from adapters.forms.translate import intake_intents
from adapters.forms.webhook import (
    WEBHOOK_SIGNATURE,
    Refusal,
    WebhookHeaders,
    read_headers,
    signature_matches,
    timestamp_refusal,
)
from adapters.publisher import NotConfirmedReason, PublishNotConfirmed, PublishReceipt
from contracts import Intent
from contracts.messages import field_errors

log = logging.getLogger(__name__)

INTAKE_PATH = "/forms/intake"


class Publisher(Protocol):
    async def publish(self, intent: Intent) -> PublishReceipt: ...


@dataclass(frozen=True, kw_only=True)
class IntakeConfig:
    signing_key: bytes  # the secret's bytes (webhook.secret_key)
    retry_after_s: int
    # The offices of the vendor's agreements: a refusal for one of them is a pause, not a "no".
    offices: frozenset[str]
    timestamp_tolerance_s: int
    max_body_bytes: int
    clock: Callable[[], float] = field(default=time.time)  # Unix time, in seconds


@dataclass(frozen=True, kw_only=True)
class _Signed:
    headers: WebhookHeaders
    body: bytes


def forms_app(publisher: Publisher, config: IntakeConfig) -> web.Application:
    # client_max_size bounds a body without a Content-Length (chunked) as it is read.
    app = web.Application(client_max_size=config.max_body_bytes)
    app.router.add_post(INTAKE_PATH, IntakeHandler(publisher, config).intake)
    return app


class IntakeHandler:
    def __init__(self, publisher: Publisher, config: IntakeConfig) -> None:
        self._publisher = publisher
        self._config = config
        self._seen = SeenWebhooks()

    async def intake(self, request: web.Request) -> web.Response:
        signed = await self._authenticate(request)
        if isinstance(signed, Refusal):
            log.warning("intake refused", extra={"event": "intake_refused", "error": signed.error})
            return _error(signed.status, signed.error, signed.message)
        digest = hashlib.sha256(signed.body).digest()
        webhook_id = signed.headers.webhook_id
        published = self._seen.get(webhook_id, now_s=self._config.clock())
        if published is not None:
            return _duplicate(webhook_id, published, digest)
        try:
            form = IntakeForm.model_validate_json(signed.body)
        except ValidationError as exc:
            return _invalid(exc)
        receipts = await self._publish(form, webhook_id)
        if isinstance(receipts, web.Response):
            return receipts
        expires_at_s = signed.headers.timestamp_s + self._config.timestamp_tolerance_s
        published = Published(body_sha256=digest, receipts=receipts, expires_at_s=expires_at_s)
        self._seen.remember(webhook_id, published, now_s=self._config.clock())
        return web.json_response({"intents": _accepted(receipts)}, status=202)

    async def _authenticate(self, request: web.Request) -> _Signed | Refusal:
        """The headers and body of a request the sender signed, read only up to the size limit."""
        limit = self._config.max_body_bytes
        too_large = Refusal(
            status=413, error="body_too_large", message=f"the body is over {limit} bytes"
        )
        if (request.content_length or 0) > limit:
            return too_large
        headers = read_headers(request.headers)
        if isinstance(headers, Refusal):
            return headers
        stale = timestamp_refusal(
            headers.timestamp_s,
            now_s=self._config.clock(),
            tolerance_s=self._config.timestamp_tolerance_s,
        )
        if stale is not None:
            return stale
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return too_large
        if not signature_matches(self._config.signing_key, headers, body):
            return Refusal(
                status=401,
                error="bad_signature",
                message=f"no v1 signature of {WEBHOOK_SIGNATURE} matches id, timestamp and body",
            )
        return _Signed(headers=headers, body=body)

    async def _publish(
        self, form: IntakeForm, webhook_id: str
    ) -> tuple[PublishReceipt, ...] | web.Response:
        receipts: list[PublishReceipt] = []
        try:
            for intent in intake_intents(form):
                receipts.append(await self._publisher.publish(intent))
        except PublishNotConfirmed as exc:
            return self._not_confirmed(form, exc)
        log.info(
            "intake published",
            extra={
                "event": "intake_published",
                "office": form.office_id,
                "webhook_id": webhook_id,
                "idempotency_keys": [receipt.idempotency_key for receipt in receipts],
            },
        )
        return tuple(receipts)

    def _not_confirmed(self, form: IntakeForm, exc: PublishNotConfirmed) -> web.Response:
        extra = {
            "event": "intake_not_confirmed",
            "office": form.office_id,
            "idempotency_key": exc.idempotency_key,
            "reason": exc.reason.value,
        }
        if exc.reason is not NotConfirmedReason.REFUSED:
            log.warning("intake not confirmed by the broker", extra=extra)
            return self._retry_later(
                "not_confirmed", f"the broker did not confirm ({exc.reason.value})"
            )
        if form.office_id not in self._config.offices:
            log.error("intake refused by the broker", extra={**extra, "detail": str(exc)})
            return _error(403, "office_not_permitted", "the broker refused this office's intents")
        # An office of the vendor's agreements: the broker refuses it only while the vendor is
        # paused (`hub vendor pause`); the sender keeps the form and sends it again later.
        log.warning(
            "intake refused while the vendor is paused", extra={**extra, "detail": str(exc)}
        )
        return self._retry_later("vendor_paused", "the hub refuses the vendor's intents for now")

    def _retry_later(self, code: str, message: str) -> web.Response:
        reply = _error(503, code, message)
        reply.headers["Retry-After"] = str(self._config.retry_after_s)
        return reply


def _accepted(receipts: tuple[PublishReceipt, ...]) -> list[dict[str, str]]:
    return [
        {"contract": receipt.contract, "idempotency_key": receipt.idempotency_key}
        for receipt in receipts
    ]


def _duplicate(webhook_id: str, published: Published, body_sha256: bytes) -> web.Response:
    extra = {"event": "intake_duplicate", "webhook_id": webhook_id}
    if published.body_sha256 != body_sha256:
        log.warning("intake refused: webhook id reused", extra=extra)
        return _error(409, "webhook_id_reused", "this webhook-id was published with another body")
    log.info("intake duplicate: published already", extra=extra)
    reply = {"duplicate": True, "intents": _accepted(published.receipts)}
    return web.json_response(reply, status=200)


def _invalid(exc: ValidationError) -> web.Response:
    errors = field_errors(exc)
    log.info(
        "intake invalid",
        extra={"event": "intake_invalid", "errors": [f"{e.path}:{e.rule}" for e in errors]},
    )
    body = {"error": "invalid_form", "errors": [asdict(error) for error in errors]}
    return web.json_response(body, status=422)


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)
