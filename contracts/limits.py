"""How large and how deep an intent may be: checked before it is parsed, so a vendor's oversized
or nested-beyond-reason body costs the writer no more than its length.

Each contract's ceiling admits its largest valid message with room to spare: every string at its
maximum length, each character written as a JSON escape of a surrogate pair (12 bytes). The
hub's ceiling is the largest of them; the broker refuses any publish above it
(``max_message_size``, scripts/setup-broker.sh and the compose stack's rabbitmq.conf), and the
writer refuses, before parsing, a body above it or nested deeper than ``MAX_DEPTH``. A body
within the hub's ceiling but above its own contract's is refused once its contract is read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

KIB = 1024
# Envelope, payload, and a payload field's own object or list, with room to spare: no served
# contract nests deeper than 3.
MAX_DEPTH = 16
DEFAULT_MAX_BYTES = 64 * KIB  # every contract's largest valid body is under 60 KiB but these
MAX_BYTES: Mapping[str, int] = {
    "commlog.create": 256 * KIB,  # a Note of up to 10,000 characters: 120 KB at worst
}
HUB_MAX_BYTES = max(DEFAULT_MAX_BYTES, *MAX_BYTES.values())

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


def max_bytes(contract: str) -> int:
    """The ceiling of a served contract's bodies."""
    return MAX_BYTES.get(contract, DEFAULT_MAX_BYTES)


def deeper_than(body: bytes, limit: int) -> bool:
    """Whether ``body``'s JSON nests objects and arrays deeper than ``limit``, read without
    parsing it (brackets inside strings do not count)."""
    depth = 0
    for bracket in _BRACKETS.findall(_STRING.sub(b"", body)):
        depth += 1 if bracket in (b"[", b"{") else -1
        if depth > limit:
            return True
    return False
