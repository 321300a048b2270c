"""``hub cluster``'s commands without a cluster: they say where none is and exit 1. (The
cluster itself is started by tests/cluster/, once per module.)"""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from lab.cli.cluster_cmd import register


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False)
    register(app)
    return app


def test_every_command_names_the_home_without_a_cluster(tmp_path: Path) -> None:
    # Given a home with no cluster in it
    home = str(tmp_path / "none")
    for argv in (["status"], ["down"], ["kill", "2"], ["start", "2"]):
        # When a command is asked of it
        result = CliRunner().invoke(_app(), ["cluster", *argv, "--home", home])
        # Then it exits 1 saying there is no cluster there, touching no node
        assert result.exit_code == 1, (argv, result.output)
        said = result.output + result.stderr
        assert f"no cluster in {home}" in said, (argv, said)


def test_a_node_is_one_of_three() -> None:
    result = CliRunner().invoke(_app(), ["cluster", "kill", "4"])
    assert result.exit_code == 2
