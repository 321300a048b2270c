"""``POST /forms/intake``: a signed intake form in, two confirmed intents out.

    202  both intents are confirmed by the broker: {"intents": [{"contract", "idempotency_key"}]}
    401  the signature is missing or wrong: nothing is published
    403  the broker refused the vendor's intents for an office outside its agreements (final)
    422  the form breaks its rules: {"errors": [{"path", "rule", "message"}]}, never the values
    503  the broker did not confirm, or refused an office of the vendor's agreements because the
         hub's operators paused the vendor (Retry-After): sending the same form again is
         harmless, its intents keep their idempotency keys and the hub applies each once

Logs name the office, the intents' keys and the rules broken, never a patient's data.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Protocol

from aiohttp import web
from pydantic import ValidationError

from adapters.forms.model import IntakeForm
from adapters.forms.signature import SIGNATURE_HEADER, signature_matches
from adapters.forms.translate import intake_intents
from adapters.publisher import NotConfirmedReason, PublishNotConfirmed, PublishReceipt
from contracts import Intent
from contracts.messages import field_errors

log = logging.getLogger(__name__)

INTAKE_PATH = "/forms/intake"
MAX_BODY_BYTES = 1024 * 1024


class Publisher(Protocol):
    async def publish(self, intent: Intent) -> PublishReceipt: ...


@dataclass(frozen=True, kw_only=True)
class IntakeConfig:
    secret: bytes
    retry_after_s: int
    # The offices of the vendor's agreements: a refusal for one of them is a pause, not a "no".
    offices: frozenset[str]


def forms_app(publisher: Publisher, config: IntakeConfig) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_post(INTAKE_PATH, IntakeHandler(publisher, config).intake)
    return app


class IntakeHandler:
    def __init__(self, publisher: Publisher, config: IntakeConfig) -> None:
        self._publisher = publisher
        self._config = config

    async def intake(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not signature_matches(self._config.secret, body, request.headers.get(SIGNATURE_HEADER)):
            log.warning("intake refused: bad signature", extra={"event": "intake_unauthorized"})
            return _error(401, "bad_signature", f"missing or wrong {SIGNATURE_HEADER}")
        try:
            form = IntakeForm.model_validate_json(body)
        except ValidationError as exc:
            return _invalid(exc)
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
                "idempotency_keys": [receipt.idempotency_key for receipt in receipts],
            },
        )
        accepted = [
            {"contract": receipt.contract, "idempotency_key": receipt.idempotency_key}
            for receipt in receipts
        ]
        return web.json_response({"intents": accepted}, status=202)

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
