"""The generated artifacts (JSON Schemas and the AsyncAPI document): render, write, check.

They are committed beside the package, and CI checks them to be current with the models.
Rendering is deterministic: sorted keys, indent 2, a trailing newline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contracts.asyncapi import asyncapi_document
from contracts.jsonschemas import (
    OUTCOME_NAME,
    intent_schema,
    intent_schema_name,
    outcome_schema,
    schema_file,
)
from contracts.registry import INTENT_MODELS

ASYNCAPI_FILE = "asyncapi.json"
_GENERATED_GLOB = "schemas/*.schema.json"


def package_dir() -> Path:
    """Where the committed artifacts live: the installed package (the repo's contracts/ folder
    in an editable install)."""
    return Path(__file__).resolve().parent


def _render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_all() -> dict[str, str]:
    """Every artifact's text by its path relative to the package directory."""
    files = {schema_file(intent_schema_name(m)): _render(intent_schema(m)) for m in INTENT_MODELS}
    files[schema_file(OUTCOME_NAME)] = _render(outcome_schema())
    files[ASYNCAPI_FILE] = _render(asyncapi_document())
    return dict(sorted(files.items()))


def write_all(directory: Path) -> list[str]:
    """Write every artifact under ``directory``; the relative paths written."""
    written = []
    for relative, text in render_all().items():
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(relative)
    return written


@dataclass(frozen=True, kw_only=True)
class Drift:
    """How the artifacts under a directory differ from what the models render."""

    stale: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        return not (self.stale or self.missing or self.unexpected)


def check(directory: Path) -> Drift:
    """Compare the artifacts under ``directory`` with a fresh render."""
    expected = render_all()
    drift = Drift(unexpected=_unexpected(directory, expected))
    for relative, text in expected.items():
        target = directory / relative
        if not target.is_file():
            drift.missing.append(relative)
        elif target.read_text(encoding="utf-8") != text:
            drift.stale.append(relative)
    return drift


def _unexpected(directory: Path, expected: dict[str, str]) -> list[str]:
    found = (path.relative_to(directory).as_posix() for path in directory.glob(_GENERATED_GLOB))
    return sorted(relative for relative in found if relative not in expected)
