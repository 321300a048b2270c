"""The simulator stands in for Open Dental: the hub's own code never imports it.

Only the command line starts it, from inside a command function, so importing any hub module
(writer, ledger, client) never loads the simulator.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HUB_SIDE = ("hub", "contracts", "adapters")


def _odsim_imports(tree: ast.AST) -> list[ast.stmt]:
    found: list[ast.stmt] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [node.module or ""]
        else:
            continue
        if any(module.split(".")[0] == "odsim" for module in modules):
            found.append(node)
    return found


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
