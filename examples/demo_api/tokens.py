"""HS256 access tokens (JWT): issued at login, checked on every call.

The vulnerable variant signs with a dictionary password, accepts tokens
with ``"alg": "none"`` and no signature, and ignores ``exp``. The fixed
variant signs with a random key and accepts only HS256 tokens that carry
and honour ``exp``, ``iat`` and ``sub``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import jwt

from demo_api.settings import TOKEN_LIFETIME_SECONDS, Settings

logger = logging.getLogger(__name__)

ALGORITHM = "HS256"


class TokenCodec:
    """Issues tokens and returns the user id (``sub``) of a token it accepts."""

    def __init__(self, settings: Settings) -> None:
        self._secret = settings.jwt_secret
        self._fixed = settings.fixed

    def issue(self, user_id: int, username: str, role: str) -> str:
        now = int(time.time())
        claims = {
            "sub": str(user_id),
            "name": username,
            "role": role,
            "iat": now,
            "exp": now + TOKEN_LIFETIME_SECONDS,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def subject(self, token: str) -> int | None:
        """Return the user id that ``token`` names, or None when it is rejected."""
        try:
            claims = self._decode(token)
            return int(claims["sub"])
        except (jwt.InvalidTokenError, KeyError, TypeError, ValueError) as exc:
            logger.debug("token rejected: %s", exc)
            return None

    def _decode(self, token: str) -> dict[str, Any]:
        if self._fixed:
            decoded: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "iat", "sub"]},
            )
            return decoded
        header = jwt.get_unverified_header(token)
        if str(header.get("alg", "")).lower() == "none":
            # Planted: an unsigned token is trusted as it is.
            unsigned: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
            return unsigned
        # Planted: expired tokens stay valid.
        weak: dict[str, Any] = jwt.decode(
            token, self._secret, algorithms=[ALGORITHM], options={"verify_exp": False}
        )
        return weak
