from __future__ import annotations

from pathlib import Path

import pytest

from stockade.config.loader import ConfigError, load_config, parse_config
from stockade.config.models import LAYERS, Policy, RequestBodyPolicy, merge_policy

VALID = b"""
workers: 2
tenants:
  - id: acme
    policy: {mode: detect}
    services:
      - id: shop
        hosts: [shop.test, "*.shop.test"]
        path_prefix: /api
        upstream: {targets: ["127.0.0.1:9000"]}
        openapi: specs/shop.yaml
        routes:
          - {id: user, methods: [GET], path: "/api/users/{userId}", policy: {mode: block}}
"""


def test_valid_config_loads() -> None:
    config = parse_config(VALID, "valid.yaml", base_dir="/etc/stockade")
    service = config.tenants[0].services[0]
    assert config.workers == 2
    assert service.hosts == ["shop.test", "*.shop.test"]
    assert service.openapi == "/etc/stockade/specs/shop.yaml"
    assert service.routes[0].policy is not None


def test_errors_name_line_key_and_value(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "listeners:\n"
        "  - address: '127.0.0.1:99999'\n"
        "tenants:\n"
        "  - id: acme\n"
        "    services:\n"
        "      - id: shop\n"
        "        hosts: [shop.test]\n"
        "        upstream:\n"
        "          targets: ['127.0.0.1:9000']\n"
        "          conect_timeout: 3\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    lines = [str(issue) for issue in caught.value.issues]
    assert len(lines) == 2
    assert lines[0].startswith(f"{path}:2: listeners[0].address: ")
    assert "'127.0.0.1:99999'" in lines[0]
    assert lines[1].startswith(
        f"{path}:10: tenants[0].services[0].upstream.conect_timeout: unknown key"
    )


def test_missing_key_is_reported() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(
            b"tenants:\n  - id: acme\n    services:\n      - id: shop\n        hosts: [a.test]\n"
        )
    assert caught.value.issues[0].key_path == "tenants[0].services[0].upstream"
    assert caught.value.issues[0].message == "required key is missing"


def test_invalid_yaml_reports_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(b"tenants:\n  - id: [unclosed\n")
    assert caught.value.issues[0].message.startswith("invalid YAML")
    assert caught.value.issues[0].line is not None


def test_duplicate_yaml_key_rejected() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(b"workers: 1\nworkers: 2\n")
    assert "duplicate key 'workers'" in caught.value.issues[0].message


def test_top_level_must_be_mapping() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(b"- 1\n- 2\n")
    assert "mapping" in caught.value.issues[0].message


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "absent.yaml")
    assert "cannot read the file" in caught.value.issues[0].message


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        (b"workers: 0\n", "workers: must be between 1 and 256 or 'auto' (got 0)"),
        (
            b"tenants: [{id: a, services: [{id: s, hosts: [x.test],"
            b" upstream: {targets: [nohost]}}]}]\n",
            "must be host:port",
        ),
        (b"tenants: [{id: a}, {id: a}]\n", "duplicate tenant id 'a'"),
        (
            b"tenants: [{id: a, services: [{id: s, hosts: [x.test], upstream: {targets: ['h:1']},"
            b" routes: [{id: r, path: 'users/{id}'}]}]}]\n",
            "must start with '/'",
        ),
        (
            b"tenants: [{id: a, services: [{id: s, hosts: [x.test], upstream: {targets: ['h:1']},"
            b" routes: [{id: r, methods: [FETCH], path: /x}]}]}]\n",
            "unknown method 'FETCH'",
        ),
        (
            b"tenants: [{id: a, services: [{id: s, hosts: [x.test], upstream: {targets: ['h:1']}},"
            b" {id: t, hosts: [x.test], upstream: {targets: ['h:1']}}]}]\n",
            "claimed by both a/s and a/t",
        ),
        (b"tenants: [{id: Bad Id}]\n", "should match pattern"),
        (b"tenants: [{id: a, policy: {modes: {wfa: detect}}}]\n", "unknown layer 'wfa'"),
        (b"tenants: [{id: a, policy: {modes: {rate_limit: detect}}}]\n",
         "unknown layer 'rate_limit'; use one of"),
    ],
)
def test_invalid_values_rejected(snippet: bytes, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(snippet)
    assert any(expected in str(issue) for issue in caught.value.issues), caught.value.issues


@pytest.mark.parametrize("snippet", [b"workers: two\n", b"workers: true\n", b"workers: 1.5\n"])
def test_workers_wrong_type_one_error(snippet: bytes) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(snippet)
    assert len(caught.value.issues) == 1
    issue = caught.value.issues[0]
    assert issue.key_path == "workers"
    assert "must be an integer between 1 and 256 or 'auto'" in issue.message


def test_policy_inheritance_merges_nested_keys() -> None:
    tenant = Policy(
        mode="detect", request_body=RequestBodyPolicy(max_bytes=100, buffer_max_bytes=50)
    )
    route = Policy(request_body=RequestBodyPolicy(max_bytes=10))
    merged = merge_policy(tenant, route)
    assert merged.mode == "detect"
    assert merged.request_body is not None
    assert merged.request_body.max_bytes == 10
    assert merged.request_body.buffer_max_bytes == 50


def test_policy_modes_per_layer() -> None:
    policy = merge_policy(Policy(mode="block"), Policy(modes={"waf": "detect"}))
    assert policy.mode_of("waf") == "detect"
    assert policy.mode_of("auth") == "block"
    assert Policy().mode_of("waf") == "block"


def test_layers_name_every_stage() -> None:
    from stockade.access.authorization import AuthorizationStage
    from stockade.access.cors import CorsStage
    from stockade.access.ip_rules import IpAccessStage
    from stockade.auth.stage import AuthStage
    from stockade.csrf.stage import CsrfStage
    from stockade.ddos.stage import DdosLateStage, DdosStage
    from stockade.protection.abuse import AbuseStage
    from stockade.protection.auth_signals import AuthSignalsStage
    from stockade.protection.bfla import BflaStage
    from stockade.protection.blocking_stage import DenyStage
    from stockade.protection.bola import BolaStage
    from stockade.protection.leaks import LeakStage
    from stockade.protection.openapi.stage import OpenApiStage
    from stockade.protection.ssrf import SsrfStage
    from stockade.ratelimit.stage import RateLimitStage
    from stockade.waf import stage as waf_stage

    stages = [AuthorizationStage, CorsStage, IpAccessStage, AuthStage, CsrfStage, DdosLateStage,
              DdosStage, AbuseStage, AuthSignalsStage, BflaStage, DenyStage, BolaStage, LeakStage,
              OpenApiStage, SsrfStage, RateLimitStage]
    # The WAF stage may be compiled, which hides its class attributes, and discovery has
    # no stage: its observer reads the mode of "discovery".
    layers = {stage.layer for stage in stages} | {waf_stage.LAYER, "discovery"}
    assert layers == LAYERS


@pytest.mark.parametrize(
    ("snippet", "key_path", "suggestion"),
    [
        (b"workrs: 2\n", "workrs", "'workers'"),
        (b"policy: {waf: {paranoia_levl: 1}}\n", "policy.waf.paranoia_levl", "'paranoia_level'"),
        (
            b"tenants: [{id: a, services: [{id: s, hosts: [x.test],"
            b" upstream: {targets: ['h:1'], idle_timout: 3}}]}]\n",
            "tenants[0].services[0].upstream.idle_timout",
            "'idle_timeout'",
        ),
        (
            b"events: {sinks: [{name: f, type: jsonl, path: x.jsonl, batch_sise: 3}]}\n",
            "events.sinks[0].jsonl.batch_sise",
            "'batch_size'",
        ),
    ],
)
def test_unknown_key_suggests_close_one(snippet: bytes, key_path: str, suggestion: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(snippet)
    issue = caught.value.issues[0]
    assert issue.key_path == key_path
    assert issue.message == f"unknown key; did you mean {suggestion}?"


def test_unknown_key_without_close_one() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(b"policy: {waf: {zzzz: 1}}\n")
    message = caught.value.issues[0].message
    assert message == "unknown key; check the spelling against `stockade config schema`"
