from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate

from stockade.cli.main import main
from stockade.protection.discovery.storage import InventoryStore
from tests.protection.discovery.openapi_fixture import declared_document, write_document
from tests.protection.discovery.traffic import generate


def write_access_log(path: Path, count: int = 600, service: str = "shop") -> None:
    lines = []
    for index, (method, target, _) in enumerate(generate(count)):
        lines.append(
            json.dumps(
                {
                    "time": 1_700_000_000 + index,
                    "request_id": f"r{index}",
                    "tenant": "acme",
                    "service": service,
                    "method": method,
                    "host": "shop.test",
                    "path": target,
                    "status": 200,
                    "duration_ms": 1.0,
                    "verdicts": [],
                }
            )
        )
    path.write_text("\n".join(lines) + "\n")


def write_har(path: Path, urls: list[str]) -> None:
    entries = [
        {
            "startedDateTime": "2024-05-01T12:00:00Z",
            "request": {"method": "GET", "url": url, "headers": []},
            "response": {"status": 200, "headers": [], "content": {"mimeType": "application/json"}},
        }
        for url in urls
    ]
    path.write_text(json.dumps({"log": {"entries": entries}}, indent=1))


def test_discover_writes_valid_openapi(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "access.log"
    write_access_log(log)
    output = tmp_path / "openapi.yaml"
    assert main(["discover", str(log), "-o", str(output), "--no-progress"]) == 0
    document = yaml.safe_load(output.read_text())
    validate(document)
    assert "/api/v1/users/{userId}/orders/{orderId}" in document["paths"]
    assert "600 requests read" in capsys.readouterr().err


def test_discover_json_output_to_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    har = tmp_path / "a.har"
    write_har(har, ["https://shop.test/items/1", "https://shop.test/items/2"])
    assert main(["discover", str(har), "-o", "-", "--no-progress"]) == 0
    document = yaml.safe_load(capsys.readouterr().out)
    assert list(document["paths"]) == ["/items/{itemId}"]


def test_discover_truncated_file_reports_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    har = tmp_path / "cut.har"
    write_har(har, [f"https://shop.test/items/{index}" for index in range(4)])
    text = har.read_text()
    har.write_text(text[: text.index("items/3")])
    output = tmp_path / "out.json"
    assert main(["discover", str(har), "-o", str(output), "--no-progress"]) == 1
    errors = capsys.readouterr().err
    assert f"{har}:" in errors
    assert "(byte " in errors
    assert "entry 3 is truncated or invalid" in errors
    document = json.loads(output.read_text())
    assert document["paths"]["/items/{itemId}"]["get"]["x-stockade-hits"] == 3


def test_discover_diff_against_declared(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    har = tmp_path / "a.har"
    write_har(
        har,
        [
            "https://shop.test/api/v2/users?page=1&debug=1",
            "https://shop.test/api/v2/hidden",
            "https://shop.test/api/v2/exports",
            "https://shop.test/api/v1/users/3",
        ],
    )
    declared = write_document(tmp_path, declared_document())
    diff = tmp_path / "diff.json"
    assert (
        main(
            [
                "discover",
                str(har),
                "--declared",
                str(declared),
                "--diff",
                str(diff),
                "--no-progress",
            ]
        )
        == 0
    )
    found = {(item["kind"], item["path"], item["detail"]) for item in json.loads(diff.read_text())}
    assert ("shadow", "/api/v2/hidden", "") in found
    assert ("zombie", "/api/v2/exports", "deprecated") in found
    assert ("zombie", "/api/v1/users/{userId}", "superseded by /api/v2/users/{id}") in found
    assert ("drift", "/api/v2/users", "query parameter 'debug'") in found
    assert main(["discover", str(har), "--declared", str(declared), "--no-progress"]) == 0
    table = capsys.readouterr().out
    assert "shadow" in table
    assert "/api/v2/hidden" in table


def test_discover_several_services_needs_choice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    har = tmp_path / "a.har"
    write_har(har, ["https://one.test/a", "https://two.test/b"])
    output = tmp_path / "o.yaml"
    assert main(["discover", str(har), "-o", str(output), "--no-progress"]) == 1
    assert "choose one with --service" in capsys.readouterr().err
    assert main(["discover", str(har), "-o", str(output), "--service", "x", "--no-progress"]) == 0
    assert set(yaml.safe_load(output.read_text())["paths"]) == {"/a", "/b"}


def test_discover_extends_database(tmp_path: Path) -> None:
    database = tmp_path / "inventory.sqlite3"
    first, second = tmp_path / "one.log", tmp_path / "two.log"
    write_access_log(first, 100)
    write_access_log(second, 50)
    output = tmp_path / "o.yaml"
    for log in (first, second):
        assert (
            main(
                [
                    "discover",
                    str(log),
                    "-o",
                    str(output),
                    "--database",
                    str(database),
                    "--no-progress",
                ]
            )
            == 0
        )
    stored = InventoryStore(str(database)).load("acme", "shop")
    assert stored is not None
    assert stored.hits == 150


def test_discover_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["discover", str(tmp_path / "none.har"), "-o", "x.yaml"]) == 1
    assert "file not found" in capsys.readouterr().err
    empty = tmp_path / "empty.log"
    empty.write_text("")
    assert main(["discover", str(empty)]) == 2
    assert main(["discover", str(empty), "-o", str(tmp_path / "o.yaml")]) == 1
    assert "no valid request" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: 2")
    assert main(["discover", str(empty), "--declared", str(bad)]) == 1
    assert "not an OpenAPI 3.0 or 3.1 document" in capsys.readouterr().err


def test_discover_previous_document_zombies(tmp_path: Path) -> None:
    har = tmp_path / "a.har"
    write_har(har, ["https://shop.test/api/v2/legacy", "https://shop.test/api/v2/users"])
    previous = write_document(tmp_path, declared_document("1.0.0", with_legacy=True), "old.yaml")
    declared = write_document(tmp_path, declared_document("2.0.0"), "new.yaml")
    diff = tmp_path / "diff.json"
    assert (
        main(
            [
                "discover",
                str(har),
                "--declared",
                str(declared),
                "--previous",
                str(previous),
                "--diff",
                str(diff),
                "--no-progress",
            ]
        )
        == 0
    )
    found = {(item["kind"], item["path"], item["detail"]) for item in json.loads(diff.read_text())}
    assert ("zombie", "/api/v2/legacy", "removed after version 1.0.0") in found
    assert not any(kind == "shadow" for kind, _, _ in found)
    assert main(["discover", str(har), "--previous", str(previous)]) == 2


def test_discover_exports_stored_inventory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "inventory.sqlite3"
    log = tmp_path / "access.log"
    write_access_log(log, 200)
    assert (
        main(
            [
                "discover",
                str(log),
                "-o",
                str(tmp_path / "a.yaml"),
                "--database",
                str(database),
                "--no-progress",
            ]
        )
        == 0
    )
    output = tmp_path / "stored.json"
    stored = ["discover", "--database", str(database), "--tenant", "acme", "-o", str(output)]
    assert main([*stored, "--service", "shop"]) == 0
    document = json.loads(output.read_text())
    validate(document)
    assert "/api/v1/users/{userId}" in document["paths"]
    assert main([*stored, "--service", "other"]) == 1
    assert "has no inventory of acme/other" in capsys.readouterr().err
    assert main(["discover", "-o", str(output)]) == 2
