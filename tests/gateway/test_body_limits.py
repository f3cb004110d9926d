from __future__ import annotations

from stockade.config.models import GatewayConfig, Limits, Policy, RequestBodyPolicy
from stockade.gateway.body_limits import DEFAULT_BUFFER_MAX_BYTES, body_limit, buffer_limit


def test_body_limit_policy_over_config() -> None:
    config = GatewayConfig(limits=Limits(max_body_bytes=5000))
    assert body_limit(config, Policy()) == 5000
    assert body_limit(config, Policy(request_body=RequestBodyPolicy())) == 5000
    assert body_limit(config, Policy(request_body=RequestBodyPolicy(max_bytes=70))) == 70
    assert body_limit(config, Policy(request_body=RequestBodyPolicy(max_bytes=0))) == 0


def test_buffer_limit_defaults_and_partial() -> None:
    assert buffer_limit(Policy()) == (DEFAULT_BUFFER_MAX_BYTES, False)
    partial = RequestBodyPolicy(buffer_max_bytes=100, over_buffer="inspect_partial")
    assert buffer_limit(Policy(request_body=partial)) == (100, True)
    rejecting = RequestBodyPolicy(over_buffer="reject")
    assert buffer_limit(Policy(request_body=rejecting)) == (DEFAULT_BUFFER_MAX_BYTES, False)
