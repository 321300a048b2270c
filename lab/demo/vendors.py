"""A demo vendor: its broker login, the publisher library over it, and what became of each step.

Valid intents go through ``VendorPublisher`` as any vendor's would. A body the typed builders
refuse to build (the script's invalid messages) goes out raw on a channel of its own, still as
the vendor's user. A step claiming another vendor's name uses a publisher named after that
vendor on this vendor's login, which is what an impersonator would do.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncGenerator
from dataclasses import dataclass

import aiormq
from pydantic import SecretStr

from adapters.publisher import PublishNotConfirmed, VendorPublisher
from contracts import ChangeEvent, Intent, OutcomeEvent
from contracts.amqp import INTENTS_EXCHANGE
from lab.demo.script import Step
from lab.scripted_vendor import ScriptedVendor, raw_message

CONFIRM_TIMEOUT_S = 10.0


@dataclass(frozen=True, kw_only=True)
class Sent:
    """One step as the broker answered it: confirmed (published), or not, and why."""

    step: Step
    confirmed: bool
    code: str | None = None  # ACCESS_REFUSED, PRECONDITION_FAILED, or the publisher's reason
    reply: str | None = None  # the broker's reply text: ids and routing keys, no payload


def _broker_reply(error: BaseException) -> str | None:
    """The reply text of the channel close behind ``error``, e.g. "ACCESS_REFUSED - access to
    topic 'office-2.patient.create' in exchange 'hub.intents' ...": keys and names, no payload."""
    closed = error if isinstance(error, aiormq.exceptions.ChannelClosed) else error.__cause__
    if not isinstance(closed, aiormq.exceptions.ChannelClosed):
        return None
    # aiormq gives the mapped classes (ChannelAccessRefused, ...) the text alone, the generic
    # ChannelClosed (code, text): the text is the last string either way.
    return next((arg for arg in reversed(closed.args) if isinstance(arg, str)), None)


def _refusal(step: Step, error: BaseException, fallback: str) -> Sent:
    reply = _broker_reply(error)
    code = fallback if reply is None else reply.partition(" - ")[0]
    return Sent(step=step, confirmed=False, code=code, reply=reply or str(error))


class DemoVendor(ScriptedVendor):
    def __init__(
        self, name: str, broker_url: SecretStr, tls: ssl.SSLContext | None = None
    ) -> None:
        super().__init__(name, broker_url, confirm_timeout_s=CONFIRM_TIMEOUT_S, tls=tls)

    def events(self) -> AsyncGenerator[OutcomeEvent | ChangeEvent, None]:
        """Its outcome events and, with a read agreement, its change events (change.v1)."""
        return self._publisher.events()

    async def send(self, step: Step) -> Sent:
        """Publish ``step`` and wait for the broker's confirm or refusal."""
        try:
            if isinstance(step.body, bytes):
                await self._send_raw(step, step.body)
            elif step.user_id != self.name:
                await self._send_as_another(step, step.body)
            else:
                await self._publisher.publish(step.body)
        except PublishNotConfirmed as exc:
            return _refusal(step, exc, exc.reason.value)
        except aiormq.exceptions.AMQPError as exc:
            return _refusal(step, exc, type(exc).__name__)
        except TimeoutError as exc:  # a raw publish's confirm
            return _refusal(step, exc, "timeout")
        return Sent(step=step, confirmed=True)

    async def _send_as_another(self, step: Step, intent: Intent) -> None:
        async with VendorPublisher(
            self._url, step.user_id, confirm_timeout_s=CONFIRM_TIMEOUT_S, tls=self._tls
        ) as pretender:
            await pretender.publish(intent)

    async def _send_raw(self, step: Step, body: bytes) -> None:
        raw = self._raw_connection()
        message = raw_message(body, user_id=step.user_id, message_id=step.key)
        async with raw.channel(publisher_confirms=True, on_return_raises=True) as channel:
            exchange = await channel.get_exchange(INTENTS_EXCHANGE, ensure=False)
            await exchange.publish(
                message, step.routing_key, mandatory=True, timeout=CONFIRM_TIMEOUT_S
            )
