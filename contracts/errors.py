"""What a refused intent is told: one ``FieldError`` per broken rule, never the offending value.

Messages end up in logs, dead-letter headers and outcome events, so they name the field and the
rule only: patient data must not leak through them.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ConfigDict
from pydantic.dataclasses import dataclass


@dataclass(frozen=True, config=ConfigDict(extra="forbid", strict=True))
class FieldError:
    """One broken rule.

    `path` is dotted from the message root (`payload.Birthdate`; list indexes as numbers; `$`
    for the whole body), `rule` a short stable code (`missing`, `pattern`, `date_format`...),
    `message` a sentence naming the field and the rule, never the value.
    """

    path: str
    rule: str
    message: str


class ContractViolation(Exception):
    """The message breaks its contract; ``errors`` lists every broken rule found."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors: list[FieldError] = list(errors)
        summary = "; ".join(error.message for error in self.errors)
        super().__init__(f"{len(self.errors)} contract violation(s): {summary}")
