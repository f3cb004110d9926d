"""SecLang operators Stockade recognizes but does not run, with the reason for each."""

from __future__ import annotations

from stockade.waf.operators._registry import OperatorError

UNSUPPORTED_OPERATORS: dict[str, str] = {
    "rbl": "DNS blocklist lookups need the network, which the WAF never uses; "
    "list the addresses in a file for @ipMatchFromFile instead",
    "geolookup": "geolocation needs a GeoIP database, which Stockade does not load",
    "gsblookup": "Google Safe Browsing lookups need the network, which the WAF never uses",
    "inspectfile": "running external programs on uploaded files is not supported",
    "fuzzyhash": "ssdeep fuzzy hashing is not available",
    "validatedtd": "XML DTD validation is not supported",
    "validateschema": "XML Schema validation is not supported",
    "validatehash": "@validateHash is not supported",
    "verifycc": "@verifyCC is not supported",
    "verifycpf": "@verifyCPF is not supported",
    "verifyssn": "@verifySSN is not supported",
    "verifysvnr": "@verifySVNR is not supported",
}


def reject_unsupported(name: str, argument: str) -> None:
    """Raise OperatorError with the reason when ``name`` is a known but unsupported operator."""
    reason = UNSUPPORTED_OPERATORS.get(name.lower())
    if reason is not None:
        raise OperatorError(name, argument, f"not supported: {reason}")
