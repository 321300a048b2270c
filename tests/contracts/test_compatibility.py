"""Breaking changes to a published version are caught: each kind, shown on a model tightened here
and compared with the committed schema of commlog.create v1; additive changes pass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, ClassVar, Literal

import pytest
from pydantic import Field, StringConstraints
from typer.testing import CliRunner

from contracts.compatibility import breaking_changes
from contracts.envelope import Intent
from contracts.export import breaks, package_dir, write_all
from contracts.fields import CommlogNote, DefinitionName, Key, OdDateTime
from contracts.jsonschemas import intent_schema
from contracts.rules import AtMostOneOf, ExactlyOneOf, FieldRule
from contracts.v1 import enums
from contracts.v1.commlog import CommlogCreate
from contracts.v1.subjects import NamesPatient
from hub.cli.contracts_cmd import app

PUBLISHED = "commlog.create.v1"


def _committed() -> dict[str, object]:
    path = package_dir() / "schemas" / f"{PUBLISHED}.schema.json"
    loaded: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _kinds(payload: type[CommlogCreate] | type[NamesPatient]) -> list[tuple[str, str]]:
    """The (path, kind) of each break of an intent carrying ``payload`` against v1's schema."""

    class Tightened(Intent):
        contract: Literal["commlog.create"]
        version: Literal[1]
        payload: payload  # type: ignore[valid-type]

    found = breaking_changes(PUBLISHED, _committed(), intent_schema(Tightened))
    return sorted((each.path, each.kind) for each in found)


class NoSentOrReceived(NamesPatient):
    """v1 without SentOrReceived (removed)."""

    rules: ClassVar[tuple[FieldRule, ...]] = (
        *NamesPatient.rules,
        AtMostOneOf(("CommType", "commType")),
    )
    Note: CommlogNote
    CommDateTime: OdDateTime | None = None
    CommType: Key | None = None
    commType: DefinitionName | None = None
    Mode_: enums.CommMode | None = None


class RenamedNote(NamesPatient):
    """v1 with Note renamed to Text."""

    rules: ClassVar[tuple[FieldRule, ...]] = (
        *NamesPatient.rules,
        AtMostOneOf(("CommType", "commType")),
    )
    Text: CommlogNote
    CommDateTime: OdDateTime | None = None
    CommType: Key | None = None
    commType: DefinitionName | None = None
    Mode_: enums.CommMode | None = None
    SentOrReceived: enums.SentOrReceived | None = None


class CommTypeAsName(CommlogCreate):
    CommType: DefinitionName | None = None  # type: ignore[assignment]


class ShorterNote(CommlogCreate):
    Note: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class LongerMinimumNote(CommlogCreate):
    Note: Annotated[str, StringConstraints(min_length=10, max_length=10_000)]


class PatternOnTypeName(CommlogCreate):
    commType: Annotated[str, StringConstraints(pattern=r"^[A-Za-z ]+$")] | None = None


class FewerModes(CommlogCreate):
    Mode_: Literal["None", "Email", "Phone", "Text"] | None = None


class FormatOnDateTime(CommlogCreate):
    CommDateTime: Annotated[str, Field(json_schema_extra={"format": "date-time"})] | None = None


class DateTimeRequired(CommlogCreate):
    CommDateTime: OdDateTime


class SmallerCommType(CommlogCreate):
    CommType: Annotated[int, Field(ge=1, le=1_000_000)] | None = None


class ExactlyOneType(CommlogCreate):
    rules: ClassVar[tuple[FieldRule, ...]] = (
        *NamesPatient.rules,
        ExactlyOneOf(("CommType", "commType")),
    )


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (NoSentOrReceived, [("payload.SentOrReceived", "removed")]),
        (RenamedNote, [("payload.Note", "removed"), ("payload.Text", "required")]),
        (CommTypeAsName, [("payload.CommType", "type"), ("payload.CommType", "min_length"),
                          ("payload.CommType", "max_length"), ("payload.CommType", "pattern")]),
        (ShorterNote, [("payload.Note", "max_length")]),
        (LongerMinimumNote, [("payload.Note", "min_length")]),
        (PatternOnTypeName, [("payload.commType", "pattern")]),
        (FewerModes, [("payload.Mode_", "enum")]),
        (FormatOnDateTime, [("payload.CommDateTime", "format")]),
        (DateTimeRequired, [("payload.CommDateTime", "required")]),
        (SmallerCommType, [("payload.CommType", "maximum")]),
        (ExactlyOneType, [("payload", "rule")]),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else "",
)
def test_each_kind_of_breaking_change_is_caught(
    payload: type[CommlogCreate], expected: list[tuple[str, str]]
) -> None:
    # Given commlog.create v1's payload changed in one breaking way
    # When its schema is compared with the committed one of the published version
    found = _kinds(payload)
    # Then exactly that break is named, by field path and kind
    assert found == sorted(expected)


class Additive(CommlogCreate):
    """A new optional field, a looser limit, a new enum value: nothing a v1 vendor sent fails."""

    Note: Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
    Mode_: Literal[
        "None", "Email", "Mail", "Phone", "InPerson", "Text", "EmailAndText", "PhoneAndText", "Fax"
    ] | None = None  # type: ignore[assignment]
    Urgent: Literal["true", "false"] | None = None


def test_additive_changes_pass() -> None:
    # Given v1's payload with only additive changes
    # When compared with the committed schema
    found = _kinds(Additive)
    # Then nothing breaks
    assert found == []


def test_an_unknown_field_accepted_then_refused_is_caught() -> None:
    # Given a published schema that took unknown payload fields, and the closed model of today
    committed = _committed()
    opened = json.loads(json.dumps(committed))
    opened["$defs"]["CommlogCreate"]["additionalProperties"] = True

    class Same(Intent):
        contract: Literal["commlog.create"]
        version: Literal[1]
        payload: CommlogCreate

    # When they are compared
    found = breaking_changes(PUBLISHED, opened, intent_schema(Same))
    # Then closing the payload is a break
    assert [(each.path, each.kind) for each in found] == [("payload", "closed")]


def test_served_models_break_no_committed_schema_and_a_withdrawn_version_is_caught(
    tmp_path: Path,
) -> None:
    # Given the committed artifacts, and a copy with a version no model serves
    write_all(tmp_path)
    clean = breaks(package_dir())
    (tmp_path / "schemas" / "commlog.create.v0.schema.json").write_text(
        (tmp_path / "schemas" / f"{PUBLISHED}.schema.json").read_text()
    )
    # When each is checked
    found = breaks(tmp_path)
    # Then today's models break nothing, and the version without a model is named withdrawn
    assert clean == []
    assert [(each.version, each.kind) for each in found] == [("commlog.create.v0", "withdrawn")]


def test_check_names_a_break_and_export_refuses_to_overwrite_the_published_schema(
    tmp_path: Path,
) -> None:
    # Given committed artifacts whose published commlog.create v1 took notes up to 20,000
    # characters, and today's model that takes 10,000
    write_all(tmp_path)
    published = tmp_path / "schemas" / f"{PUBLISHED}.schema.json"
    looser = published.read_text().replace('"maxLength": 10000', '"maxLength": 20000')
    published.write_text(looser)
    # When the contracts are checked, then exported
    checked = CliRunner().invoke(app, ["check", "--dir", str(tmp_path)])
    exported = CliRunner().invoke(app, ["export", "--dir", str(tmp_path)])
    # Then both exit 1 naming the version, the field, the kind of break, and the published
    # schema is left as it was
    line = "breaking: commlog.create.v1: payload.Note: max_length: maxLength was 20000, now 10000"
    assert (checked.exit_code, exported.exit_code) == (1, 1)
    assert line in checked.output
    assert line in exported.output
    assert published.read_text() == looser
