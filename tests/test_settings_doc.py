"""docs/settings.md: current, checked like the contract schemas, and true to the models.

Every field of every settings model is on the page under the variable pydantic-settings really
reads (set it, and the field changes), and every field has a description: a setting added
without one fails here.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import AliasChoices, BaseModel, Field, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict
from typer.testing import CliRunner

from hub.cli import app
from hub.cli.settings_cmd import documented_models
from hub.settings import HubSettings
from hub.settings_doc import DOC_FILE, groups, render, repository_dir

PROBE = "x-probe"


def _fields(model: type[BaseModel], path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every leaf field's path, nested models walked (written apart from the generator's walk)."""
    for name, field in model.model_fields.items():
        inner = field.annotation
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            yield from _fields(inner, (*path, name))
        else:
            yield (*path, name)


def _variable(model: type[BaseSettings], path: tuple[str, ...]) -> str:
    prefix = str(model.model_config.get("env_prefix", ""))
    return (prefix + "__".join(path)).upper()


def _all_fields(model: type[BaseModel]) -> Iterator[tuple[str, FieldInfo]]:
    """Every field, nested models and the fields holding them included."""
    for name, field in model.model_fields.items():
        yield name, field
        inner = field.annotation
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            yield from ((f"{name}.{sub}", f) for sub, f in _all_fields(inner))


def _value_at(settings: BaseModel, path: tuple[str, ...]) -> object:
    value: object = settings
    for name in path:
        value = getattr(value, name)
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, tuple):
        return ",".join(str(item) for item in value)
    return None if value is None else str(value)


def _reads(
    model: type[BaseSettings], variable: str, path: tuple[str, ...], env: pytest.MonkeyPatch
) -> bool:
    """Whether ``variable`` set to PROBE reaches the field at ``path``: its value, or a
    validation error at exactly that field (an integer cannot hold PROBE)."""
    with env.context() as probing:
        probing.setenv(variable, PROBE)
        try:
            settings = model(_env_file=None)  # type: ignore[call-arg]
        except ValidationError as error:
            return [tuple(e["loc"]) for e in error.errors()] == [path]
    return _value_at(settings, path) == PROBE


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No HUB_* variable of the machine running the tests reaches the models."""
    for name in [name for name in os.environ if name.upper().startswith("HUB_")]:
        monkeypatch.delenv(name)


def test_committed_settings_page_is_current() -> None:
    # Given the repository's docs/settings.md, When the hub checks it like CI does
    result = CliRunner().invoke(app, ["settings", "check"])
    # Then it matches the models
    assert result.exit_code == 0, result.output
    assert f"settings: up to date ({repository_dir()})" in result.output


def test_check_fails_on_a_stale_copy_naming_the_file_and_the_fix(tmp_path: Path) -> None:
    # Given a copy of the committed page with one setting's default edited by hand
    copy = tmp_path / DOC_FILE
    copy.parent.mkdir()
    shutil.copy(repository_dir() / DOC_FILE, copy)
    text = copy.read_text(encoding="utf-8")
    edited = text.replace("| `HUB_WRITER__PREFETCH` | integer ≥ 1 | `10` |", "| x | y | z |")
    assert edited != text
    copy.write_text(edited, encoding="utf-8")
    # When `hub settings check --dir` runs on it
    result = CliRunner().invoke(app, ["settings", "check", "--dir", str(tmp_path)])
    # Then it exits 1 naming the file and the command that fixes it
    assert result.exit_code == 1
    assert "stale: docs/settings.md" in result.output
    assert "run `hub settings export`" in result.output


def test_check_names_a_missing_page_and_export_writes_what_check_accepts(tmp_path: Path) -> None:
    # Given a directory without the page, When checked
    missing = CliRunner().invoke(app, ["settings", "check", "--dir", str(tmp_path)])
    # Then the page is missing
    assert missing.exit_code == 1
    assert "missing: docs/settings.md" in missing.output
    # When exported into and checked again
    exported = CliRunner().invoke(app, ["settings", "export", "--dir", str(tmp_path)])
    checked = CliRunner().invoke(app, ["settings", "check", "--dir", str(tmp_path)])
    # Then both succeed and the page is the render
    assert (exported.exit_code, checked.exit_code) == (0, 0), checked.output
    assert (tmp_path / DOC_FILE).read_text(encoding="utf-8") == render(documented_models())


def test_rendering_is_deterministic_and_in_declaration_order() -> None:
    # Given two renders of the page
    first, second = render(documented_models()), render(documented_models())
    # Then they are equal, and HubSettings' fields come in the order the model declares them
    assert first == second
    names = [_variable(HubSettings, path) for path in _fields(HubSettings)]
    top_level = [name for name in names if "__" not in name]
    positions = [first.index(f"| `{name}` |") for name in top_level]
    assert positions == sorted(positions)


@pytest.mark.parametrize("model", documented_models(), ids=lambda model: model.__name__)
@pytest.mark.usefixtures("clean_environment")
def test_every_field_is_on_the_page_under_the_variable_that_sets_it(
    model: type[BaseSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the rendered page and every leaf field of the model, nested models walked
    page = render(documented_models())
    for path in _fields(model):
        variable = _variable(model, path)
        # Then the page has a row for the field's variable
        assert f"| `{variable}` |" in page, variable
        # And pydantic-settings reads that variable into exactly that field
        assert _reads(model, variable, path, monkeypatch), variable


@pytest.mark.parametrize("model", documented_models(), ids=lambda model: model.__name__)
def test_every_field_and_group_has_a_description(model: type[BaseSettings]) -> None:
    # Given every field of the model, the fields holding nested models included
    undescribed = [name for name, field in _all_fields(model) if not (field.description or "")]
    # Then each says what it governs, and so does each heading's paragraph
    assert undescribed == []
    assert all(group.intro.strip() for group in groups(model))
    assert all(setting.description for group in groups(model) for setting in group.settings)


class _Inner(BaseModel):
    depth: int = 1
    aliased: int = Field(default=1, validation_alias="deep")


class _Aliased(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="X_", env_nested_delimiter="__")

    plain: int = 1
    named: int = Field(default=1, validation_alias="OTHER_NAME")
    chosen: int = Field(default=1, validation_alias=AliasChoices("FIRST", "SECOND"))
    inner: _Inner = Field(default_factory=_Inner)


@pytest.mark.usefixtures("clean_environment")
def test_aliases_and_nesting_are_named_as_pydantic_settings_reads_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a settings model with aliases (without the prefix) and a nested model
    variables = {
        variable: setting
        for group in groups(_Aliased)
        for setting in group.settings
        for variable in setting.variables
    }
    # Then the generator names each variable as pydantic-settings reads it
    assert sorted(variables) == [
        "FIRST", "OTHER_NAME", "SECOND", "X_INNER__DEEP", "X_INNER__DEPTH", "X_PLAIN",
    ]  # fmt: skip
    expected = {"FIRST": "chosen", "SECOND": "chosen", "OTHER_NAME": "named", "X_PLAIN": "plain"}
    for variable, field in expected.items():
        with monkeypatch.context() as env:
            env.setenv(variable, "42")
            assert getattr(_Aliased(), field) == 42, variable
    for variable, field in {"X_INNER__DEEP": "aliased", "X_INNER__DEPTH": "depth"}.items():
        with monkeypatch.context() as env:
            env.setenv(variable, "42")
            assert getattr(_Aliased().inner, field) == 42, variable
