"""Body limits of a route, read from its policy for every request."""

from __future__ import annotations

from stockade.config.models import GatewayConfig, Policy

DEFAULT_BUFFER_MAX_BYTES = 1024 * 1024
"""Largest body buffered for a stage that inspects whole bodies, unless the policy sets it."""


def body_limit(config: GatewayConfig, policy: Policy) -> int:
    """Return the largest request body accepted on a route with ``policy``."""
    settings = policy.request_body
    if settings is not None and settings.max_bytes is not None:
        return settings.max_bytes
    return config.limits.max_body_bytes


def buffer_limit(policy: Policy) -> tuple[int, bool]:
    """Return the body buffering cap and whether a larger body is inspected partially."""
    settings = policy.request_body
    cap = DEFAULT_BUFFER_MAX_BYTES
    partial = False
    if settings is not None:
        if settings.buffer_max_bytes is not None:
            cap = settings.buffer_max_bytes
        partial = settings.over_buffer == "inspect_partial"
    return cap, partial
