"""Commands that other installed packages add to ``hub`` through the ``hub.commands`` entry
points (pyproject.toml); the lab's ``demo``, ``chaos``, ``bench`` and ``bench-sim`` come this way.

An entry point names a ``register(app)`` function, the shape of every command module here. It is
imported only when its command is invoked, or when ``hub --help`` lists the commands: ``hub
worker`` and the hub's other commands never read the entry points. One whose module is not
installed (the production image ships without the lab) is left out of the list, and invoking
it says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING

import typer
from typer.core import TyperGroup
from typer.main import get_group

if TYPE_CHECKING:
    from typer._click import Command, Context  # Typer's own Click, the base of TyperGroup

GROUP = "hub.commands"
Register = Callable[[typer.Typer], None]


@dataclass(frozen=True, kw_only=True)
class NotInstalled:
    module: str
    reason: str  # the import's own message, e.g. "No module named 'lab'"


class WithExtraCommands(TyperGroup):
    """The hub's own commands first, then the entry points', each loaded on first use."""

    @cached_property
    def _entry_points(self) -> dict[str, EntryPoint]:
        found: dict[str, EntryPoint] = {}
        for point in entry_points(group=GROUP):
            found.setdefault(point.name, point)
        return found

    @cached_property
    def _loaded(self) -> dict[str, Command | NotInstalled]:
        return {}

    def list_commands(self, ctx: Context) -> list[str]:
        own = super().list_commands(ctx)
        extra = [
            name for name in sorted(self._entry_points)
            if name not in own and not isinstance(self._load(name), NotInstalled)
        ]
        return [*own, *extra]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        own = super().get_command(ctx, cmd_name)
        if own is not None or cmd_name not in self._entry_points:
            return own
        loaded = self._load(cmd_name)
        if isinstance(loaded, NotInstalled):
            ctx.fail(f"'{cmd_name}' is not installed here: {loaded.module} cannot be imported "
                     f"({loaded.reason}). The lab's commands come with the repository's install "
                     "(pip install -e '.[dev]'); the production image ships without them.")
        return loaded

    def _load(self, name: str) -> Command | NotInstalled:
        if name not in self._loaded:
            self._loaded[name] = _command(self._entry_points[name], name)
        return self._loaded[name]


def _command(point: EntryPoint, name: str) -> Command | NotInstalled:
    """The command ``point``'s register function adds, or why its module is not installed; any
    other import failure is a bug in that module, and raises."""
    try:
        register: Register = point.load()
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if point.module == missing or point.module.startswith(f"{missing}."):
            return NotInstalled(module=point.module, reason=str(exc))
        raise
    app = typer.Typer(add_completion=False)
    register(app)
    return get_group(app).commands[name]
