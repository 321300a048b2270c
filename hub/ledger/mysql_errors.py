"""MariaDB failures, translated once at the ledger's boundary into the hub's errors.

The driver's classes do not say what to do next (PyMySQL files every unknown server code under
OperationalError, access denied included), so server errors are classified by code.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import aiomysql

from hub.errors import LedgerError, TransientError

# Server and client error codes that a later try may not meet.
TRANSIENT_CODES = frozenset(
    {
        1040,  # too many connections
        1053,  # server shutdown in progress
        1205,  # lock wait timeout
        1213,  # deadlock: the transaction was rolled back
        1317,  # query execution was interrupted
        1927,  # connection was killed
        2002,  # cannot connect through the socket
        2003,  # cannot connect to the server
        2006,  # server has gone away
        2013,  # lost connection during a query
        2055,  # lost connection at some stage
        4031,  # disconnected by the server for being idle
    }
)


def error_code(exc: Exception) -> int | None:
    code = exc.args[0] if exc.args else None
    return code if isinstance(code, int) else None


# What the driver and the socket under it raise; aiomysql re-exports PyMySQL's classes.
DRIVER_FAILURES: tuple[type[Exception], ...] = (aiomysql.MySQLError, OSError, TimeoutError)


def translate(exc: Exception, doing: str) -> TransientError | LedgerError:
    """The hub error for a driver or socket failure; ``doing`` names the step, never data."""
    if isinstance(exc, aiomysql.MySQLError) and not isinstance(exc, aiomysql.InterfaceError):
        code = error_code(exc)
        if code in TRANSIENT_CODES:
            return TransientError(f"ledger database error {code} while {doing}")
        return LedgerError(f"ledger database refused ({code}) while {doing}")
    # Sockets, timeouts and the driver's "not connected": the server may be back soon.
    return TransientError(f"ledger database unreachable while {doing}")


@contextmanager
def translated(doing: str) -> Iterator[None]:
    """Re-raise driver and socket failures as ``TransientError`` or ``LedgerError``."""
    try:
        yield
    except DRIVER_FAILURES as exc:
        raise translate(exc, doing) from exc
