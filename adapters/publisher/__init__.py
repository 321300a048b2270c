"""The vendor's publisher library: intents to the hub with publisher confirms, re-sends after a
reconnect, and the vendor's outcome events. See ``publisher.py`` for an example."""

from adapters.publisher import intents
from adapters.publisher.errors import (
    NotConfirmedReason,
    PublisherConnectError,
    PublisherError,
    PublishNotConfirmed,
)
from adapters.publisher.message import PublishReceipt
from adapters.publisher.publisher import VendorPublisher
from adapters.publisher.tls import vendor_tls

__all__ = [
    "NotConfirmedReason",
    "PublishNotConfirmed",
    "PublishReceipt",
    "PublisherConnectError",
    "PublisherError",
    "VendorPublisher",
    "intents",
    "vendor_tls",
]
