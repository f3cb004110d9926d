"""Security events as CEF messages inside RFC 5424 syslog messages.

Pure functions: the syslog sink does the socket work. CEF (ArcSight Common
Event Format, version 0) escapes ``|`` and ``\\`` in header fields and
``=``, ``\\`` and line breaks in extension values. RFC 5424 header fields
are printable US-ASCII without spaces, ``-`` when empty.
"""

from __future__ import annotations

import datetime as dt
import json

from stockade import __version__ as STOCKADE_VERSION
from stockade.events.model import SecurityEvent, Severity

CEF_VENDOR = "Stockade"
CEF_PRODUCT = "Stockade"

CEF_SEVERITY = {
    Severity.INFO: 1, Severity.LOW: 3, Severity.MEDIUM: 5, Severity.HIGH: 8, Severity.CRITICAL: 10,
}
"""Our severities on CEF's 0-10 scale."""

SYSLOG_SEVERITY = {
    Severity.INFO: 6, Severity.LOW: 5, Severity.MEDIUM: 4, Severity.HIGH: 3, Severity.CRITICAL: 2,
}
"""Our severities as RFC 5424 severities: informational, notice, warning, error, critical."""

MAX_NAME_CHARS = 128
"""CEF Name field length; longer messages are cut (the whole text stays in ``msg``)."""

MAX_EVIDENCE_CHARS = 1024
"""Evidence JSON carried in ``cs6``; receivers commonly cap a field near this size."""

_HEADER_LIMITS = {"hostname": 255, "app_name": 48, "procid": 128, "msgid": 32}


def escape_header(value: str) -> str:
    value = value.replace("\\", "\\\\").replace("|", "\\|")
    return value.replace("\r", " ").replace("\n", " ")


def escape_extension(value: str) -> str:
    value = value.replace("\\", "\\\\").replace("=", "\\=")
    return value.replace("\r", "\\r").replace("\n", "\\n")


def cef_extensions(event: SecurityEvent) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = [
        ("rt", str(int(event.time * 1000))),
        ("externalId", event.id),
        ("cat", event.layer),
        ("act", event.action.value),
        ("msg", event.message),
        ("cs1Label", "tenant"), ("cs1", event.tenant),
    ]
    if event.client_ip:
        pairs.append(("c6a2" if ":" in event.client_ip else "src", event.client_ip))
    optional = [
        ("suser", event.consumer), ("requestMethod", event.method), ("request", event.path),
    ]
    pairs.extend((key, value) for key, value in optional if value)
    labelled = [
        ("cs2", "service", event.service), ("cs3", "route", event.route),
        ("cs4", "ruleIds", ",".join(event.rule_ids)), ("cs5", "requestId", event.request_id),
    ]
    for key, label, value in labelled:
        if value:
            pairs.extend([(f"{key}Label", label), (key, value)])
    if event.evidence:
        evidence = json.dumps(event.evidence, separators=(",", ":"), default=str)
        pairs.extend([("cs6Label", "evidence"), ("cs6", evidence[:MAX_EVIDENCE_CHARS])])
    return pairs


def format_cef(event: SecurityEvent) -> str:
    """Return the CEF:0 line for one event."""
    header = [
        "CEF:0", CEF_VENDOR, CEF_PRODUCT, STOCKADE_VERSION, f"{event.layer}:{event.kind}",
        event.message[:MAX_NAME_CHARS], str(CEF_SEVERITY[event.severity]),
    ]
    extension = " ".join(f"{key}={escape_extension(value)}" for key, value in cef_extensions(event))
    return "|".join(escape_header(field) for field in header) + "|" + extension


def header_field(value: str | None, name: str) -> str:
    """An RFC 5424 header field: printable ASCII without spaces, cut to its limit."""
    if not value:
        return "-"
    cleaned = "".join(char if 33 <= ord(char) <= 126 else "_" for char in value)
    return cleaned[:_HEADER_LIMITS[name]]


def format_syslog(event: SecurityEvent, *, facility: int, hostname: str | None,
                  app_name: str, procid: str | None = None) -> bytes:
    """Return one RFC 5424 message whose MSG part is the event's CEF line."""
    priority = facility * 8 + SYSLOG_SEVERITY[event.severity]
    timestamp = dt.datetime.fromtimestamp(event.time, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    header = " ".join([
        f"<{priority}>1", timestamp, header_field(hostname, "hostname"),
        header_field(app_name, "app_name"), header_field(procid, "procid"),
        header_field(event.layer, "msgid"), "-",
    ])
    return f"{header} {format_cef(event)}".encode()


def frame_octet_counted(message: bytes) -> bytes:
    """Frame a message for a stream transport: ``LENGTH SP MESSAGE`` (RFC 6587, RFC 5425)."""
    return str(len(message)).encode() + b" " + message


def truncate_datagram(message: bytes, limit: int) -> bytes:
    """Cut a message to ``limit`` bytes without splitting a UTF-8 character."""
    if len(message) <= limit:
        return message
    return message[:limit].decode("utf-8", errors="ignore").encode()
