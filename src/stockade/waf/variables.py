"""Resolve SecLang variables against a transaction.

Each resolver returns ``(name, value)`` pairs, where ``name`` is what
MATCHED_VAR_NAME reports (``ARGS:id``, ``REQUEST_URI``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Final

from stockade.waf.bodies.xml import xml_values
from stockade.waf.collections import Collection
from stockade.waf.request_vars import to_text
from stockade.waf.seclang.variables import KeyPattern, VariableSpec

if TYPE_CHECKING:
    from stockade.waf.transaction import Transaction

Pair = tuple[str, bytes]

NAMES_OF: Final = {
    "ARGS_NAMES": "ARGS",
    "ARGS_GET_NAMES": "ARGS_GET",
    "ARGS_POST_NAMES": "ARGS_POST",
    "REQUEST_HEADERS_NAMES": "REQUEST_HEADERS",
    "REQUEST_COOKIES_NAMES": "REQUEST_COOKIES",
    "RESPONSE_HEADERS_NAMES": "RESPONSE_HEADERS",
    "FILES_NAMES": "FILES",
}
STORED_COLLECTIONS: Final = frozenset({
    "ARGS", "ARGS_GET", "ARGS_POST", "REQUEST_HEADERS", "REQUEST_COOKIES", "RESPONSE_HEADERS",
    "FILES", "FILES_SIZES", "FILES_TMPNAMES", "MULTIPART_PART_HEADERS",
})
KEYED_STATE: Final = frozenset({"TX", "IP", "GLOBAL", "SESSION", "USER", "RESOURCE"})
SCALARS: Final = frozenset({
    "REQUEST_METHOD", "REQUEST_URI", "REQUEST_URI_RAW", "REQUEST_FILENAME", "REQUEST_BASENAME",
    "REQUEST_LINE", "REQUEST_PROTOCOL", "QUERY_STRING", "PATH_INFO", "REMOTE_ADDR",
    "REMOTE_HOST", "REMOTE_PORT", "SERVER_ADDR", "SERVER_PORT", "SERVER_NAME", "UNIQUE_ID",
    "AUTH_TYPE", "REQUEST_BODY", "REQUEST_BODY_LENGTH", "FILES_COMBINED_SIZE", "REQBODY_ERROR",
    "REQBODY_ERROR_MSG", "REQBODY_PROCESSOR", "REQBODY_PROCESSOR_ERROR",
    "REQBODY_PROCESSOR_ERROR_MSG", "URLENCODED_ERROR", "INBOUND_DATA_ERROR",
    "OUTBOUND_DATA_ERROR", "RESPONSE_STATUS", "RESPONSE_PROTOCOL", "RESPONSE_BODY",
    "RESPONSE_CONTENT_TYPE", "RESPONSE_CONTENT_LENGTH", "STATUS_LINE", "FULL_REQUEST",
    "FULL_REQUEST_LENGTH", "MULTIPART_STRICT_ERROR", "MULTIPART_UNMATCHED_BOUNDARY",
    "MULTIPART_BOUNDARY_QUOTED", "MULTIPART_BOUNDARY_WHITESPACE", "MULTIPART_DATA_AFTER",
    "MULTIPART_DATA_BEFORE", "MULTIPART_HEADER_FOLDING", "MULTIPART_LF_LINE",
    "MULTIPART_CRLF_LF_LINES", "MULTIPART_MISSING_SEMICOLON", "MULTIPART_INVALID_QUOTING",
    "MULTIPART_INVALID_PART", "MULTIPART_INVALID_HEADER_FOLDING", "MULTIPART_FILE_LIMIT_EXCEEDED",
    "MULTIPART_FILENAME", "MULTIPART_NAME", "MULTIPART_SEMICOLON_MISSING",
})
COMPUTED: Final = frozenset({
    "ARGS_COMBINED_SIZE", "MATCHED_VAR", "MATCHED_VAR_NAME", "MATCHED_VARS",
    "MATCHED_VARS_NAMES", "DURATION", "TIME", "TIME_EPOCH", "TIME_YEAR", "TIME_MON", "TIME_DAY",
    "TIME_HOUR", "TIME_MIN", "TIME_SEC", "TIME_WDAY", "HIGHEST_SEVERITY", "XML", "ENV", "GEO",
    "RULE", "WEBAPPID", "SESSIONID", "USERID", "MODSEC_BUILD", "REQBODY_PROCESSOR_ERROR",
    "WEBSERVER_ERROR_LOG", "USERAGENT_IP",
})
KNOWN_VARIABLES: Final = SCALARS | COMPUTED | STORED_COLLECTIONS | KEYED_STATE | frozenset(NAMES_OF)
PHASE_STATIC: Final = STORED_COLLECTIONS | frozenset(NAMES_OF) | SCALARS | frozenset({"XML"})
"""Variables whose values depend only on the message, so they stay fixed while a phase runs.

Only ``ctl:requestBodyProcessor`` changes one within a phase, and it makes the
transaction forget what it resolved (``Transaction.forget_screened_values``).
"""


def resolve(transaction: Transaction, spec: VariableSpec) -> list[Pair]:
    """Return the values ``spec`` selects, ignoring its count and exclude flags."""
    name = spec.name
    if name in STORED_COLLECTIONS:
        return _select(transaction.collections[name], spec)
    if name in NAMES_OF:
        source = transaction.collections[NAMES_OF[name]]
        return [(f"{name}:{key}", key.encode("utf-8", "surrogateescape"))
                for key in _selected_keys(source, spec)]
    if name in KEYED_STATE:
        return _select(transaction.collection(name), spec)
    if name in SCALARS:
        value = transaction.scalars.get(name)
        return [] if value is None else [(name, value)]
    return _computed(transaction, spec)


def resolve_values(transaction: Transaction, spec: VariableSpec) -> list[bytes]:
    """Return the values of ``resolve`` without their names."""
    name = spec.name
    if name in STORED_COLLECTIONS:
        collection = transaction.collections[name]
        if spec.key is not None and spec.key_pattern is None:
            return collection.get(spec.key)
        if spec.key is None and spec.key_pattern is None:
            return [value for _, value in collection]
        pattern = spec.key_pattern
        assert pattern is not None
        return [value for key, value in collection if _pattern_selects(pattern, key)]
    if name in NAMES_OF:
        return [key.encode("utf-8", "surrogateescape")
                for key in _selected_keys(transaction.collections[NAMES_OF[name]], spec)]
    if name in SCALARS:
        value = transaction.scalars.get(name)
        return [] if value is None else [value]
    return [value for _, value in resolve(transaction, spec)]


def _select(collection: Collection, spec: VariableSpec) -> list[Pair]:
    prefix = spec.name
    pattern = spec.key_pattern
    if pattern is not None:
        return [(f"{prefix}:{key}", value) for key, value in collection
                if _pattern_selects(pattern, key)]
    if spec.key is not None:
        return [(f"{prefix}:{spec.key_text}", value) for value in collection.get(spec.key)]
    return [(f"{prefix}:{key}", value) for key, value in collection]


def _pattern_selects(pattern: KeyPattern, key: str) -> bool:
    """Return ``pattern.selects(key)``, reading a result already known without a call."""
    known = pattern.results.get(key)
    return known if known is not None else pattern.selects(key)


def _selected_keys(collection: Collection, spec: VariableSpec) -> list[str]:
    """Return the keys of ``collection`` that ``spec`` selects, in order, repeats included."""
    if spec.key_pattern is None and spec.key is None:
        return [key for key, _ in collection]
    return [key for key, _ in collection if spec.selects(key)]


def _computed(transaction: Transaction, spec: VariableSpec) -> list[Pair]:
    name = spec.name
    if name == "ARGS_COMBINED_SIZE":
        size = sum(len(key.encode("utf-8", "surrogateescape")) + len(value)
                   for key, value in transaction.collections["ARGS"])
        return [(name, str(size).encode())]
    if name == "MATCHED_VAR":
        return [(name, transaction.matched_var.value)] if transaction.matched_var.name else []
    if name == "MATCHED_VAR_NAME":
        matched = transaction.matched_var.name
        return [(name, matched.encode("utf-8", "surrogateescape"))] if matched else []
    if name == "MATCHED_VARS":
        return [(item.name, item.value) for item in transaction.matched_vars
                if spec.selects(item.name.partition(":")[2] or item.name)]
    if name == "MATCHED_VARS_NAMES":
        return [(item.name, item.name.encode("utf-8", "surrogateescape"))
                for item in transaction.matched_vars
                if spec.selects(item.name.partition(":")[2] or item.name)]
    if name == "DURATION":
        return [(name, str(transaction.elapsed_microseconds()).encode())]
    if name.startswith("TIME"):
        return [(name, _time_value(name).encode())]
    if name == "XML":
        return [(f"XML:{spec.key_text}", value)
                for value in xml_values(transaction, spec.key_text or "/*")]
    if name == "HIGHEST_SEVERITY":
        severities = [int(match.severity_number) for match in transaction.matches
                      if match.severity_number is not None]
        return [(name, str(min(severities) if severities else 255).encode())]
    return []


def _time_value(name: str) -> str:
    now = time.localtime()
    values = {
        "TIME": time.strftime("%H:%M:%S", now),
        "TIME_EPOCH": str(int(time.time())),
        "TIME_YEAR": str(now.tm_year),
        "TIME_MON": str(now.tm_mon - 1),
        "TIME_DAY": str(now.tm_mday),
        "TIME_HOUR": str(now.tm_hour),
        "TIME_MIN": str(now.tm_min),
        "TIME_SEC": str(now.tm_sec),
        "TIME_WDAY": str((now.tm_wday + 1) % 7),
    }
    return values.get(name, "")


def resolve_macro(transaction: Transaction, name: str, key: str | None) -> str | None:
    """Return the text of ``%{name.key}``: the first value, or None when there is none."""
    if name == "RULE":
        return _rule_macro(transaction, (key or "").lower())
    spec = VariableSpec(name, key=key.lower() if key is not None else None, key_text=key)
    values = resolve(transaction, spec)
    if not values:
        return None
    return to_text(values[0][1])


def _rule_macro(transaction: Transaction, field: str) -> str | None:
    rule = transaction.current_rule
    if rule is None:
        return None
    if field == "id":
        return str(rule.id)
    if field == "msg":
        return transaction.expand_macros(rule.msg) if rule.msg else ""
    if field == "logdata":
        return transaction.expand_macros(rule.logdata) if rule.logdata else ""
    if field == "severity":
        return str(rule.severity) if rule.severity is not None else ""
    if field in ("ver", "rev"):
        return getattr(rule, field) or ""
    if field == "phase":
        return str(rule.phase)
    return None
