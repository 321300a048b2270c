"""The committed example messages beside the schemas, for parametrised tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts.export import package_dir

SCHEMAS_DIR = package_dir() / "schemas"
EXAMPLES_DIR = SCHEMAS_DIR / "examples"


@dataclass(frozen=True, kw_only=True)
class Example:
    schema_name: str
    path: Path

    @property
    def id(self) -> str:
        return f"{self.schema_name}/{self.path.stem}"

    def load(self) -> Any:
        return json.loads(self.path.read_text(encoding="utf-8"))

    def schema(self) -> Any:
        return json.loads((SCHEMAS_DIR / f"{self.schema_name}.schema.json").read_text())


# Examples of the events the hub publishes, not of intents a vendor sends (their own tests).
EVENT_EXAMPLES = frozenset({"change.v1"})


def examples(prefix: str) -> list[Example]:
    """Every intent example whose file name starts with ``prefix`` ("valid-" or "invalid-")."""
    return [
        Example(schema_name=folder.name, path=path)
        for folder in sorted(EXAMPLES_DIR.iterdir())
        if folder.name not in EVENT_EXAMPLES
        for path in sorted(folder.glob(f"{prefix}*.json"))
    ]


def event_examples(schema_name: str, prefix: str) -> list[Example]:
    """The examples of one event schema (``change.v1``) whose file name starts with ``prefix``."""
    folder = EXAMPLES_DIR / schema_name
    paths = sorted(folder.glob(f"{prefix}*.json"))
    return [Example(schema_name=schema_name, path=path) for path in paths]


def value_at(document: Any, path: str) -> Any:
    """The value a dotted error path points at, or None when it is absent."""
    node = document
    for part in [] if path == "$" else path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def distinctive_leaves(value: Any) -> list[str]:
    """Strings and numbers inside ``value`` long enough that finding one in a message means it
    leaked, not that it happens to be a common word or digit."""
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in distinctive_leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in distinctive_leaves(item)]
    if isinstance(value, bool) or value is None:
        return []
    text = str(value)
    return [text] if len(text) >= 5 else []
