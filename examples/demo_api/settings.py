"""Run-time settings of the demo API and the limits of its fixed variant."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

LISTEN_HOST = "127.0.0.1"
"""The only address the demo binds: a deliberately vulnerable API stays on loopback."""

DEFAULT_PORT = 9000

WEAK_JWT_SECRET = "changeme"  # noqa: S105 - the planted weak secret, listed in VULNERABILITIES.md
"""HMAC key of the vulnerable variant: a dictionary password that a word list cracks."""

FIXED_SECRET_BYTES = 32
"""Length of the fixed variant's random HMAC key; 256 bits matches HS256's output size."""

TOKEN_LIFETIME_SECONDS = 15 * 60
"""How long an access token is valid: short, so a leaked token is worth little."""

LOGIN_FAILURES_PER_USERNAME = 5
"""Failed logins per username in a window before that username is locked (fixed variant)."""

LOGIN_FAILURES_PER_CLIENT = 20
"""Failed logins per client address in a window before it is locked (fixed variant)."""

LOGIN_WINDOW_SECONDS = 300.0
"""Window of the login limits: five minutes, the usual order of an account lockout."""

EXPORTS_PER_USER = 5
"""Order exports per user in a window (fixed variant)."""

EXPORT_WINDOW_SECONDS = 60.0


def _random_secret() -> str:
    return secrets.token_urlsafe(FIXED_SECRET_BYTES)


@dataclass(frozen=True)
class Settings:
    """What one run of the demo API serves.

    ``fixed`` selects the variant with every planted vulnerability closed.
    ``webhook_allowlist`` contains ``host:port`` origins that the fixed
    variant's outbound calls may reach even on a private address, so a
    receiver on loopback can be used on purpose.
    """

    fixed: bool
    db_path: Path
    jwt_secret: str = field(default="", repr=False)
    webhook_allowlist: frozenset[str] = frozenset()

    @classmethod
    def for_mode(
        cls, *, fixed: bool, db_path: Path, webhook_allowlist: frozenset[str] = frozenset()
    ) -> Settings:
        """Build settings with the HMAC key that the variant uses."""
        secret = _random_secret() if fixed else WEAK_JWT_SECRET
        return cls(
            fixed=fixed, db_path=db_path, jwt_secret=secret, webhook_allowlist=webhook_allowlist
        )

    @property
    def mode(self) -> str:
        return "fixed" if self.fixed else "vulnerable"
