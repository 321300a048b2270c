"""The writer's own fixed names. Its dead-letter header names are the hub's (hub/names.py)."""

from __future__ import annotations

UNKNOWN_CONTRACT = "unknown"  # an outcome's contract when the body named none the hub serves
NO_VENDOR = ""  # x-hub-vendor of a message without user_id
