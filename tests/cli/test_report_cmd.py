from __future__ import annotations

import json
from pathlib import Path

import pytest

from stockade.cli.main import main
from stockade.config.models import Tenant
from stockade.events.model import Action, SecurityEvent, Severity
from stockade.store import tenancy
from stockade.store.events import insert_events
from stockade.store.scope import Store
from stockade.store.testing import migrated_engine


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'report.db'}"
    engine = migrated_engine(url)
    with Store(engine).session(None, "test") as scope:
        tenancy.put_tenant(scope, Tenant(id="acme"))
        insert_events(scope, [SecurityEvent(
            tenant="acme", layer="waf", kind="xss", severity=Severity.HIGH,
            action=Action.BLOCKED, message="<script> in ARGS:q", client_ip="198.51.100.4",
            time=1_764_000_000.0)])
    engine.dispose()
    return url


def test_report_json(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--store", store_url, "--tenant", "acme", "--since", "2025-11-01",
                 "--until", "2025-12-31"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["blocked"] == 1
    assert report["top_sources"] == [{"client_ip": "198.51.100.4", "events": 1, "blocked": 1}]


def test_report_html_escapes(store_url: str, tmp_path: Path) -> None:
    output = tmp_path / "report.html"
    assert main(["report", "--store", store_url, "--tenant", "acme", "--since", "2025-11-01",
                 "--until", "2025-12-31", "--format", "html", "-o", str(output)]) == 0
    page = output.read_text()
    assert "<td>xss</td>" in page
    assert "<script>" not in page


def test_report_unknown_tenant(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--store", store_url, "--tenant", "nosuch"]) == 1
    assert "tenant 'nosuch' not found" in capsys.readouterr().err


def test_report_bad_time(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["report", "--store", store_url, "--tenant", "acme", "--since", "yesterday"])
    assert "invalid time 'yesterday'" in capsys.readouterr().err
