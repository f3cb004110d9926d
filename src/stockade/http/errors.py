"""Errors of the HTTP layer.

``ProtocolError`` means the peer sent something that breaks HTTP/1.1 framing;
it carries the status the client gets. Every such error closes the connection,
because after a framing error the next message boundary is unknown.
"""

from __future__ import annotations


class ProtocolError(Exception):
    """The peer violated HTTP/1.1; ``status`` is the response to send before closing."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
