"""Shared fixtures. Every test builds its own databases and broker objects with unique names."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.mariadb import throwaway_database


@pytest.fixture
async def empty_database() -> AsyncIterator[str]:
    """The name of a fresh, empty MariaDB database, dropped after the test."""
    async with throwaway_database("t") as name:
        yield name
