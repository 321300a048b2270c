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
MIB = 1024 * KIB
# Envelope, payload, and a payload field's own object or list, with room to spare: no served
# contract nests deeper than 3.
MAX_DEPTH = 16
DEFAULT_MAX_BYTES = 64 * KIB  # every contract's largest valid body is under 60 KiB but these
MAX_BYTES: Mapping[str, int] = {
    "commlog.create": 256 * KIB,  # a Note of up to 10,000 characters: 120 KB at worst
    # The file's base64 at its largest (16,773,120 characters, Open Dental's body limit less
    # room for the other fields) with 1 MiB to spare: for the envelope, and for encoders that
    # write "/" as "\\/" (1 character in 64 of random base64, so ~262,000 more at the largest).
    # Not every character escaped here: base64 is ASCII, which no JSON encoder escapes else.
    "document.upload": 17 * MIB,
    "sheet.fill": 256 * KIB,  # 40 fields, name and value of 255 characters each: 240 KB at worst
}
HUB_MAX_BYTES = max(DEFAULT_MAX_BYTES, *MAX_BYTES.values())
# The largest body of every contract but the document upload: what a small message may be.
SMALL_MAX_BYTES = max(DEFAULT_MAX_BYTES, *(b for b in MAX_BYTES.values() if b < HUB_MAX_BYTES))

# A body is cut down to its skeleton before the brackets are counted: escaped backslashes and
# quotes out (so every quote left opens or closes a string), then every byte but quotes and
# brackets (a C-speed translate), then the strings. A 16 MB document body takes about 13 ms this
# way (50 ms with every "/" escaped); a regex over its strings took 1.6 s
# (docs/performance.md, "What the figures rest on").
_NOT_STRUCTURE = bytes(byte for byte in range(256) if byte not in b'"[]{}')
_STRING = re.compile(rb'"[^"]*"')
_BRACKETS = re.compile(rb"[\[\]{}]")


def max_bytes(contract: str) -> int:
    """The ceiling of a served contract's bodies."""
    return MAX_BYTES.get(contract, DEFAULT_MAX_BYTES)


def _skeleton(body: bytes) -> bytes:
    """``body``'s quotes and brackets outside strings, in order."""
    if b"\\" in body:  # a file's base64 has none, unless its encoder escaped "/" as "\\/"
        # Each run of backslashes pairs from its left, as a reader reads it; an odd one left
        # escapes the byte after it, which matters only when that byte is a quote.
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    return _STRING.sub(b"", body.translate(None, _NOT_STRUCTURE))


def deeper_than(body: bytes, limit: int) -> bool:
    """Whether ``body``'s JSON nests objects and arrays deeper than ``limit``, read without
    parsing it (brackets inside strings do not count)."""
    depth = 0
    for bracket in _BRACKETS.findall(_skeleton(body)):
        depth += 1 if bracket in (b"[", b"{") else -1
        if depth > limit:
            return True
    return False
