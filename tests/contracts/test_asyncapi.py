"""The AsyncAPI document: every reference resolves and every contract version has its message."""

from __future__ import annotations

import json
from typing import Any

from contracts import amqp, known_contracts
from contracts.export import package_dir


def _document() -> Any:
    return json.loads((package_dir() / "asyncapi.json").read_text())


def _resolve(document: Any, pointer: str) -> Any:
    node = document
    for part in pointer.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def test_every_reference_resolves_inside_the_document_or_to_a_committed_schema() -> None:
    # Given the committed AsyncAPI document
    document = _document()
    # When every $ref is followed
    refs = _refs(document)
    internal = [ref for ref in refs if ref.startswith("#/")]
    external = [ref for ref in refs if not ref.startswith("#/")]
    # Then internal ones resolve and external ones are committed schema files
    for ref in internal:
        _resolve(document, ref)
    assert external
    assert all((package_dir() / ref).is_file() for ref in external)


def test_each_contract_version_is_a_message_the_vendor_sends() -> None:
    # Given the send operation
    document = _document()
    sent = document["operations"]["sendIntent"]["messages"]
    # When its messages are listed
    names = {ref["$ref"].rsplit("/", 1)[1] for ref in sent}
    # Then there is one per contract version
    assert names == {f"{contract}.v{version}" for contract, version in known_contracts()}


def test_channels_describe_the_exchanges_keys_and_dead_letter_queue() -> None:
    # Given the channels
    channels = _document()["channels"]
    # When read
    intents, outcomes, dead = channels["intents"], channels["outcomes"], channels["deadLetters"]
    # Then they name the topic exchanges, their routing keys and the dead-letter queue
    assert intents["address"] == "{office}.{contract}"
    assert intents["bindings"]["amqp"]["exchange"] == {
        "name": amqp.INTENTS_EXCHANGE,
        "type": "topic",
        "durable": True,
        "autoDelete": False,
        "vhost": "/",
    }
    assert outcomes["address"] == "{vendor}.{office}.{contract}.{status}"
    assert dead["bindings"]["amqp"]["queue"]["name"] == amqp.DEAD_LETTER_QUEUE
    headers = _document()["components"]["messages"]["deadLetter"]["headers"]
    assert set(headers["required"]) == {
        amqp.HEADER_REASON,
        amqp.HEADER_VENDOR,
        amqp.HEADER_OFFICE,
        amqp.HEADER_CONTRACT,
    }
    assert headers["properties"][amqp.HEADER_REASON]["enum"]


def test_intent_messages_require_the_amqp_properties_the_hub_relies_on() -> None:
    # Given one intent message's AMQP binding
    message = _document()["components"]["messages"]["patient.create.v1"]
    properties = message["bindings"]["amqp"]["x-amqp-properties"]
    # When its required properties are read
    # Then content type, persistence, the vendor's user id and the message id are required
    assert set(properties["required"]) == {"content_type", "delivery_mode", "user_id", "message_id"}
    assert properties["properties"]["delivery_mode"]["const"] == 2
    assert "correlation_id" in properties["properties"]


def test_change_events_have_their_channel_on_the_outcome_exchange_and_a_typed_message() -> None:
    # Given the document
    document = _document()
    # When the change channel and message are read
    changes = document["channels"]["changes"]
    message = document["components"]["messages"]["change.v1"]
    properties = message["bindings"]["amqp"]["x-amqp-properties"]
    # Then they ride hub.outcomes under the vendor's key, typed change.v1, received by vendors
    assert changes["address"] == "{vendor}.{office}.change.{table}.{door}"
    assert changes["bindings"]["amqp"]["exchange"]["name"] == amqp.OUTCOMES_EXCHANGE
    assert properties["properties"]["type"]["const"] == "change.v1"
    assert message["payload"]["schema"]["$ref"] == "schemas/change.v1.schema.json"
    assert document["operations"]["receiveChange"]["action"] == "receive"
