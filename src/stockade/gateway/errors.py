"""The connection errors of the gateway's data plane.

They live in a module of their own because they subclass built-in
exceptions, which mypyc cannot compile, so the modules that raise them can
be compiled (see stockade/native.py).
"""

from __future__ import annotations


class PeerClosed(ConnectionError):
    """The peer closed the connection before a message was complete."""


class ClientGone(ConnectionError):
    """The client closed its connection while the response was being sent."""


class SlowRequest(TimeoutError):
    """The client sends its request too slowly, so it gets 408 and the connection is closed."""


class PathError(ValueError):
    """The request path cannot be routed safely."""
