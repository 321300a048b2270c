"""Open Dental's numbers the client lives by (opendental-api.md §2), and the client's own."""

from __future__ import annotations

# Remote mode throttles each customer key; Local and Service modes do not.
REMOTE_INTERVAL_S = 1.0  # a key holding any permission beyond ReadAll
REMOTE_READ_ONLY_INTERVAL_S = 5.0  # a key holding ReadAll only
# Added to every slot (see pacer.py), whose bound is already safe: this only absorbs clock
# granularity.
DEFAULT_SAFETY_MARGIN_S = 0.001
# When a throttle reply names no Retry-After, the key waits this long before its next request.
THROTTLE_DEFER_S = 1.0

# Open Dental's hard maximum rows per list page.
REMOTE_PAGE_LIMIT = 100
LOCAL_PAGE_LIMIT = 1000  # also the API Service's

# Open Dental answers 504 after 60 s, so the read timeout waits past it.
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 65.0
POOL_TIMEOUT_S = 10.0

MAX_MESSAGE_CHARS = 500  # an error message kept longer than this is a proxy's HTML page
