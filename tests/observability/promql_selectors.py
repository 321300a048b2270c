"""The series selectors a PromQL expression reads (``up{job="hub-writer"}``,
``hub_od_requests_total{status_class=~"5xx|429|none"}``, ``hub:…`` recorded series), for alert
rules that are silent while all is well: their selectors must still find series."""

from __future__ import annotations

import re

# Grouping clauses hold label names, not metrics; a selector is a hub, rabbitmq or up name (or
# a hub: recorded one) with its label matchers, not followed by "(" (that would be a function).
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_SELECTOR = re.compile(
    r"(?<![\w:])((?:hub[_:][\w:]*|rabbitmq_\w+|up))(\{[^}]*\})?(?![\w:])(?!\s*\()"
)
_RANGE = re.compile(r"\[[^\]]*\]")


def selectors(expr: str) -> set[str]:
    """Each selector once, with its matchers, without any range."""
    text = _RANGE.sub("", _GROUPING.sub("", expr))
    return {name + (matchers or "") for name, matchers in _SELECTOR.findall(text)}
