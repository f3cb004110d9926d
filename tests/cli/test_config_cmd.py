from __future__ import annotations

import json
from pathlib import Path

import pytest

from stockade.cli.main import main


def test_validate_prints_every_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("workers: 0\nlimits: {max_header_count: -1}\n")
    assert main(["config", "validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:1: workers:" in err
    assert f"{path}:2: limits.max_header_count:" in err
    assert "2 errors; the config was not loaded" in err


def test_validate_accepts_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(
        "tenants: [{id: a, services: [{id: s, hosts: [x.test],"
        " upstream: {targets: ['127.0.0.1:1']}}]}]\n"
    )
    assert main(["config", "validate", str(path)]) == 0
    assert "valid (1 tenant, 1 service)" in capsys.readouterr().out


def test_schema_is_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "Stockade gateway configuration"
    assert "tenants" in schema["properties"]
    assert schema["additionalProperties"] is False


def test_validate_builds_security_layers(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STOCKADE_TEST_UNSET_SECRET", raising=False)
    path = tmp_path / "layers.yaml"
    path.write_text(
        "tenants:\n"
        "  - id: acme\n"
        "    policy:\n"
        "      auth:\n"
        "        introspection:\n"
        "          endpoint: http://127.0.0.1:9/introspect\n"
        "          client_id: gw\n"
        "          client_secret_env: STOCKADE_TEST_UNSET_SECRET\n"
        "    services:\n"
        "      - {id: api, hosts: [api.test], upstream: {targets: ['127.0.0.1:9000']}}\n")
    assert main(["config", "validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert "a security layer cannot be set up" in err
    assert "STOCKADE_TEST_UNSET_SECRET is not set" in err


def test_validate_names_missing_crs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "waf.yaml"
    missing = tmp_path / "no-crs"
    path.write_text(
        "tenants:\n"
        "  - id: acme\n"
        f"    policy: {{waf: {{crs_path: '{missing}', extra_rule_files: [local.conf]}}}}\n"
        "    services:\n"
        "      - id: api\n"
        "        hosts: [api.test]\n"
        "        upstream: {targets: ['127.0.0.1:9000']}\n"
        "        routes: [{id: items, path: /items}]\n")
    assert main(["config", "validate", str(path)]) == 1
    err = capsys.readouterr().err
    # One line per problem, at the first place it applies, before any rule set is compiled.
    assert err.count("has no rules/REQUEST-9*.conf") == 1
    assert f"{path}: tenant acme service api: waf.crs_path '{missing}'" in err
    assert "waf.extra_rule_files: 'local.conf' is not a readable file" in err
    assert "2 unusable files" in err
    assert "a security layer cannot be set up" not in err


def test_validate_reports_each_service(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "openapi.yaml"
    missing = tmp_path / "no-such-openapi.yaml"
    path.write_text(
        "tenants:\n"
        "  - id: acme\n"
        "    policy: {protection: {openapi: {unknown_operation: reject}}}\n"
        "    services:\n"
        f"      - {{id: shop, hosts: [acme.test], openapi: '{missing}',\n"
        "         upstream: {targets: ['127.0.0.1:9000']}}\n"
        "  - id: globex\n"
        "    policy: {protection: {openapi: {unknown_operation: reject}}}\n"
        "    services:\n"
        f"      - {{id: shop, hosts: [globex.test], openapi: '{missing}',\n"
        "         upstream: {targets: ['127.0.0.1:9000']}}\n")
    assert main(["config", "validate", str(path)]) == 1
    err = capsys.readouterr().err
    for tenant in ("acme", "globex"):
        assert (f"{path}: tenants[{tenant}].services[shop].openapi: "
                f"cannot read OpenAPI document {missing}") in err
    assert "ConfigError" not in err
