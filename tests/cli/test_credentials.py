from __future__ import annotations

import io
import re

import pytest
import yaml

from stockade.auth.consumers import ConsumerConfig
from stockade.auth.hashing import PasswordHash, hash_api_key
from stockade.cli.main import main


def test_new_api_key_prints_key_and_entry(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["credentials", "new-api-key", "--id", "mobile", "--expires", "2030-01-01T00:00:00Z"])
        == 0
    )
    output = capsys.readouterr()
    key = re.search(r"shown once, give it to the consumer\): (\S+)", output.err)
    assert key is not None
    entry = yaml.safe_load(output.out)
    consumer = ConsumerConfig.model_validate({"id": "app", **entry})
    assert consumer.api_keys[0].id == "mobile"
    assert consumer.api_keys[0].hash == hash_api_key(key.group(1))
    assert key.group(1) not in output.out


def test_new_api_key_rejects_naive_expiry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["credentials", "new-api-key", "--expires", "2030-01-01"]) == 2
    assert "time zone" in capsys.readouterr().err


def test_hash_api_key_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("legacy-key-123\n"))
    assert main(["credentials", "hash-api-key"]) == 0
    assert hash_api_key("legacy-key-123") in capsys.readouterr().out


def test_hash_password_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["credentials", "hash-password", "--username", "alice"]) == 0
    entry = yaml.safe_load(capsys.readouterr().out)
    assert entry["basic"]["username"] == "alice"
    assert PasswordHash(entry["basic"]["password_hash"]).verify(b"a long enough password")


def test_short_password_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["credentials", "hash-password", "--username", "alice"]) == 1
    assert "use at least 12" in capsys.readouterr().err
