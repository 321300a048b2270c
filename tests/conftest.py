"""Shared fixtures. Every test builds its own databases and broker objects with unique names."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from tests.support.mariadb import throwaway_database


def pytest_configure(config: pytest.Config) -> None:
    # Hypothesis caches what it reads of the code in ./.hypothesis, from collection on; the
    # property tests keep no examples, so its caches go to the temporary directory instead.
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "od-hub-hypothesis")


@pytest.fixture
async def empty_database() -> AsyncIterator[str]:
    """The name of a fresh, empty MariaDB database, dropped after the test."""
    async with throwaway_database("t") as name:
        yield name
