"""The ``hub`` command: one Typer app; each subcommand module parses, builds settings, awaits one
function and maps the result to an exit code. Commands of other packages (the lab's ``demo``,
``chaos``, ``bench``, ``bench-sim``) come from entry points, loaded only when asked for
(``extra_commands``)."""

from __future__ import annotations

import typer

from hub.cli import (
    audit_cmd,
    check_cmd,
    console_cmd,
    contracts_cmd,
    dashboards_cmd,
    dlq_cmd,
    dlq_expired_cmd,
    extra_commands,
    forms_cmd,
    migrate_cmd,
    office_cmd,
    settings_cmd,
    sim_cmd,
    status_cmd,
    topology_cmd,
    trace_cmd,
    vendor_cmd,
    watch_cmd,
    worker_cmd,
)

HELP = (
    "The Open Dental integration hub: vendors' intents in over RabbitMQ, applied to Open Dental "
    "through its API exactly once, traceable both ways."
)

app = typer.Typer(
    cls=extra_commands.WithExtraCommands, no_args_is_help=True, add_completion=False, help=HELP
)
app.add_typer(contracts_cmd.app, name="contracts")
sim_cmd.register(app)
topology_cmd.register(app)
vendor_cmd.register(app)
migrate_cmd.register(app)
trace_cmd.register(app)
forms_cmd.register(app)
worker_cmd.register(app)
dlq_cmd.register(app)
dlq_expired_cmd.register(dlq_cmd.dlq)
dashboards_cmd.register(app)
office_cmd.register(app)
status_cmd.register(app)
check_cmd.register(app)
settings_cmd.register(app)
audit_cmd.register(app)
console_cmd.register(app)
watch_cmd.register(app)


def main() -> None:
    app()
