"""``hub status``: each office lane (state, queue depth, in flight, last error, pause), the
dead-letter depth, the outcome events waiting for their vendors and the paused vendors, from where
every writer reports."""

from hub.status.gather import gather
from hub.status.json_view import status_json
from hub.status.model import HubStatus, LaneLine
from hub.status.text_view import status_text

__all__ = ["HubStatus", "LaneLine", "gather", "status_json", "status_text"]
