"""Auth profiles: files, command-line shorthand and the sessions they yield."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from stockade.scanner.auth import (
    AuthError,
    authenticate,
    fill_template,
    json_pointer,
    load_profiles,
    login_profile,
)
from stockade.scanner.client import ScanClient, Target

PROFILES = """
profiles:
  - {name: ci, type: bearer, token: tok-123456}
  - {name: partner, type: api_key, key_name: X-Api-Key, value: key-abcdef}
  - {name: query, type: api_key, key_name: api_key, key_in: query, value: key-qqqqqq}
  - {name: ops, role: admin, type: basic, username: ops, password: ops-pass}
"""


def test_load_profiles_and_sessions(tmp_path: Path) -> None:
    file = tmp_path / "auth.yaml"
    file.write_text(PROFILES)
    profiles = load_profiles(file)
    assert [profile.name for profile in profiles] == ["ci", "partner", "query", "ops"]


async def test_sessions_for_each_type(tmp_path: Path) -> None:
    file = tmp_path / "auth.yaml"
    file.write_text(PROFILES)
    client = ScanClient(Target.parse("http://127.0.0.1:1"))
    try:
        sessions = [await authenticate(client, profile) for profile in load_profiles(file)]
    finally:
        await client.close()
    bearer, header_key, query_key, basic = sessions
    assert bearer.headers == {"Authorization": "Bearer tok-123456"}
    assert bearer.token == "tok-123456"
    assert header_key.headers == {"X-Api-Key": "key-abcdef"}
    assert query_key.params == [("api_key", "key-qqqqqq")]
    assert basic.role == "admin"
    assert basic.headers["Authorization"] == "Basic " + base64.b64encode(b"ops:ops-pass").decode()
    assert "ops-pass" in basic.secrets


@pytest.mark.parametrize(("text", "message"), [
    ("- {name: a, type: bearer}", "needs token"),
    ("- {name: a, type: magic}", "type"),
    ("- {name: a, type: bearer, token: t, colour: red}", "colour"),
    ("just text", "expected a list"),
])
def test_load_profiles_rejects(tmp_path: Path, text: str, message: str) -> None:
    file = tmp_path / "auth.yaml"
    file.write_text(text)
    with pytest.raises(AuthError, match=message):
        load_profiles(file)


def test_login_profile_from_command_line() -> None:
    profile = login_profile("alice:pa:ss", "user", "/login")
    assert (profile.username, profile.password) == ("alice", "pa:ss")
    with pytest.raises(AuthError, match="USERNAME:PASSWORD"):
        login_profile("alice", "user", "/login")


def test_fill_template_and_pointer() -> None:
    body = fill_template({"auth": {"user": "{username}", "secret": "{password}"}}, "al", "pw")
    assert body == {"auth": {"user": "al", "secret": "pw"}}
    assert json_pointer({"data": [{"token": "t"}]}, "/data/0/token") == "t"
    assert json_pointer({"data": []}, "/data/0/token") is None
