"""The Open Dental API client: typed requests, pacing per customer key, classified failures."""

from hub.opendental.client import OpenDentalClient
from hub.opendental.http_client import HttpClient, HttpTimeouts
from hub.opendental.office import OfficeApi
from hub.opendental.pacer import KeyPacer, Pacer
from hub.opendental.results import ApiCall, Created, Row, Updated, WireBody

__all__ = [
    "ApiCall",
    "Created",
    "HttpClient",
    "HttpTimeouts",
    "KeyPacer",
    "OfficeApi",
    "OpenDentalClient",
    "Pacer",
    "Row",
    "Updated",
    "WireBody",
]
