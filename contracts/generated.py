"""Generated files committed beside their sources: write them, or tell how the committed ones drift.

A generator renders ``{relative path: text}``; this module writes that render under a directory
or compares it with what is there. It knows nothing of contracts: it lives here because
``contracts`` imports no other package of the project, so both the contract artifacts and the
Grafana dashboards (grafana/dashboards_src) can share it without a cycle or a hub dependency.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


def json_text(document: object) -> str:
    """Canonical JSON (sorted keys, indent 2, a trailing newline), so a check can compare text."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generated_paths(directory: Path, pattern: str) -> list[str]:
    """The files under ``directory`` matching the glob ``pattern``, relative and sorted."""
    return sorted(path.relative_to(directory).as_posix() for path in directory.glob(pattern))


def write_files(
    directory: Path, files: Mapping[str, str], *, prune: str | None = None
) -> list[str]:
    """Write ``files`` under ``directory``; the relative paths written.

    With ``prune``, files matching that glob are removed first, so a generated file whose
    source is gone does not linger.
    """
    if prune is not None:
        for relative in generated_paths(directory, prune):
            (directory / relative).unlink()
    for relative, text in files.items():
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return list(files)


@dataclass(frozen=True, kw_only=True)
class Drift:
    """How the generated files under a directory differ from a fresh render."""

    stale: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        return not (self.stale or self.missing or self.unexpected)


def compare(directory: Path, files: Mapping[str, str], pattern: str) -> Drift:
    """Compare ``files`` with those under ``directory``; any other file matching the glob
    ``pattern`` there is unexpected."""
    present = generated_paths(directory, pattern)
    drift = Drift(unexpected=[relative for relative in present if relative not in files])
    for relative, text in files.items():
        target = directory / relative
        if not target.is_file():
            drift.missing.append(relative)
        elif target.read_text(encoding="utf-8") != text:
            drift.stale.append(relative)
    return drift
