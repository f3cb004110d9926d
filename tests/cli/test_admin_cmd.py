from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from stockade.cli.main import main
from stockade.store.operators import authenticate
from stockade.store.scope import Store
from stockade.store.testing import migrated_engine

CONFIG = {
    "tenants": [{"id": "acme", "name": "Acme",
                 "services": [{"id": "orders", "hosts": ["api.acme.test"],
                               "upstream": {"targets": ["127.0.0.1:9000"]}}]}],
}


def _store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'admin.db'}"


def test_create_operator_prints_token_once(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    url = _store_url(tmp_path)
    assert main(["admin", "create-operator", "--store", url, "--id", "root",
                 "--role", "mssp-admin"]) == 0
    captured = capsys.readouterr()
    token = captured.out.strip()
    assert token.startswith("stk_")
    assert token not in captured.err
    engine = migrated_engine(url)
    with Store(engine).session(None, "test") as scope:
        assert authenticate(scope, token).operator_id == "root"
    engine.dispose()
    assert main(["admin", "create-operator", "--store", url, "--id", "root",
                 "--role", "mssp-admin"]) == 1
    assert "already exists" in capsys.readouterr().err


def test_create_tenant_operator_needs_tenant(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["admin", "create-operator", "--store", _store_url(tmp_path), "--id", "ann",
                 "--role", "tenant-admin"]) == 1
    assert "needs a tenant" in capsys.readouterr().err


def test_import_then_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "stockade.yaml"
    source.write_text(yaml.safe_dump({**CONFIG, "store": {"url": _store_url(tmp_path)}}))
    assert main(["admin", "import", str(source)]) == 0
    capsys.readouterr()
    output = tmp_path / "exported.yaml"
    assert main(["admin", "export", "-c", str(source), "-o", str(output)]) == 0
    exported = yaml.safe_load(output.read_text())
    assert exported["tenants"] == CONFIG["tenants"]


def test_import_invalid_file_names_problem(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "bad.yaml"
    source.write_text(yaml.safe_dump({"tenants": [{"id": "Bad Id"}]}))
    with pytest.raises(SystemExit) as exit_info:
        main(["admin", "import", str(source), "--store", _store_url(tmp_path)])
    assert exit_info.value.code == 1
    error = capsys.readouterr().err
    assert "bad.yaml:2: tenants[0].id" in error
    assert "'Bad Id'" in error


def test_follow_rejects_bad_poll(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["admin", "follow", "--store", _store_url(tmp_path), "--base", "b.yaml",
                 "--output", "o.yaml", "--poll-seconds", "0"]) == 2
    assert "--poll-seconds" in capsys.readouterr().err


def test_purge_old_events(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import time

    from stockade.config.models import Tenant
    from stockade.events.model import Action, SecurityEvent, Severity
    from stockade.store import tenancy
    from stockade.store.events import EventFilter, count_events, insert_events

    url = _store_url(tmp_path)
    engine = migrated_engine(url)
    store = Store(engine)
    with store.session(None, "test") as scope:
        tenancy.put_tenant(scope, Tenant(id="acme"))
        insert_events(scope, [
            SecurityEvent(tenant="acme", layer="waf", kind="sqli", severity=Severity.HIGH,
                          action=Action.BLOCKED, message="old", time=time.time() - 40 * 86400),
            SecurityEvent(tenant="acme", layer="waf", kind="sqli", severity=Severity.HIGH,
                          action=Action.BLOCKED, message="new"),
        ])
    assert main(["admin", "purge", "--store", url, "--events-older-than-days", "30"]) == 0
    assert "deleted 1 security events" in capsys.readouterr().err
    with store.session(None, "test") as scope:
        assert count_events(scope, EventFilter()) == 1
    engine.dispose()
    assert main(["admin", "purge", "--store", url, "--events-older-than-days", "-1"]) == 2


def test_unreachable_store_named(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://postgres@127.0.0.1:1/nothing"
    assert main(["admin", "create-operator", "--store", url, "--id", "root",
                 "--role", "mssp-admin"]) == 1
    error = capsys.readouterr().err
    assert "cannot open the store at postgresql+psycopg://postgres@127.0.0.1:1/nothing" in error


def test_serve_missing_tls_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["admin", "serve", "--store", _store_url(tmp_path), "--tls-cert",
                 str(tmp_path / "missing.crt"), "--tls-key", str(tmp_path / "missing.key")]) == 1
    assert "missing.crt' not found" in capsys.readouterr().err
