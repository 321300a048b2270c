"""Fleet tests reuse the writer's world (tests/writer/conftest.py): a real simulator, a throwaway
migrated ledger, real vendor broker users."""

from __future__ import annotations

from tests.writer.conftest import (
    hub_channel,
    ledger,
    ledger_db,
    make_world,
    management,
    simulator,
)

__all__ = ["hub_channel", "ledger", "ledger_db", "make_world", "management", "simulator"]
