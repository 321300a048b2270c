"""``hub dashboards export|check``: the Grafana dashboards generated from grafana/dashboards_src.

The generator is imported inside each command: only developers and CI run them (its
grafana-foundation-sdk is a dev dependency), and ``hub --help`` must not need it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cli.generated_files import report_drift, report_written

HELP = "Grafana dashboards as code: write or check grafana/dashboards/*.json and queries.json."
Directory = Annotated[
    Path | None,
    typer.Option("--dir", help="The grafana folder (default: the repository's grafana/)."),
]


def export(directory: Directory = None) -> None:
    """Write grafana/dashboards/*.json and grafana/queries.json from the Python sources."""
    from grafana.dashboards_src.export import grafana_dir, write_all

    target = directory or grafana_dir()
    report_written("dashboards", write_all(target), target)


def check(directory: Directory = None) -> None:
    """Exit 1, naming the stale files, when the committed JSON differs from the sources."""
    from grafana.dashboards_src.export import check as check_files
    from grafana.dashboards_src.export import grafana_dir

    target = directory or grafana_dir()
    report_drift("dashboards", check_files(target), target)


def register(app: typer.Typer) -> None:
    group = typer.Typer(no_args_is_help=True, help=HELP)
    group.command("export")(export)
    group.command("check")(check)
    app.add_typer(group, name="dashboards")
