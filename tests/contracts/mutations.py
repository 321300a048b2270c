"""Targeted changes to one field of a valid message, each with the one (path, rule) error it
must cause, drawn from what the committed JSON Schema says of the field."""

from __future__ import annotations

import calendar
import copy
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache

from hypothesis import strategies as st

from contracts.fields import BASE64, EMAIL, OD_DATE, OD_DATETIME, PHONE, RFC3339
from tests.contracts.schema_messages import Json, Message, schema_of


@dataclass(frozen=True, kw_only=True)
class Field:
    """One field of a contract's message, as its committed schema describes it."""

    path: tuple[str, ...]
    schema: dict[str, Json]
    required: bool

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


@cache
def fields(name: str) -> tuple[Field, ...]:
    """The envelope's fields (the payload object among them), then the payload's."""
    schema = schema_of(name)
    envelope = [
        Field(path=(key,), schema=sub, required=key in schema.whole["required"])
        for key, sub in {**schema.envelope["properties"], "payload": schema.payload}.items()
    ]
    payload = [
        Field(path=("payload", key), schema=sub, required=key in schema.payload.get("required", []))
        for key, sub in schema.payload["properties"].items()
    ]
    return (*envelope, *payload)


@cache
def presence_ruled(name: str) -> frozenset[str]:
    """Payload fields in an exactly-one-of or at-most-one-of rule, where a field sent as null
    still counts as present (and may break that rule too)."""
    rules = schema_of(name).payload.get("allOf", [])
    groups = [rule["oneOf"] for rule in rules if "oneOf" in rule]
    groups += [[rule["not"]] for rule in rules if "not" in rule]
    return frozenset(field for group in groups for item in group for field in item["required"])


@dataclass(frozen=True, kw_only=True)
class Change:
    """One field of a valid message set or removed, and the one (path, rule) error it must
    cause; None when the message stays valid."""

    path: tuple[str, ...]
    value: Json = None
    remove: bool = False
    expect: tuple[str, str] | None
    secret: tuple[str, ...] = ()
    """Text besides the value that must not appear in an error (an invented key)."""

    def apply(self, message: Message) -> tuple[Message, list[str]]:
        """The changed copy, and every text of the value sent or removed."""
        changed = copy.deepcopy(message)
        *parents, key = self.path
        node = changed
        for part in parents:
            node = node[part]
        sent = node.pop(key, None) if self.remove else self.value
        if not self.remove:
            node[key] = self.value
        return changed, [*needles(sent), *self.secret]


def needles(value: Json) -> list[str]:
    """Every text of ``value`` long enough that finding it in an error means it leaked; a long
    string's head and tail too, should an error quote it cut short."""
    if isinstance(value, dict):
        return [n for key, item in value.items() for n in [*needles(key), *needles(item)]]
    if isinstance(value, list):
        return [n for item in value for n in needles(item)]
    if value is None or isinstance(value, bool):
        return []
    text = str(value)
    if len(text) < 5:
        return []
    return sorted({text, text[:16], text[-16:]}) if isinstance(value, str) else [text]


# --- a wrong JSON type, or null -----------------------------------------------------------------

WRONG_TYPED: dict[str, Json] = {
    "string": "Jane-Q-Public-wrong-type",
    "integer": 987654321,
    "number": 31415.9265,
    "boolean": True,
    "array": ["Jane-Q-Public-in-a-list"],
    "object": {"Jane-Q-Public-key": "Jane-Q-Public-value"},
    "null": None,
}
_ALSO_ALLOWED = {"number": {"integer"}}  # a JSON Schema number may be written as an integer


def _wrong_types(name: str, field: Field) -> list[Change]:
    allowed = {field.schema["type"], *_ALSO_ALLOWED.get(field.schema["type"], set())}
    if field.path[0] == "payload" and field.path[-1] in presence_ruled(name):
        allowed.add("null")  # left out: null there may break the rule between fields too
    values = [value for kind, value in WRONG_TYPED.items() if kind not in allowed]
    return [
        Change(path=field.path, value=v, expect=(field.dotted, _wrong_type_rule(field, v)))
        for v in values
    ]


def _wrong_type_rule(field: Field, value: Json) -> str:
    if value is None and not field.required:
        return "type"  # parse_intent's own rule: an optional field is left out, never null
    return "enum" if "enum" in field.schema else "type"  # a Literal names the values it takes


def wrong_type(name: str) -> st.SearchStrategy[Change]:
    return st.sampled_from([c for field in fields(name) for c in _wrong_types(name, field)])


# --- a string at or over its maxLength --------------------------------------------------------

_FILLER = string.ascii_letters + string.digits + " .-"
_SHAPED: dict[str, Callable[[str], str]] = {
    PHONE.pattern: lambda text: "".join(c if c.isdigit() else "5" for c in text),
    EMAIL.pattern: lambda text: text.replace(" ", "-")[: -len("@example.org")] + "@example.org",
    BASE64.pattern: lambda text: text.replace(" ", "A").replace(".", "+").replace("-", "/"),
}
"""Fillers reshaped to match the field's pattern, so that only the length counts."""
_STEP = {BASE64.pattern: 4}
"""Patterns that only lengths of a multiple match: over the maximum by one step, not one."""


def long_string(name: str, *, beyond: int) -> st.SearchStrategy[Change]:
    """A string field set to ``maxLength + beyond`` characters that match its pattern: refused
    as max_length when ``beyond`` is 1, accepted when 0 (then not a field whose presence alone
    may break a rule between fields)."""
    ruled = {("payload", key) for key in presence_ruled(name)} if beyond == 0 else set()
    bounded = [f for f in fields(name) if "maxLength" in f.schema and f.path not in ruled]

    @st.composite
    def change(draw: st.DrawFn) -> Change:
        field = draw(st.sampled_from(bounded))
        pattern = field.schema.get("pattern", "")
        size = field.schema["maxLength"] + beyond * _STEP.get(pattern, 1)
        seed = draw(st.text(_FILLER, min_size=8, max_size=32).filter(str.strip))
        value = _SHAPED.get(pattern, str)((seed * (size // len(seed) + 1))[:size])
        assert len(value) == size and re.search(pattern, value), "the filler breaks the pattern"
        expect = (field.dotted, "max_length") if beyond > 0 else None
        return Change(path=field.path, value=value, expect=expect)

    return change()


def over_length(name: str) -> st.SearchStrategy[Change]:
    return long_string(name, beyond=1)


# --- a number out of its bounds ---------------------------------------------------------------


def _beyond(schema: dict[str, Json], side: str) -> st.SearchStrategy[float | int]:
    integer = schema["type"] == "integer"
    if side == "maximum":
        top = schema["maximum"]
        if integer:
            return st.integers(top + 1, top + 10**6)
        return st.floats(top, top + 10**6, exclude_min=True)
    inclusive = "minimum" in schema  # then the bound itself is allowed
    bottom = schema["minimum"] if inclusive else schema["exclusiveMinimum"]
    if integer:
        return st.integers(bottom - 10**6, bottom - 1 if inclusive else bottom)
    return st.floats(bottom - 10**6, bottom, exclude_max=inclusive)


def out_of_range(name: str) -> st.SearchStrategy[Change]:
    """A number below its minimum (or at an exclusive one) or above its maximum."""
    sides = [
        (field, "minimum" if side == "exclusiveMinimum" else side)
        for field in fields(name)
        for side in ("minimum", "exclusiveMinimum", "maximum")
        if side in field.schema
    ]

    @st.composite
    def change(draw: st.DrawFn) -> Change:
        field, side = draw(st.sampled_from(sides))
        value = draw(_beyond(field.schema, side))
        return Change(path=field.path, value=value, expect=(field.dotted, side))

    return change()


# --- a date or date-time that is no real day, or not in its format ----------------------------

_DAYS = st.dates(min_value=date(1000, 1, 1))
_ISO_DAYS = _DAYS.map(date.isoformat)
_TIMES = st.times().map(lambda t: t.strftime("%H:%M:%S"))
_NO_SUCH_DAY = st.tuples(
    st.integers(1000, 9999),
    st.sampled_from([(2, 30), (2, 31), (4, 31), (6, 31), (9, 31), (11, 31), (13, 1), (1, 0)]),
).map(lambda ymd: f"{ymd[0]}-{ymd[1][0]:02d}-{ymd[1][1]:02d}")
BAD_DATES = st.one_of(
    _NO_SUCH_DAY,
    st.integers(1001, 9999).filter(lambda y: not calendar.isleap(y)).map(lambda y: f"{y}-02-29"),
    st.integers(0, 999).map(lambda year: f"{year:04d}-06-15"),
    _DAYS.map(lambda day: day.strftime("%m/%d/%Y")),
    _DAYS.map(lambda day: day.strftime("%Y%m%d")),
)
BAD_OD_DATETIMES = st.one_of(
    st.tuples(BAD_DATES, _TIMES).map(" ".join),
    st.tuples(_ISO_DAYS, _TIMES).map("T".join),
    _ISO_DAYS.map(lambda day: f"{day} 24:00:00"),
    _ISO_DAYS.map(lambda day: f"{day} 09:30"),
)
BAD_RFC3339 = st.one_of(
    st.tuples(BAD_DATES, _TIMES).map(lambda dt: f"{dt[0]}T{dt[1]}Z"),
    st.tuples(_ISO_DAYS, _TIMES).map("T".join),
    st.tuples(_ISO_DAYS, _TIMES).map(lambda dt: f"{dt[0]} {dt[1]}+01:00"),
    _ISO_DAYS.map(lambda day: f"{day}T10:00:00+24:00"),
).filter(lambda value: value not in RFC3339.means)  # not the rule's own example
DATE_SHAPES = {
    OD_DATE.pattern: ("date_format", BAD_DATES),
    OD_DATETIME.pattern: ("datetime_format", BAD_OD_DATETIMES),
    RFC3339.pattern: ("datetime_format", BAD_RFC3339),
}
"""Each date pattern, the rule it reports, and values that are no real day (30 February, month
13, 29 February of a common year, year 999) or not in its format (US order, no dashes, a T or
a space in the wrong place, no offset, no seconds, hour 24)."""


def bad_date(name: str) -> st.SearchStrategy[Change]:
    dated = [field for field in fields(name) if field.schema.get("pattern") in DATE_SHAPES]

    @st.composite
    def change(draw: st.DrawFn) -> Change:
        field = draw(st.sampled_from(dated))
        rule, values = DATE_SHAPES[field.schema["pattern"]]
        value = draw(values)
        assert not re.search(field.schema["pattern"], value), "a bad date that is not bad"
        return Change(path=field.path, value=value, expect=(field.dotted, rule))

    return change()


# --- an unknown field, a required field left out ----------------------------------------------

_PLAIN_KEYS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,30}", fullmatch=True)
_NAME_KEYS = st.from_regex(r"[A-Z][a-z]{2,8} [A-Z][a-z]{2,10}", fullmatch=True)


def unknown_field(name: str) -> st.SearchStrategy[Change]:
    """A field the contract lacks, at the top or in the payload: a plain name (a known one in
    another case, too) shows in the path; anything else, even a person's name, shows as ``*``."""
    schema = schema_of(name)
    levels = {
        (): frozenset({*schema.envelope["properties"], "payload"}),
        ("payload",): frozenset(schema.payload["properties"]),
    }

    @st.composite
    def change(draw: st.DrawFn) -> Change:
        level, known = draw(st.sampled_from(sorted(levels.items())))
        value = draw(st.sampled_from(list(WRONG_TYPED.values())))
        if draw(st.booleans()):
            other_case = st.sampled_from(sorted(known)).map(str.swapcase)
            key = draw((_PLAIN_KEYS | other_case).filter(lambda k: k not in known))
            expect = (".".join((*level, key)), "extra_forbidden")
            return Change(path=(*level, key), value=value, expect=expect)
        key = draw(_NAME_KEYS)
        expect = (".".join((*level, "*")), "extra_forbidden")
        return Change(path=(*level, key), value=value, expect=expect, secret=(key,))

    return change()


def missing(name: str) -> st.SearchStrategy[Change]:
    required = [field for field in fields(name) if field.required]
    return st.sampled_from(
        [Change(path=f.path, remove=True, expect=(f.dotted, "missing")) for f in required]
    )


MUTATIONS: dict[str, Callable[[str], st.SearchStrategy[Change]]] = {
    "wrong_type": wrong_type,
    "over_length": over_length,
    "out_of_range": out_of_range,
    "bad_date": bad_date,
    "unknown_field": unknown_field,
    "missing": missing,
}
"""Each kind of targeted mutation, by the name its tests carry."""
