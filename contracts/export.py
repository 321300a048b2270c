"""The generated artifacts (JSON Schemas and the AsyncAPI document): render, write, check.

They are committed beside the package, and CI checks them to be current with the models.
Rendering is deterministic: sorted keys, indent 2, a trailing newline.
"""

from __future__ import annotations

from pathlib import Path

from contracts.asyncapi import asyncapi_document
from contracts.generated import Drift, compare, json_text, write_files
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


def render_all() -> dict[str, str]:
    """Every artifact's text by its path relative to the package directory."""
    files = {schema_file(intent_schema_name(m)): json_text(intent_schema(m)) for m in INTENT_MODELS}
    files[schema_file(OUTCOME_NAME)] = json_text(outcome_schema())
    files[ASYNCAPI_FILE] = json_text(asyncapi_document())
    return dict(sorted(files.items()))


def write_all(directory: Path) -> list[str]:
    """Write every artifact under ``directory``; the relative paths written."""
    return write_files(directory, render_all())


def check(directory: Path) -> Drift:
    """Compare the artifacts under ``directory`` with a fresh render."""
    return compare(directory, render_all(), _GENERATED_GLOB)
