"""What the product never imports: the simulator and the lab.

The simulator stands in for Open Dental: only the command line starts it, from inside a command
function, so importing any hub module (writer, ledger, client) never loads it. The lab (``lab/``:
demo, chaos, bench) imports the product, never the reverse: ``hub`` finds its commands through
the ``hub.commands`` entry points and loads one only when it is asked for, so ``hub worker``
runs without it, as in the production image, which ships without it.
"""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import entry_points
from pathlib import Path

from typer.testing import CliRunner

from hub import names
from hub.broker_admin import management_api
from hub.cli import app
from hub.cli.extra_commands import GROUP
from hub.registry import V1_CONTRACTS
from hub.settings import HubSettings
from tests.support.mariadb import ROOT as MARIADB
from tests.support.mariadb import throwaway_database
from tests.writer.support import FULL_KEY, GUARD_S, OfficeSpec, VendorSpec, unique, write_world

ROOT = Path(__file__).resolve().parents[1]
HUB_SIDE = ("hub", "contracts", "adapters")


def _imports_of(package: str, tree: ast.AST) -> list[ast.stmt]:
    found: list[ast.stmt] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [node.module or ""] if node.level == 0 else []
        else:
            continue
        if any(module.split(".")[0] == package for module in modules):
            found.append(node)
    return found


def _odsim_imports(tree: ast.AST) -> list[ast.stmt]:
    return _imports_of("odsim", tree)


def _function_body_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def test_only_cli_commands_import_the_simulator_and_only_lazily() -> None:
    # Given every Python file of the hub's side of the repository
    offenders: list[str] = []
    for package in HUB_SIDE:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            # When we look for imports of the simulator package
            for node in _odsim_imports(tree):
                rel = path.relative_to(ROOT).as_posix()
                in_cli = rel.startswith("hub/cli/")
                lazy = node.lineno in _function_body_lines(tree)
                if not (in_cli and lazy):
                    offenders.append(f"{rel}:{node.lineno}")
    # Then there are none outside command functions of hub/cli
    assert offenders == []


def test_importing_the_hub_does_not_load_the_simulator() -> None:
    # Given a fresh interpreter, When it imports the hub's command line and every hub module
    code = (
        "import importlib, pkgutil, sys, hub, contracts\n"
        "for pkg in (hub, contracts):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] == 'odsim'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    # Then no odsim module was loaded
    assert out.stdout.strip() == "[]"


# The lab ---------------------------------------------------------------------------------------


def _dynamic_imports_of(package: str, tree: ast.AST) -> list[ast.expr]:
    """``importlib.import_module("lab...")`` and ``__import__("lab...")`` calls."""
    found: list[ast.expr] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        func, first = node.func, node.args[0]
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        module = first.value if isinstance(first, ast.Constant) else None
        if called in {"import_module", "__import__"} and str(module).split(".")[0] == package:
            found.append(node)
    return found


def test_the_product_never_imports_the_lab() -> None:
    # Given every Python file of the product (hub, contracts, adapters)
    offenders: list[str] = []
    for package in HUB_SIDE:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            # When we look for imports of the lab, at module level, in functions or by name
            nodes: list[ast.stmt | ast.expr] = [
                *_imports_of("lab", tree), *_dynamic_imports_of("lab", tree)
            ]
            offenders += [f"{path.relative_to(ROOT).as_posix()}:{node.lineno}" for node in nodes]
    # Then there are none at all: the lab's commands come through entry points
    assert offenders == []


def test_the_static_check_finds_an_import_of_the_lab() -> None:
    # Given the two ways a product module could reach the lab, Then the check above sees each
    assert _imports_of("lab", ast.parse("def f():\n    from lab.demo import run_demo\n"))
    assert _dynamic_imports_of("lab", ast.parse("importlib.import_module('lab.cli.demo_cmd')"))
    assert not _imports_of("lab", ast.parse("import labels\nfrom hub import lab_notes\n"))


LAB_COMMANDS = ["bench", "bench-sim", "chaos", "cluster", "demo"]
# ``hub`` as the console script runs it, in an interpreter that cannot import the lab: what the
# production image is (its ``pip install .`` declares the entry points, and lab/ is not copied).
WITHOUT_THE_LAB = """
import sys

class NoLab:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.split(".")[0] == "lab":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NoLab)
from hub.cli import main
main()
"""


def test_the_lab_commands_are_entry_points_listed_by_hub_help() -> None:
    # Given the installed hub.commands entry points
    points = {point.name: point for point in entry_points(group=GROUP)}
    # Then the lab's four commands are there, each registering the command it is named after
    assert sorted(points) == LAB_COMMANDS
    assert all(point.module.startswith("lab.cli.") for point in points.values())
    # And hub --help lists them beside the hub's own, and each answers its own --help
    listed = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert listed.exit_code == 0, listed.output
    for name in [*LAB_COMMANDS, "worker"]:
        assert f" {name} " in listed.output, name
        assert CliRunner().invoke(app, [name, "--help"]).exit_code == 0, name


def test_without_the_lab_hub_works_and_a_lab_command_says_it_is_not_installed() -> None:
    # Given hub in an interpreter where the entry points name a lab that cannot be imported
    def hub(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "COLUMNS": "200"}
        return subprocess.run([sys.executable, "-c", WITHOUT_THE_LAB, *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)

    # When it lists its commands, Then they are the hub's own only
    listed = hub("--help")
    assert listed.returncode == 0, listed.stderr
    assert " worker " in listed.stdout
    assert not [name for name in LAB_COMMANDS if f" {name} " in listed.stdout]
    # And the hub's commands still run
    assert hub("worker", "--help").returncode == 0
    # When a lab command is invoked, Then it exits 2 saying the lab is not installed here
    demo = hub("demo", "--json")
    assert demo.returncode == 2
    assert "'demo' is not installed here" in demo.stderr
    assert "No module named 'lab'" in demo.stderr


@asynccontextmanager
async def _worker_world(tmp_path: Path, od_database: str) -> AsyncIterator[dict[str, str]]:
    """One office and one vendor on a throwaway ledger: the environment of ``hub worker``; the
    office's and vendor's queues are deleted afterwards."""
    office = OfficeSpec(id=unique("t-office"), customer_key=FULL_KEY)
    vendor = VendorSpec(name=unique("t-vendor"), agreements={office.id: tuple(V1_CONTRACTS)})
    async with throwaway_database("tw") as ledger_name:
        ledger = MARIADB.model_copy(update={"database": ledger_name})
        world = write_world(
            tmp_path, api_url="http://127.0.0.1:9", od_database=od_database, ledger_db=ledger,
            offices=[office], vendors=[vendor],
        )
        try:
            yield {
                **os.environ, **world.environ,
                "HUB_REGISTRY_PATH": str(world.settings.registry_path),
                "HUB_LEDGER_DB__HOST": ledger.host, "HUB_LEDGER_DB__PORT": str(ledger.port),
                "HUB_LEDGER_DB__USER": ledger.user, "HUB_LEDGER_DB__DATABASE": ledger.database,
                "HUB_LOG_FORMAT": "json",
                "HUB_METRICS_PORT": "0",  # any free port: the machine may run other writers
            }
        finally:
            async with management_api(HubSettings()) as management:
                await management.delete_queue(names.office_queue(office.id))
                await management.delete_queue(names.outcome_queue(vendor.name))


def _log_message(line: str) -> str:
    return str(json.loads(line).get("message", "")) if line.startswith("{") else ""


async def _read_until_started(stream: asyncio.StreamReader) -> list[str]:
    """stderr up to the writer's last start-up log line (every office consuming, heap frozen)."""
    lines: list[str] = []
    while not lines or not _log_message(lines[-1]).startswith("froze "):
        line = await stream.readline()
        assert line, "hub worker ended before it started:\n" + "".join(lines[-40:])
        lines.append(line.decode())
    return lines


def _imported(stderr_lines: list[str]) -> set[str]:
    """The modules ``python -X importtime`` reported ("import time: self | cumulative | name")."""
    return {
        line.rsplit("|", 1)[-1].strip() for line in stderr_lines
        if line.startswith("import time:") and "|" in line
    }


async def test_hub_worker_starts_and_stops_without_importing_the_lab(
    tmp_path: Path, empty_database: str
) -> None:
    # Given an interpreter that can import the lab, and a world for one writer
    assert importlib.util.find_spec("lab") is not None
    async with _worker_world(tmp_path, empty_database) as environment:
        # When `hub worker` starts under -X importtime, consumes, and is stopped with SIGTERM
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-X", "importtime", "-c", "from hub.cli import main; main()",
            "worker", env=environment, stderr=asyncio.subprocess.PIPE,
        )
        assert process.stderr is not None
        async with asyncio.timeout(GUARD_S):  # a guard, not a timing
            lines = await _read_until_started(process.stderr)
            process.send_signal(signal.SIGTERM)
            lines += (await process.stderr.read()).decode().splitlines(keepends=True)
            await process.wait()
    # Then it drained and exited 0, having imported the writer and no module of the lab
    assert process.returncode == 0, "".join(lines[-40:])
    imported = _imported(lines)
    assert {"hub.cli.worker_cmd", "hub.writer.worker"} <= imported
    assert sorted(name for name in imported if name.split(".")[0] == "lab") == []
