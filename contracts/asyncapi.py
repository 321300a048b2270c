"""The AsyncAPI 3.0 document of the vendor side: send intents, receive outcomes and change events;
plus the dead-letter queue where the hub keeps what it rejected or gave up on."""

from __future__ import annotations

import inspect
from typing import Any

from contracts import amqp
from contracts.change import ChangeDoor
from contracts.envelope import Intent
from contracts.jsonschemas import CHANGE_NAME, OUTCOME_NAME, intent_schema_name, schema_file
from contracts.od_tables import WATCHED_TABLES
from contracts.outcome import OutcomeReason, OutcomeStatus
from contracts.registry import INTENT_MODELS, contract_key

BINDING_VERSION = "0.3.0"
SCHEMA_FORMAT = "application/schema+json;version=draft-2020-12"
OUTCOME_MESSAGE = "outcome.v1"
DEAD_LETTER_MESSAGE = "deadLetter"

_INFO = """\
The one safe door through which vendors write to Open Dental. A vendor publishes intent
messages (JSON) to the topic exchange `hub.intents` with routing key `<office>.<contract>`,
connected as its own broker user. The hub validates each intent against its contract version,
checks that the vendor may use that contract for that office, applies it exactly once through
the Open Dental API, and publishes one outcome event to `hub.outcomes`. Rejected and dead intents
are dead-lettered (exchange `hub.dlx`, queue `hub.dead`) with their reason in headers. A vendor an
office agreed may read a table also receives a change event on `hub.outcomes` for every change of
that table's rows made otherwise than by its own intents."""

Json = dict[str, Any]


def _exchange_binding(name: str) -> Json:
    exchange = {"name": name, "type": "topic", "durable": True, "autoDelete": False, "vhost": "/"}
    return {"amqp": {"is": "routingKey", "exchange": exchange, "bindingVersion": BINDING_VERSION}}


def _properties(required: list[str], properties: Json) -> Json:
    # AsyncAPI's AMQP bindings have no field for basic properties: an x- extension states them.
    return {"type": "object", "required": required, "properties": properties}


def _intent_properties() -> Json:
    return _properties(
        ["content_type", "delivery_mode", "user_id", "message_id"],
        {
            "content_type": {"const": amqp.CONTENT_TYPE},
            "delivery_mode": {"const": amqp.PERSISTENT, "description": "Persistent."},
            "user_id": {
                "type": "string",
                "description": "The vendor's broker user. RabbitMQ refuses a publish whose "
                "user_id is not the connection's user: this is how the hub knows the vendor.",
            },
            "message_id": {
                "type": "string",
                "description": "The envelope's idempotency_key, so the hub can name the intent "
                "even when its body cannot be read.",
            },
            "correlation_id": {
                "type": "string",
                "description": "Optional; the envelope's correlation_id.",
            },
        },
    )


def _intent_message(model: type[Intent]) -> Json:
    contract, version = contract_key(model)
    name = intent_schema_name(model)
    return {
        **_deprecation(model),
        "name": name,
        "title": f"{contract} v{version}",
        "summary": inspect.cleandoc(model.__doc__ or ""),
        "contentType": amqp.CONTENT_TYPE,
        "payload": {"schemaFormat": SCHEMA_FORMAT, "schema": {"$ref": schema_file(name)}},
        "correlationId": {"location": "$message.payload#/correlation_id"},
        "bindings": {
            "amqp": {"bindingVersion": BINDING_VERSION, "x-amqp-properties": _intent_properties()}
        },
    }


def _deprecation(model: type[Intent]) -> Json:
    # AsyncAPI 3 has no deprecated flag on a message: a description and an extension carry it.
    if model.deprecation is None:
        return {}
    sunset, successor = model.deprecation.sunset.isoformat(), model.deprecation.successor
    return {
        "description": f"Deprecated: served until {sunset}; move to version {successor}.",
        "x-deprecated": {"sunset": sunset, "successor": successor},
    }


def _outcome_message() -> Json:
    properties = _properties(
        ["content_type", "delivery_mode"],
        {
            "content_type": {"const": amqp.CONTENT_TYPE},
            "delivery_mode": {"const": amqp.PERSISTENT},
            "correlation_id": {"type": "string", "description": "The intent's, if it had one."},
        },
    )
    return {
        "name": OUTCOME_MESSAGE,
        "title": "Outcome event v1",
        "summary": "What the hub decided for one intent: applied, rejected or dead.",
        "contentType": amqp.CONTENT_TYPE,
        "payload": {"schemaFormat": SCHEMA_FORMAT, "schema": {"$ref": schema_file(OUTCOME_NAME)}},
        "correlationId": {"location": "$message.payload#/correlation_id"},
        "bindings": {"amqp": {"bindingVersion": BINDING_VERSION, "x-amqp-properties": properties}},
    }


def _change_message() -> Json:
    properties = _properties(
        ["content_type", "delivery_mode", "type", "message_id"],
        {
            "content_type": {"const": amqp.CONTENT_TYPE},
            "delivery_mode": {"const": amqp.PERSISTENT},
            "type": {
                "const": CHANGE_NAME,
                "description": "Tells a change event from an outcome event on the one queue.",
            },
            "message_id": {"type": "string", "description": "The event's event_id."},
        },
    )
    return {
        "name": CHANGE_NAME,
        "title": "Change event v1",
        "summary": "A row of a table the office agreed the vendor may read changed: its key, "
        "the door it came through, the changed columns, and the values the agreement lists.",
        "contentType": amqp.CONTENT_TYPE,
        "payload": {"schemaFormat": SCHEMA_FORMAT, "schema": {"$ref": schema_file(CHANGE_NAME)}},
        "bindings": {"amqp": {"bindingVersion": BINDING_VERSION, "x-amqp-properties": properties}},
    }


def _dead_letter_message() -> Json:
    text = {"type": "string"}
    headers = {
        "type": "object",
        "required": [
            amqp.HEADER_REASON,
            amqp.HEADER_VENDOR,
            amqp.HEADER_OFFICE,
            amqp.HEADER_CONTRACT,
        ],
        "properties": {
            amqp.HEADER_REASON: {"type": "string", "enum": [r.value for r in OutcomeReason]},
            amqp.HEADER_VENDOR: text,
            amqp.HEADER_OFFICE: text,
            amqp.HEADER_CONTRACT: text,
        },
    }
    return {
        "name": DEAD_LETTER_MESSAGE,
        "title": "Dead-lettered intent",
        "summary": "An intent the hub rejected or gave up on, kept for inspection and replay.",
        "headers": headers,
        "payload": {
            "description": "The intent's body exactly as the vendor published it; it may not "
            "be valid JSON."
        },
    }


def _parameter(description: str, enum: list[str] | None = None) -> Json:
    return {"description": description, **({"enum": enum} if enum else {})}


def _message_refs(names: list[str]) -> Json:
    return {name: {"$ref": f"#/components/messages/{name}"} for name in names}


def _office_and_contract() -> Json:
    contracts = sorted({contract_key(model)[0] for model in INTENT_MODELS})
    return {
        "office": _parameter("The office id, ^[a-z0-9][a-z0-9-]{0,62}$."),
        "contract": _parameter("The contract name (its version is in the body).", contracts),
    }


def _intents_channel() -> Json:
    return {
        "address": "{office}.{contract}",
        "title": amqp.INTENTS_EXCHANGE,
        "description": "Vendors publish intents here; a vendor may publish only to the "
        "offices it is permitted (topic permissions) and only as itself (user_id).",
        "parameters": _office_and_contract(),
        "messages": _message_refs(_intent_names()),
        "bindings": _exchange_binding(amqp.INTENTS_EXCHANGE),
    }


def _outcomes_channel() -> Json:
    statuses = [status.value for status in OutcomeStatus]
    return {
        "address": "{vendor}.{office}.{contract}.{status}",
        "title": amqp.OUTCOMES_EXCHANGE,
        "description": "One outcome event per intent. A vendor binds its own queue with "
        "`<vendor>.#` and can read only its own outcomes.",
        "parameters": {
            "vendor": _parameter("The vendor's broker user."),
            **_office_and_contract(),
            "status": _parameter("Where the intent ended.", statuses),
        },
        "messages": _message_refs([OUTCOME_MESSAGE]),
        "bindings": _exchange_binding(amqp.OUTCOMES_EXCHANGE),
    }


def _changes_channel() -> Json:
    return {
        "address": "{vendor}.{office}.change.{table}.{door}",
        "title": amqp.OUTCOMES_EXCHANGE,
        "description": "Change events, on the outcome exchange and so in the vendor's outcome "
        "queue (bound with `<vendor>.#`): one per change of a table the office agreed the vendor "
        "may read, except the vendor's own writes through the hub. At least once: a repeat "
        "has the same event_id.",
        "parameters": {
            "vendor": _parameter("The vendor's broker user."),
            "office": _parameter("The office id, ^[a-z0-9][a-z0-9-]{0,62}$."),
            "table": _parameter("The Open Dental table.", list(WATCHED_TABLES)),
            "door": _parameter("Which way the change came.", [d.value for d in ChangeDoor]),
        },
        "messages": _message_refs([CHANGE_NAME]),
        "bindings": _exchange_binding(amqp.OUTCOMES_EXCHANGE),
    }


def _dead_letters_channel() -> Json:
    queue = {
        "name": amqp.DEAD_LETTER_QUEUE,
        "durable": True,
        "exclusive": False,
        "autoDelete": False,
        "vhost": "/",
    }
    return {
        "address": amqp.DEAD_LETTER_QUEUE,
        "title": amqp.DEAD_LETTER_QUEUE,
        "description": f"Rejected and dead intents, dead-lettered through the exchange "
        f"{amqp.DEAD_LETTER_EXCHANGE} with their reason, vendor, office and contract in "
        "headers. Read by the hub's operators, not by vendors.",
        "messages": _message_refs([DEAD_LETTER_MESSAGE]),
        "bindings": {"amqp": {"is": "queue", "queue": queue, "bindingVersion": BINDING_VERSION}},
    }


def _intent_names() -> list[str]:
    return [intent_schema_name(model) for model in INTENT_MODELS]


def _operations() -> Json:
    send_binding = {"deliveryMode": amqp.PERSISTENT, "bindingVersion": BINDING_VERSION}
    return {
        "sendIntent": {
            "action": "send",
            "channel": {"$ref": "#/channels/intents"},
            "summary": "A vendor asks the hub to apply one change to one office's Open Dental.",
            "description": "Publish persistent (delivery_mode 2), content_type application/json, "
            "with user_id set to the vendor's broker user and message_id to the idempotency_key; "
            "use publisher confirms.",
            "messages": [{"$ref": f"#/channels/intents/messages/{n}"} for n in _intent_names()],
            "bindings": {"amqp": send_binding},
        },
        "receiveOutcome": {
            "action": "receive",
            "channel": {"$ref": "#/channels/outcomes"},
            "summary": "A vendor learns what became of each of its intents.",
            "messages": [{"$ref": f"#/channels/outcomes/messages/{OUTCOME_MESSAGE}"}],
            "bindings": {"amqp": {"ack": True, "bindingVersion": BINDING_VERSION}},
        },
        "receiveChange": {
            "action": "receive",
            "channel": {"$ref": "#/channels/changes"},
            "summary": "A vendor learns that a row it may read changed at an office.",
            "messages": [{"$ref": f"#/channels/changes/messages/{CHANGE_NAME}"}],
            "bindings": {"amqp": {"ack": True, "bindingVersion": BINDING_VERSION}},
        },
    }


def asyncapi_document() -> Json:
    """The whole AsyncAPI 3.0 document, as a JSON-ready dict."""
    messages = {intent_schema_name(model): _intent_message(model) for model in INTENT_MODELS}
    messages[OUTCOME_MESSAGE] = _outcome_message()
    messages[CHANGE_NAME] = _change_message()
    messages[DEAD_LETTER_MESSAGE] = _dead_letter_message()
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Open Dental integration hub", "version": "1.0.0", "description": _INFO},
        "defaultContentType": amqp.CONTENT_TYPE,
        "servers": {
            "rabbitmq": {
                "host": "localhost:5672",
                "protocol": "amqp",
                "protocolVersion": "0.9.1",
                "description": "RabbitMQ. Each vendor connects as its own broker user.",
                "security": [{"$ref": "#/components/securitySchemes/brokerUser"}],
            }
        },
        "channels": {
            "intents": _intents_channel(),
            "outcomes": _outcomes_channel(),
            "changes": _changes_channel(),
            "deadLetters": _dead_letters_channel(),
        },
        "operations": _operations(),
        "components": {
            "messages": messages,
            "securitySchemes": {
                "brokerUser": {
                    "type": "userPassword",
                    "description": "The vendor's own RabbitMQ user; it is the vendor's identity.",
                }
            },
        },
    }
