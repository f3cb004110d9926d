"""``stockade scan`` from the command line, against the demo API on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from stockade.cli.main import main
from stockade.config.models import Tenant
from stockade.store import tenancy
from stockade.store.database import migrate, open_engine
from stockade.store.events import EventFilter, count_events
from stockade.store.scope import Store
from tests.scanner.demo import OPENAPI, demo_api, login_args


@pytest.fixture(scope="module")
def vulnerable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_api(tmp_path_factory.mktemp("demo") / "demo.log") as base_url:
        yield base_url


def _scan(base_url: str, *extra: str) -> int:
    return main(["scan", "--target", base_url, "--openapi", str(OPENAPI), "--quiet",
                 *login_args(), *extra])


def _kinds(report: Path) -> list[tuple[str, str, str]]:
    data = json.loads(report.read_text())
    return [(item["kind"], item["method"], item["path"]) for item in data["findings"]]


def test_fail_on_and_reports(vulnerable: str, tmp_path: Path) -> None:
    paths = {name: tmp_path / f"scan.{name}" for name in ("json", "sarif", "html", "blocks")}
    status = _scan(vulnerable, "--checks", "misconfiguration", "--fail-on", "low",
                   *(item for name, path in paths.items() for item in (f"--{name}", str(path))))
    assert status == 1
    kinds = {kind for kind, _, _ in _kinds(paths["json"])}
    assert {"cors-any-origin", "debug-endpoint", "missing-security-headers"} <= kinds
    assert json.loads(paths["sarif"].read_text())["version"] == "2.1.0"
    assert "<html" in paths["html"].read_text()
    assert any(block["path"] == "/actuator/env"
               for block in json.loads(paths["blocks"].read_text()))


def test_fail_on_threshold_above_findings(vulnerable: str) -> None:
    assert _scan(vulnerable, "--checks", "misconfiguration", "--exclude", "*",
                 "--fail-on", "critical") == 0


def test_safe_mode_sends_no_writes(vulnerable: str, tmp_path: Path) -> None:
    report = tmp_path / "scan.json"
    assert _scan(vulnerable, "--safe", "--checks", "bola,misconfiguration",
                 "--json", str(report)) == 0
    found = _kinds(report)
    assert ("bola", "GET", "/api/v2/orders/{orderId}") in found
    assert all(method in ("GET", "*") for _, method, _ in found), found


def test_include_limits_operations(vulnerable: str, tmp_path: Path) -> None:
    report = tmp_path / "scan.json"
    _scan(vulnerable, "--checks", "bola", "--include", "GET /api/v2/orders*",
          "--json", str(report))
    assert _kinds(report) == [("bola", "GET", "/api/v2/orders/{orderId}")]


def test_auth_file_profiles(vulnerable: str, tmp_path: Path) -> None:
    profiles = tmp_path / "auth.yaml"
    profiles.write_text(
        "profiles:\n"
        + "".join(f"  - {{name: {user}, type: login, username: {user}, password: {user}-demo-pass,"
                  " login: {path: /api/v2/login}}\n" for user in ("alice", "bob")))
    report = tmp_path / "scan.json"
    status = main(["scan", "--target", vulnerable, "--openapi", str(OPENAPI), "--quiet",
                   "--auth-file", str(profiles), "--checks", "bola",
                   "--include", "GET /api/v2/users/*", "--json", str(report)])
    assert status == 0
    assert _kinds(report) == [("bola", "GET", "/api/v2/users/{userId}")]


def test_store_events(vulnerable: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = open_engine(url)
    migrate(engine)
    store = Store(engine)
    with store.session(None, "test") as scope:
        tenancy.put_tenant(scope, Tenant.model_validate({"id": "acme"}))
    _scan(vulnerable, "--checks", "misconfiguration", "--store-events", "acme",
          "--store", url)
    with store.session("acme", "test") as scope:
        assert count_events(scope, EventFilter(tenant_id="acme", layer="scanner")) >= 3


def test_store_events_unknown_tenant(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    # The target does not listen: the store is checked before any request.
    status = main(["scan", "--quiet", "--target", "http://127.0.0.1:1", "--openapi", "x",
                   "--store-events", "nobody", "--store", f"sqlite:///{tmp_path / 'store.db'}"])
    assert status == 2
    error = capsys.readouterr().err
    assert "scan not started, its findings could not be stored" in error
    assert "nobody" in error


@pytest.mark.parametrize(("args", "message"), [
    (["--target", "ftp://127.0.0.1:1"], "the scheme must be http or https"),
    (["--openapi", "/nonexistent/openapi.yaml"], "cannot fetch the OpenAPI document"),
    (["--user", "alice"], "use USERNAME:PASSWORD"),
])
def test_invalid_input_exits_2(vulnerable: str, args: list[str], message: str,
                               capsys: pytest.CaptureFixture[str]) -> None:
    options = {"--target": vulnerable, "--openapi": str(OPENAPI)}
    extra: list[str] = []
    for name, value in zip(args[::2], args[1::2], strict=True):
        if name in options:
            options[name] = value
        else:
            extra += [name, value]
    argv = ["scan", "--quiet", "--login-path", "/api/v2/login", *extra]
    for name, value in options.items():
        argv += [name, value]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_wrong_password_names_profile(vulnerable: str, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["scan", "--target", vulnerable, "--openapi", str(OPENAPI), "--quiet",
                   "--login-path", "/api/v2/login", "--user", "alice:wrong"])
    assert status == 2
    assert "profile 'alice': login to /api/v2/login returned 200 without a token" in (
        capsys.readouterr().err)


def test_unknown_check_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["scan", "--target", "http://127.0.0.1:1", "--openapi", "x", "--checks", "nope"])
    assert exit_info.value.code == 2
    assert "unknown check(s) nope" in " ".join(capsys.readouterr().err.split())


def test_invalid_header_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["scan", "--target", "http://127.0.0.1:1", "--openapi", "x", "--header", "NoColon"])
    assert "invalid header 'NoColon'" in " ".join(capsys.readouterr().err.split())


def test_json_to_standard_output(vulnerable: str, capsys: pytest.CaptureFixture[str]) -> None:
    _scan(vulnerable, "--checks", "misconfiguration", "--json", "-")
    report = json.loads(capsys.readouterr().out)
    assert report["checks"] == ["misconfiguration"]


@pytest.mark.parametrize(("extra", "message"), [
    (["--block-routes"], "--block-routes needs --store-events TENANT and --service"),
    (["--block-routes", "--store-events", "acme"], "needs --store-events TENANT and --service"),
    (["--block-seconds", "0"], "--block-seconds must be between 1 and"),
])
def test_block_options_checked_before_scan(extra: list[str], message: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    # The target does not listen: the options are rejected before any request.
    argv = ["scan", "--quiet", "--target", "http://127.0.0.1:1", "--openapi", "x", *extra]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
