"""A simulated shell for the diagnostics endpoint: no command is ever run.

The vulnerable variant behaves as if it ran ``ping -c 1 <host>`` through a
shell: after a shell control operator (``;``, ``|``, ``&``, a newline, a
backquote or ``$(``), the word ``sleep N`` delays the response by N seconds.
This module finds those ``sleep`` commands with plain string scanning and
the endpoint sleeps in Python; nothing is passed to a shell or sent on the
network, not even the ping itself.
"""

from __future__ import annotations

import ipaddress

SHELL_OPERATORS = (";", "|", "&", "\n", "`", "$(")
"""Text after which a shell would start a new command."""

INJECTED_SLEEP_MAX_SECONDS = 5.0
"""Cap on the total delay that one request can inject."""

MAX_HOSTNAME_LENGTH = 253
"""Longest DNS name in text form (RFC 1035, 255 octets on the wire)."""

MAX_LABEL_LENGTH = 63
_NUMBER_CHARACTERS = frozenset("0123456789.")
_LABEL_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


def injected_sleep_seconds(argument: str) -> float:
    """Return how long a shell would sleep running ``ping -c 1 <argument>``.

    Only ``sleep`` with a plain decimal number counts; the total is capped.
    """
    total = 0.0
    for start in range(len(argument)):
        for shell_operator in SHELL_OPERATORS:
            if argument.startswith(shell_operator, start):
                rest = argument[start + len(shell_operator) :]
                total += _leading_sleep(rest)
                break
    return min(total, INJECTED_SLEEP_MAX_SECONDS)


def _leading_sleep(command: str) -> float:
    words = command.split(maxsplit=1)
    if len(words) < 2 or words[0] != "sleep":
        return 0.0
    digits = ""
    for character in words[1]:
        if character not in _NUMBER_CHARACTERS:
            break
        digits += character
    try:
        return float(digits)
    except ValueError:
        return 0.0


def is_valid_host(host: str) -> bool:
    """Return whether ``host`` is an IP address or a DNS name, and nothing more."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True
    if not host or len(host) > MAX_HOSTNAME_LENGTH:
        return False
    labels = host.removesuffix(".").split(".")
    return all(_is_valid_label(label) for label in labels)


def _is_valid_label(label: str) -> bool:
    return (
        0 < len(label) <= MAX_LABEL_LENGTH
        and set(label) <= _LABEL_CHARACTERS
        and not label.startswith("-")
        and not label.endswith("-")
    )
