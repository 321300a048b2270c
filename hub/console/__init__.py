"""``hub console``: the operator console, a server-rendered web application over the same
functions as the operators' commands.

    app       the context, the middlewares (security headers, who is asking, CSRF), the server
    login     password sign-in and sign-out (users: ``users``; limiter and sessions: ``auth``)
    pages     intents (``search``: keyset pages), an intent's trace (with its row's changes by
              door), dead letters, lanes, the audit trail
    actions   replay, reveal, purge, pause and resume: each audited, each for its role
    bulk_replay  the current dead-letter filter replayed: preview, confirm, progress, cancel

Roles (``users.Role``): a viewer reads and never sees a payload; an operator also replays, pauses
and resumes offices, and may reveal a dead letter's body (audited); an admin also purges and
pauses and resumes vendors. docs/operations.md, "The console", is the operator's guide.
"""

from hub.console.app import Console, make_app, serve
from hub.console.users import Role, User, UsersError, add_user, load_users

__all__ = ["Console", "Role", "User", "UsersError", "add_user", "load_users", "make_app", "serve"]
