"""The ``--operator`` option every audited command shares, and whom it names."""

from __future__ import annotations

from typing import Annotated

import typer

from hub.audit import Operator, operator_of
from hub.settings import HubSettings

OperatorOption = Annotated[
    str | None,
    typer.Option(
        "--operator",
        help="Your name for the audit trail, beside the OS user (default: HUB_OPERATOR, else "
        "the OS user).",
        show_default=False,
    ),
]


def operator_for(given: str | None, settings: HubSettings) -> Operator:
    """Who runs an audited command: ``--operator``, else ``HUB_OPERATOR``, else the OS user."""
    return operator_of(given, settings.operator)
