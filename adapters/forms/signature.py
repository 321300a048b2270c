"""The webhook's signature: ``X-Hub-Signature: sha256=<hex of HMAC-SHA256(secret, raw body)>``."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Hub-Signature"
_SCHEME = "sha256="


def signature(secret: bytes, body: bytes) -> str:
    """The header value a sender puts on ``body``."""
    return _SCHEME + hmac.new(secret, body, hashlib.sha256).hexdigest()


def signature_matches(secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether ``header`` signs ``body`` with ``secret``; compared in constant time."""
    if header is None:
        return False
    given = header.strip().lower().encode("utf-8", errors="replace")
    return hmac.compare_digest(given, signature(secret, body).encode("ascii"))
