"""WWW-Authenticate challenges for 401 answers.

Following RFC 6750 section 3, a request without credentials gets a bare
challenge per accepted scheme, and a rejected bearer token gets
``error="invalid_token"`` and nothing more; why it was rejected goes only
into the security event.
"""

from __future__ import annotations

from stockade.auth.config import AuthPolicy
from stockade.auth.outcome import API_KEY, BASIC, BEARER

WWW_AUTHENTICATE = b"WWW-Authenticate"


def challenge(scheme: str, realm: str, *, invalid: bool = False) -> tuple[bytes, bytes]:
    value = f'{scheme} realm="{realm}"'
    if scheme == BASIC:
        value += ', charset="UTF-8"'
    elif scheme == BEARER and invalid:
        value += ', error="invalid_token"'
    return WWW_AUTHENTICATE, value.encode("ascii", "replace")


def missing_credentials(policy: AuthPolicy) -> tuple[tuple[bytes, bytes], ...]:
    """One challenge per scheme the route accepts."""
    schemes: list[str] = []
    if policy.jwt is not None or policy.introspection is not None:
        schemes.append(BEARER)
    if policy.basic is not None:
        schemes.append(BASIC)
    if policy.api_key is not None:
        schemes.append(API_KEY)
    return tuple(challenge(scheme, policy.realm) for scheme in schemes)


def insufficient_scope(realm: str, scopes: list[str]) -> tuple[bytes, bytes]:
    """The RFC 6750 challenge sent with 403 when a token lacks a required scope."""
    scope = " ".join(scopes).replace('"', "")
    return (
        WWW_AUTHENTICATE,
        f'Bearer realm="{realm}", error="insufficient_scope", scope="{scope}"'.encode(
            "ascii", "replace"
        ),
    )
