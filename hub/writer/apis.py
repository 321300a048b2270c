"""The writer's port to the offices' Open Dental APIs, and its adapter over the one HTTP client."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from hub.opendental import ApiCall, HttpClient, OfficeApi, OpenDentalClient, Pacer
from hub.writer.calls import OpenDentalWrites

OnCall = Callable[[ApiCall], None]


class OfficeApis(Protocol):
    def writes_for(self, office: str, on_call: OnCall) -> OpenDentalWrites:
        """A client for the office's API that reports each request to ``on_call``."""
        ...


@dataclass(frozen=True, kw_only=True)
class HttpOfficeApis:
    """Every office over one shared HTTP client and one pacer (per customer key)."""

    http: HttpClient
    pacer: Pacer
    offices: Mapping[str, OfficeApi]

    def writes_for(self, office: str, on_call: OnCall) -> OpenDentalWrites:
        # A client is a few references: one per attempt keeps each attempt's calls apart.
        return OpenDentalClient(self.http, self.offices[office], self.pacer, on_call=on_call)
