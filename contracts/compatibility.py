"""Breaking changes: what a model's fresh JSON Schema takes away from a published version's.

A published version is a promise: every message it accepted is accepted for as long as the
version is served. So a change to its model may only loosen. Comparing the committed schema
(``old``) with the one the model generates now (``new``), these count as breaking:

- ``removed``: a property of the old schema is gone (a rename is a removal plus an addition);
- ``type``: a property accepts fewer JSON types (``integer`` to ``number`` loosens);
- ``max_length``/``min_length``/``maximum``/``minimum``: a limit added or tightened;
- ``pattern``/``format``: a pattern or format added or changed (no regex inclusion is proven,
  so any change to one counts);
- ``enum``: a value taken away, or an enum or const put on a free value;
- ``required``: a property made required;
- ``closed``: an object that took unknown properties no longer does;
- ``rule``: a rule between fields (a payload's ``allOf``: exactly one of …) added;
- ``withdrawn``: a published version no model serves any more.

Additive changes (a new optional property, a loosened limit, a new enum value) pass.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

Schema = Mapping[str, Any]

_UPPER = {"maxLength": "max_length", "maximum": "maximum", "maxItems": "max_length"}
_LOWER = {"minLength": "min_length", "minimum": "minimum", "minItems": "min_length"}


@dataclass(frozen=True, kw_only=True)
class Break:
    """One breaking change: the version's schema name, the field path, the kind and what
    changed."""

    version: str  # e.g. "commlog.create.v1"
    path: str  # e.g. "payload.Note"; "$" for the message itself
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.version}: {self.path}: {self.kind}: {self.detail}"


def breaking_changes(version: str, old: Schema, new: Schema) -> list[Break]:
    """Every way ``new`` refuses a message ``old`` accepted, for the schema named ``version``."""
    return [
        Break(version=version, path=path, kind=kind, detail=detail)
        for path, kind, detail in _compare(old, old, new, new, "$")
    ]


def withdrawn(version: str) -> Break:
    return Break(
        version=version, path="$", kind="withdrawn",
        detail="a published version has no model: serve it beside the new one",
    )


def _resolve(document: Schema, node: Schema) -> Schema:
    # Pydantic's refs are local: "#/$defs/Name".
    while "$ref" in node:
        node = document["$defs"][str(node["$ref"]).rsplit("/", 1)[-1]]
    return node


def _child(path: str, name: str) -> str:
    return name if path == "$" else f"{path}.{name}"


def _compare(
    old_doc: Schema, old_node: Schema, new_doc: Schema, new_node: Schema, path: str
) -> Iterator[tuple[str, str, str]]:
    old, new = _resolve(old_doc, old_node), _resolve(new_doc, new_node)
    yield from _leaf(old, new, path)
    yield from _object(old_doc, old, new_doc, new, path)
    if "items" in old and "items" in new:
        yield from _compare(old_doc, old["items"], new_doc, new["items"], f"{path}[]")


def _object(
    old_doc: Schema, old: Schema, new_doc: Schema, new: Schema, path: str
) -> Iterator[tuple[str, str, str]]:
    old_props: Schema = old.get("properties", {})
    new_props: Schema = new.get("properties", {})
    for name, old_prop in old_props.items():
        if name not in new_props:
            yield _child(path, name), "removed", "the field is gone (removed or renamed)"
        else:
            yield from _compare(old_doc, old_prop, new_doc, new_props[name], _child(path, name))
    for name in sorted(set(new.get("required", ())) - set(old.get("required", ()))):
        yield _child(path, name), "required", "the field was optional and is now required"
    was_open = old.get("additionalProperties", True) is not False
    if was_open and new.get("additionalProperties") is False:
        yield path, "closed", "unknown fields were accepted and are now refused"
    added_rules = [rule for rule in new.get("allOf", ()) if rule not in old.get("allOf", ())]
    if added_rules:
        yield path, "rule", f"{len(added_rules)} rule(s) between fields added"


def _types(node: Schema) -> set[str]:
    declared = node.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return set(declared)
    alternatives = node.get("anyOf") or node.get("oneOf") or ()
    return set().union(*(_types(each) for each in alternatives)) if alternatives else set()


def _leaf(old: Schema, new: Schema, path: str) -> Iterator[tuple[str, str, str]]:
    old_types, new_types = _types(old), _types(new)
    if "integer" in new_types or "number" in new_types:
        new_types = new_types | ({"integer"} if "number" in new_types else set())
    if old_types and new_types and not old_types <= new_types:
        yield path, "type", f"was {sorted(old_types)}, now {sorted(new_types)}"
    for key, kind in _UPPER.items():
        if key in new and (key not in old or new[key] < old[key]):
            yield path, kind, f"{key} was {old.get(key, 'unset')}, now {new[key]}"
    for key, kind in _LOWER.items():
        if key in new and (key not in old or new[key] > old[key]):
            yield path, kind, f"{key} was {old.get(key, 'unset')}, now {new[key]}"
    for key in ("pattern", "format"):
        if key in new and new[key] != old.get(key):
            yield path, key, f"{key} was {old.get(key, 'unset')!r}, now {new[key]!r}"
    yield from _values(old, new, path)


def _values(old: Schema, new: Schema, path: str) -> Iterator[tuple[str, str, str]]:
    old_values = _allowed(old)
    new_values = _allowed(new)
    if new_values is None:
        return
    if old_values is None:
        yield path, "enum", "a free value is now limited to a list"
        return
    dropped = [value for value in old_values if value not in new_values]
    if dropped:
        # The dropped values are the contract's own names, never vendor data.
        yield path, "enum", f"no longer accepts {', '.join(map(repr, dropped))}"


def _allowed(node: Schema) -> list[Any] | None:
    if "const" in node:
        return [node["const"]]
    enum = node.get("enum")
    return list(enum) if isinstance(enum, list) else None
