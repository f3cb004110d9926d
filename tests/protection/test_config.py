from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from stockade.protection.config import ProtectionPolicy


@pytest.mark.parametrize(("section", "message"), [
    ({"state": {"redis_url": "http://127.0.0.1:6379"}}, "must start with redis://"),
    ({"state": {"store": "disk"}}, "'memory' or 'redis'"),
    ({"abuse": {"parameters": [{"parameter": "body:email"}]}}, "query:NAME or path:NAME"),
    ({"abuse": {"logins": [{"path": "/login"}, {"path": "/login"}]}}, "same method and path"),
    ({"leaks": {"mask_classes": ["shoe-size"]}}, "Input should be"),
    ({"blocking": {"thresholds": [{"events": 0}]}}, "greater than or equal to 1"),
    ({"bola": {"unknown": 1}}, "Extra inputs are not permitted"),
])
def test_invalid_sections_rejected(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ProtectionPolicy.model_validate(section)


def test_defaults() -> None:
    policy = ProtectionPolicy.model_validate({"abuse": {}, "blocking": {}})
    assert policy.state.store == "memory"
    assert policy.abuse is not None
    assert (policy.abuse.max_failures_per_username, policy.abuse.window_seconds) == (10, 300)
    assert policy.blocking is not None
    rule = policy.blocking.thresholds[0]
    assert (rule.min_severity, rule.events, rule.window_seconds, rule.block_seconds) == \
        ("critical", 5, 60, 900)
    assert policy.openapi is None
