"""The csrf policy section: defaults and errors that name the value."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from stockade.csrf.config import CsrfPolicy


def test_defaults_are_strict() -> None:
    policy = CsrfPolicy()
    assert policy.strictness == "strict"
    assert policy.credentials == ["cookie", "basic", "client_certificate"]
    assert policy.json_only == "auto"
    assert policy.token is None


def test_origins_lower_cased() -> None:
    policy = CsrfPolicy.model_validate({"allowed_origins": ["https://App.Acme.TEST"]})
    assert policy.allowed_origins == ["https://app.acme.test"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"allowed_origins": ["app.acme.test"]}, "must be scheme://host"),
        ({"allowed_origins": ["https://app.acme.test/path"]}, "with no path"),
        ({"allowed_origins": ["ftp://app.acme.test"]}, "must be scheme://host"),
        ({"strictness": "loose"}, "'strict' or 'lax'"),
        ({"credentials": ["bearer"]}, "'cookie', 'basic' or 'client_certificate'"),
        ({"session_cookies": ["bad;name"]}, "must be a non-empty token"),
        ({"allow_content_types": ["text/plain; charset=utf-8"]}, "without parameters"),
        ({"allow_content_types": ["plain"]}, "type/subtype"),
        ({"json_only": "sometimes"}, "json_only"),
        ({"token": {"mode": "signed", "key_env": "K", "max_age_seconds": 10}}, "greater than"),
    ],
)
def test_invalid_settings_named(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CsrfPolicy.model_validate(settings)
