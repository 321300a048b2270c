"""Fixtures for the observability tests: a fresh registry and catalogue per test."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from hub.observability import HubMetrics, LabelBounds
from tests.writer.conftest import hub_channel, ledger_db, make_world, management, simulator

# The writer's world, for the end-to-end test that runs a real writer under a real Prometheus.
__all__ = ["hub_channel", "ledger_db", "make_world", "management", "simulator"]

BOUNDS = LabelBounds(
    vendors=frozenset({"acme", "paywell"}),
    offices=frozenset({"office-1", "office-2"}),
    agreements=frozenset(
        {("acme", "office-1", "patient.create"), ("paywell", "office-2", "payment.create")}
    ),
)


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def metrics(registry: CollectorRegistry) -> HubMetrics:
    return HubMetrics(registry, BOUNDS)
