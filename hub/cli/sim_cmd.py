"""``hub sim`` and ``hub bench-sim``: the Open Dental simulator.

The simulator stands in for Open Dental and lives in the separate ``odsim`` package; only this
module imports it, and only inside the commands, so the writer, ledger and client never load it.
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("sim")
    def sim() -> None:
        """Run the Open Dental API simulator."""
        raise typer.Exit(code=2)
