"""The committed artifacts: deterministic, current, and checked by ``hub contracts check``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from contracts import known_contracts
from contracts.export import package_dir, render_all, write_all
from hub.cli.contracts_cmd import app


def test_rendering_is_deterministic_and_canonical() -> None:
    # Given two renders
    first, second = render_all(), render_all()
    # When compared
    # Then they are equal, and every file is sorted-key JSON, indented 2, ending in a newline
    assert first == second
    for text in first.values():
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"


def test_one_schema_per_contract_version_plus_outcome_change_and_asyncapi() -> None:
    # Given the rendered artifacts
    paths = set(render_all())
    # When listed
    # Then each contract version has its schema, beside the outcome and change schemas and AsyncAPI
    assert "schemas/patient.create.v1.schema.json" in paths
    assert "schemas/outcome.v1.schema.json" in paths
    assert "schemas/change.v1.schema.json" in paths
    assert "asyncapi.json" in paths
    assert len(paths) == len(known_contracts()) + 3


def test_check_passes_on_the_committed_artifacts() -> None:
    # Given the installed package's artifacts
    # When checked
    result = CliRunner().invoke(app, ["check"])
    # Then they are current
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output
    assert str(package_dir()) in result.output


def test_check_fails_naming_stale_missing_and_unexpected_files(tmp_path: Path) -> None:
    # Given an exported copy with one file edited, one removed and one added
    CliRunner().invoke(app, ["export", "--dir", str(tmp_path)])
    stale = tmp_path / "schemas" / "payment.create.v1.schema.json"
    stale.write_text(stale.read_text().replace("PayAmt", "PayAmount"))
    (tmp_path / "asyncapi.json").unlink()
    (tmp_path / "schemas" / "patient.delete.v1.schema.json").write_text("{}\n")
    # When checked
    result = CliRunner().invoke(app, ["check", "--dir", str(tmp_path)])
    # Then it exits 1 and names each file with what is wrong
    assert result.exit_code == 1
    assert "stale: schemas/payment.create.v1.schema.json" in result.output
    assert "missing: asyncapi.json" in result.output
    assert "unexpected: schemas/patient.delete.v1.schema.json" in result.output


def test_export_writes_what_check_then_accepts(tmp_path: Path) -> None:
    # Given an empty directory
    # When exported into and checked
    exported = CliRunner().invoke(app, ["export", "--dir", str(tmp_path)])
    checked = CliRunner().invoke(app, ["check", "--dir", str(tmp_path)])
    # Then both succeed and the files are the render
    assert (exported.exit_code, checked.exit_code) == (0, 0)
    assert sorted(write_all(tmp_path)) == sorted(render_all())
