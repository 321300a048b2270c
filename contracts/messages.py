"""Pydantic's errors turned into ``FieldError``: a stable rule code and a sentence built from the
error type and its context (limits, allowed names, the pattern's meaning), never from the input.

Pydantic's own ``msg`` is used only for the hub's custom errors, whose templates hold no input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from contracts.errors import FieldError
from contracts.fields import shape_of

CUSTOM_RULES = frozenset(
    {"exactly_one_of", "at_most_one_of", "at_least_one_field", "decimal_places"}
)
"""Rule codes the contracts raise themselves, with value-free message templates."""

_TYPE_NAMES = {
    "int_type": "an integer",
    "int_from_float": "an integer",
    "string_type": "a string",
    "float_type": "a number",
    "bool_type": "a boolean",
    "list_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
    "dataclass_type": "an object",
    "model_attributes_type": "an object",
}
_RULES = {
    "missing": ("missing", "is required"),
    "extra_forbidden": ("extra_forbidden", "is not a field of this contract"),
    "string_too_long": ("max_length", "must be at most {max_length} characters long"),
    "string_too_short": ("min_length", "must have at least {min_length} character(s)"),
    "greater_than": ("minimum", "must be greater than {gt}"),
    "greater_than_equal": ("minimum", "must be at least {ge}"),
    "less_than": ("maximum", "must be less than {lt}"),
    "less_than_equal": ("maximum", "must be at most {le}"),
    "literal_error": ("enum", "must be one of {expected}"),
    "enum": ("enum", "must be one of {expected}"),
    "json_invalid": ("json_invalid", "is not valid JSON ({error})"),
}
# A key the vendor invented could be anything, even a name: show only plain identifiers.
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def path_of(loc: Iterable[int | str]) -> str:
    """``("payload", "Birthdate")`` → ``payload.Birthdate``; the empty location → ``$``."""
    parts = [str(p) if isinstance(p, int) or _PLAIN_KEY.match(p) else "*" for p in loc]
    return ".".join(parts) or "$"


def field_error(path: str, rule: str, predicate: str) -> FieldError:
    """A ``FieldError`` whose message reads "<field> <predicate>."."""
    subject = "The message" if path == "$" else path
    return FieldError(path=path, rule=rule, message=f"{subject} {predicate}.")


def rule_and_predicate(error: ErrorDetails) -> tuple[str, str]:
    """The rule code and the value-free predicate for one pydantic error."""
    kind = error["type"]
    ctx = error.get("ctx", {})
    if kind == "string_pattern_mismatch":
        shape = shape_of(str(ctx.get("pattern", "")))
        if shape is None:
            return "pattern", "must match the pattern {pattern}".format(**ctx)
        return shape.rule, shape.means
    if kind in _TYPE_NAMES or kind.endswith("_type"):
        return "type", f"must be {_TYPE_NAMES.get(kind, 'of another JSON type')}"
    if kind in _RULES:
        rule, template = _RULES[kind]
        return rule, template.format(**ctx)
    if kind in CUSTOM_RULES:
        return kind, error["msg"]
    return kind, f"breaks the rule {kind}"


def field_errors(exc: ValidationError) -> list[FieldError]:
    """Every error of ``exc``, in pydantic's order, without duplicates."""
    found: dict[tuple[str, str], FieldError] = {}
    for error in exc.errors(include_url=False, include_input=False):
        rule, predicate = rule_and_predicate(error)
        path = path_of(error["loc"])
        found.setdefault((path, rule), field_error(path, rule, predicate))
    return list(found.values())
