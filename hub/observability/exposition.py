"""The writer's /metrics written straight from its metric families, byte for byte what
prometheus_client's encoders write for them, at a fraction of the cost.

prometheus_client builds a ``Sample`` with a dict of labels for every line, then sorts, checks
and escapes each label of each line again. With a thousand offices that is about 100,000 lines
and 0.5 s (text) to 0.8 s (OpenMetrics) of the writer's CPU a scrape. Here each series' labels
are sorted and escaped once a scrape, and a line is its label text and its value.

What the families never use is left out: exemplars, timestamps, units, names outside the
legacy character set (so every escaping scheme writes them alike). ``FamilyRegistry`` falls
back to prometheus_client when anything else is registered.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.registry import Collector

from hub.observability.families import Family, exports_created, go_float

OPENMETRICS_EOF = "# EOF\n"


class FamilyRegistry(CollectorRegistry):
    """A registry that knows which of its collectors are the hub's families."""

    def __init__(self) -> None:
        super().__init__(auto_describe=False)
        self._families: list[Family] = []
        self._others = 0

    def register(self, collector: Collector) -> None:
        super().register(collector)
        if isinstance(collector, Family):
            self._families.append(collector)
        else:
            self._others += 1

    def unregister(self, collector: Collector) -> None:
        super().unregister(collector)
        if collector in self._families:
            self._families.remove(collector)
        else:
            self._others -= 1

    def exposition(self, *, openmetrics: bool) -> bytes | None:
        """The exposition, or None when a collector other than a family is registered."""
        if self._others:
            return None
        created = exports_created()
        render = _openmetrics if openmetrics else _text
        lines = [line for family in self._families for line in render(family, created)]
        if openmetrics:
            lines.append(OPENMETRICS_EOF)
        return "".join(lines).encode("utf-8")


def _text(family: Family, created: bool) -> Iterator[str]:
    """Prometheus' text format 0.0.4, as ``prometheus_client.generate_latest`` writes it: a
    counter is named ``_total``, and ``_created`` samples follow as a gauge of their own."""
    name = family.name
    shown = f"{name}_total" if family.kind == "counter" else name
    help_text = family.documentation.replace("\\", r"\\").replace("\n", r"\n")
    yield f"# HELP {shown} {help_text}\n"
    yield f"# TYPE {shown} {family.kind}\n"
    created_lines: list[str] = []
    for suffix, rest in _lines(family, created):
        if suffix == "_created":
            created_lines.append(f"{name}{suffix}{rest}")
        else:
            yield f"{name}{suffix}{rest}"
    if created_lines:
        yield f"# HELP {name}_created {help_text}\n"
        yield f"# TYPE {name}_created gauge\n"
        yield from created_lines


def _openmetrics(family: Family, created: bool) -> Iterator[str]:
    """OpenMetrics 1.0, as ``prometheus_client.openmetrics.exposition.generate_latest`` writes
    it: every sample in its series' order; the caller ends the whole with ``# EOF``."""
    name = family.name
    yield f"# HELP {name} {_escaped(family.documentation)}\n"
    yield f"# TYPE {name} {family.kind}\n"
    for suffix, rest in _lines(family, created):
        yield f"{name}{suffix}{rest}"


def _lines(family: Family, created: bool) -> Iterator[tuple[str, str]]:
    """Each sample's name suffix, and its line from the labels' ``{`` (or the space) on."""
    names = sorted(family.labelnames)
    order = [family.labelnames.index(label) for label in names]
    le_at = bisect_left(names, "le")  # where a histogram bucket's ``le`` sorts among them
    for key, values in family.snapshot():
        pairs = [f'{label}="{_escaped(key[i])}"' for label, i in zip(names, order, strict=True)]
        plain = "{" + ",".join(pairs) + "}" if pairs else ""
        before = "".join(f"{pair}," for pair in pairs[:le_at])
        after = "".join(f",{pair}" for pair in pairs[le_at:])
        for suffix, extra, value in family.samples(values, created):
            # The families' only extra label is a histogram bucket's ``le``.
            labels = f'{{{before}le="{extra["le"]}"{after}}}' if extra else plain
            yield suffix, f"{labels} {go_float(value)}\n"


def _escaped(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")

