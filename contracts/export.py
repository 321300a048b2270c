"""The generated artifacts (JSON Schemas and the AsyncAPI document): render, write, check.

They are committed beside the package, and CI checks them to be current with the models.
Rendering is deterministic: sorted keys, indent 2, a trailing newline.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from contracts.asyncapi import asyncapi_document
from contracts.compatibility import Break, breaking_changes, withdrawn
from contracts.generated import Drift, compare, json_text, write_files
from contracts.jsonschemas import (
    CHANGE_NAME,
    OUTCOME_NAME,
    change_schema,
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


def render_all() -> dict[str, str]:
    """Every artifact's text by its path relative to the package directory."""
    files = {schema_file(intent_schema_name(m)): json_text(intent_schema(m)) for m in INTENT_MODELS}
    files[schema_file(OUTCOME_NAME)] = json_text(outcome_schema())
    files[schema_file(CHANGE_NAME)] = json_text(change_schema())
    files[ASYNCAPI_FILE] = json_text(asyncapi_document())
    return dict(sorted(files.items()))


def write_all(directory: Path) -> list[str]:
    """Write every artifact under ``directory``; the relative paths written."""
    return write_files(directory, render_all())


def check(directory: Path) -> Drift:
    """Compare the artifacts under ``directory`` with a fresh render."""
    return compare(directory, render_all(), _GENERATED_GLOB)


def published_schemas() -> dict[str, dict[str, Any]]:
    """Every schema the models generate now, by its name (``commlog.create.v1``, ``outcome.v1``,
    ``change.v1``)."""
    schemas = {intent_schema_name(model): intent_schema(model) for model in INTENT_MODELS}
    schemas[OUTCOME_NAME] = outcome_schema()
    schemas[CHANGE_NAME] = change_schema()
    return schemas


def breaks(directory: Path) -> list[Break]:
    """Every breaking change of the models against the committed schema of each published
    version under ``directory`` (contracts/compatibility.py says what breaks)."""
    fresh = published_schemas()
    found: list[Break] = []
    for path in sorted((directory / "schemas").glob("*.schema.json")):
        name = path.name.removesuffix(".schema.json")
        committed = json.loads(path.read_text(encoding="utf-8"))
        found += [withdrawn(name)] if name not in fresh else breaking_changes(
            name, committed, fresh[name]
        )
    return found
