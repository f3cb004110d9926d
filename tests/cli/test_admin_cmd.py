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
