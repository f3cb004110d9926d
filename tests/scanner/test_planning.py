"""Operation selection and safe mode."""

from __future__ import annotations

import pytest

from stockade.scanner.openapi import Operation
from stockade.scanner.planning import ScanSettings, glob_match, validate_settings


@pytest.mark.parametrize(("pattern", "text", "expected"), [
    ("*", "", True),
    ("GET /api/*", "GET /api/v2/orders", True),
    ("GET /api/*", "POST /api/v2/orders", False),
    ("*orders*", "GET /api/v2/orders/{orderId}", True),
    ("read?ser", "readUser", True),
    ("read?ser", "readUsers", False),
    ("a*b*c", "axxbyyc", True),
    ("a*b*c", "axxbyy", False),
    ("*a*a*a*a*b", "a" * 200, False),
    ("", "x", False),
])
def test_glob_match(pattern: str, text: str, expected: bool) -> None:
    assert glob_match(pattern, text) is expected


def _operation(method: str, path: str, operation_id: str) -> Operation:
    return Operation(method=method, path=path, url_path=path, operation_id=operation_id)


def test_include_and_exclude() -> None:
    settings = ScanSettings(include=["GET *"], exclude=["readStats"])
    assert settings.selects(_operation("GET", "/users", "listUsers"))
    assert not settings.selects(_operation("POST", "/users", "createUser"))
    assert not settings.selects(_operation("GET", "/stats", "readStats"))


def test_safe_mode_methods() -> None:
    settings = ScanSettings(safe=True, allow_methods=frozenset({"PATCH"}))
    assert settings.method_allowed("get")
    assert settings.method_allowed("PATCH")
    assert not settings.method_allowed("DELETE")
    assert ScanSettings().method_allowed("DELETE")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("time_delay", 0.0, "invalid time delay"),
    ("login_probes", 0, "invalid login probe count"),
    ("expensive_probes", 5000, "invalid expensive-operation probe count"),
])
def test_validate_settings_rejects(field: str, value: float, message: str) -> None:
    settings = ScanSettings()
    setattr(settings, field, value)
    with pytest.raises(ValueError, match=message):
        validate_settings(settings)
