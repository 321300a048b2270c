"""The gate in front of the Open Dental database: one SELECT statement passes, nothing else.

Open Dental forbids third-party writes to its database (they corrupt records and bypass its
security), so the hub refuses anything but a single read before a byte reaches the server. The
check is lexical and deliberately strict: a false refusal costs a rewritten query, a false pass
could cost an office its data. The SELECT-only database user and the read-only session behind it
are the second and third lines of defence, not a reason to loosen this one.

Strings and quoted identifiers are blanked out and comments removed before the words are read, so
``'a;b'`` or a column named `` `Update` `` is fine while ``/* x */ ; DROP ...`` is not. MariaDB's
executable comments (``/*! ... */``, ``/*M! ... */``) run their content, so they are refused.
"""

from __future__ import annotations

import re

from hub.errors import ReadOnlyViolation

# Words that begin or turn a statement into something other than a read. INTO covers
# INTO OUTFILE / DUMPFILE / @var; LOCK covers LOCK IN SHARE MODE; NEXTVAL/SETVAL move sequences.
FORBIDDEN_WORDS = frozenset({
    "INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "ALTER", "DROP", "TRUNCATE", "RENAME",
    "GRANT", "REVOKE", "SET", "CALL", "LOAD", "HANDLER", "DO", "INTO", "LOCK", "UNLOCK",
    "PREPARE", "EXECUTE", "DEALLOCATE", "KILL", "FLUSH", "RESET", "PURGE", "SHUTDOWN", "INSTALL",
    "UNINSTALL", "LOAD_FILE", "NEXTVAL", "SETVAL",
})
# REPLACE(str, from, to) and INSERT(str, pos, len, new) are also string functions: as calls
# they read.
STRING_FUNCTIONS = frozenset({"REPLACE", "INSERT"})
FIRST_WORDS = frozenset({"SELECT", "WITH"})

_WORD = re.compile(r"[A-Za-z0-9_$]+")
_QUOTES = "'\"`"


class _Refused(Exception):
    """Internal: why the text was refused, turned into ReadOnlyViolation with the query name."""


def _quoted_end(sql: str, start: int) -> int:
    """Index just past the string or quoted identifier that opens at ``start``."""
    quote = sql[start]
    i = start + 1
    while i < len(sql):
        char = sql[i]
        if char == "\\" and quote != "`":
            # Whether a backslash escapes depends on the server's sql_mode
            # (NO_BACKSLASH_ESCAPES), so the literal's end is ambiguous: values go in parameters.
            raise _Refused("a backslash inside a literal")
        if char == quote and sql.startswith(quote * 2, i):
            i += 2
        elif char == quote:
            return i + 1
        else:
            i += 1
    raise _Refused("an unterminated quote")


def _comment_end(sql: str, start: int) -> int | None:
    """Index just past the comment that opens at ``start``, or None if none opens there."""
    if sql.startswith("/*", start):
        if sql.startswith(("/*!", "/*M!"), start):
            raise _Refused("an executable comment")
        end = sql.find("*/", start + 2)
        if end < 0:
            raise _Refused("an unterminated comment")
        return end + 2
    # "--" starts a comment only when whitespace or the end follows it: 1--1 is arithmetic.
    after = sql[start + 2 : start + 3]
    dash_dash = sql.startswith("--", start) and (after == "" or after.isspace())
    if dash_dash or sql[start] == "#":
        end = sql.find("\n", start)
        return len(sql) if end < 0 else end + 1
    return None


def skeleton(sql: str) -> str:
    """The statement's code with comments removed and each quoted part replaced by a blank
    placeholder (``''``), so that only the server's own keywords and punctuation remain."""
    parts: list[str] = []
    i = 0
    while i < len(sql):
        if sql[i] in _QUOTES:
            i = _quoted_end(sql, i)
            parts.append(" '' ")
            continue
        comment_end = _comment_end(sql, i)
        if comment_end is not None:
            parts.append(" ")
            i = comment_end
            continue
        parts.append(sql[i])
        i += 1
    return "".join(parts)


def _check_one_statement(code: str) -> None:
    body = code.strip()
    if body.endswith(";"):
        body = body[:-1]
    if ";" in body:
        raise _Refused("more than one statement")


def _check_words(code: str) -> None:
    words = list(_WORD.finditer(code))
    if not words or words[0].group().upper() not in FIRST_WORDS:
        raise _Refused("a statement that does not begin with SELECT or WITH")
    if not any(word.group().upper() == "SELECT" for word in words):
        raise _Refused("a WITH clause without SELECT")
    for word in words:
        upper = word.group().upper()
        if upper not in FORBIDDEN_WORDS:
            continue
        is_call = code[word.end() :].lstrip().startswith("(")
        if not (upper in STRING_FUNCTIONS and is_call):
            raise _Refused(f"the keyword {upper}")


def check_single_select(query_name: str, sql: str) -> None:
    """Raise ReadOnlyViolation unless ``sql`` is exactly one SELECT (or WITH ... SELECT).

    The message names the query and the reason, never the SQL text (it may hold literals)."""
    try:
        code = skeleton(sql)
        _check_one_statement(code)
        _check_words(code)
    except _Refused as refused:
        message = f"{query_name}: refused {refused}; only one SELECT may run"
        raise ReadOnlyViolation(message) from None
