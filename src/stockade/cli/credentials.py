"""``stockade credentials``: make API keys and hash passwords for the consumers section.

Secrets are read from standard input or the terminal, never from the command
line, where they would end up in shell history and process listings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
from typing import Any

from stockade.auth.hashing import hash_api_key, hash_password, new_api_key

MIN_PASSWORD_CHARS = 12  # shorter passwords fall to offline guessing even under scrypt


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "credentials", help="Create API keys and hash passwords for consumers."
    )
    commands = parser.add_subparsers(dest="credentials_command", metavar="ACTION", required=True)

    key = commands.add_parser(
        "new-api-key", help="Generate an API key; print it once with its config entry."
    )
    key.add_argument("--id", default="key1", help="Key id for logs and events (default: key1).")
    key.add_argument(
        "--expires", help="Expiry time, ISO 8601 with a time zone, e.g. 2027-01-31T00:00:00Z."
    )
    key.set_defaults(handler=run_new_api_key)

    existing = commands.add_parser(
        "hash-api-key", help="Hash an existing API key read from standard input."
    )
    existing.add_argument(
        "--id", default="key1", help="Key id for logs and events (default: key1)."
    )
    existing.set_defaults(handler=run_hash_api_key)

    password = commands.add_parser(
        "hash-password",
        help="Hash a Basic auth password (prompted, or one line of standard input).",
    )
    password.add_argument("--username", required=True, help="User name the consumer logs in with.")
    password.set_defaults(handler=run_hash_password)


def run_new_api_key(args: argparse.Namespace) -> int:
    try:
        expires = _expiry(args.expires)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    key = new_api_key()
    print(f"API key (shown once, give it to the consumer): {key}", file=sys.stderr)
    print(_api_key_entry(args.id, hash_api_key(key), expires))
    return 0


def run_hash_api_key(args: argparse.Namespace) -> int:
    key = sys.stdin.readline().strip()
    if not key:
        print(
            'error: no API key on standard input; pipe it in, e.g. printf %s "$KEY" | ...',
            file=sys.stderr,
        )
        return 2
    print(_api_key_entry(args.id, hash_api_key(key), None))
    return 0


def run_hash_password(args: argparse.Namespace) -> int:
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat: ") != password:
            print("error: the passwords differ; nothing was hashed", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < MIN_PASSWORD_CHARS:
        print(
            f"error: {len(password)} characters are too few; use at least {MIN_PASSWORD_CHARS}",
            file=sys.stderr,
        )
        return 1
    if ":" in args.username:
        print("error: a Basic auth user name cannot contain ':'", file=sys.stderr)
        return 2
    print(f"basic:\n  username: {args.username}\n  password_hash: '{hash_password(password)}'")
    return 0


def _expiry(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    problem = f"--expires {text!r} must be ISO 8601 with a time zone, e.g. 2027-01-31T00:00:00Z"
    try:
        expires = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(problem) from None
    if expires.tzinfo is None:
        raise ValueError(problem)
    return expires


def _api_key_entry(key_id: str, digest: str, expires: dt.datetime | None) -> str:
    lines = ["api_keys:", f"  - id: {key_id}", f"    hash: {digest}"]
    if expires is not None:
        lines.append(f"    expires: '{expires.isoformat()}'")
    return "\n".join(lines)
