"""The config follower, and a change through the admin API reaching two gateways."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from stockade.config.models import GatewayConfig
from stockade.store import tenancy
from stockade.store.config_sync import import_config
from stockade.store.follow import ConfigFollower, merge_config
from stockade.store.operators import Role, create_operator
from stockade.store.scope import Store
from stockade.store.testing import (
    PostgresUnavailable,
    migrated_engine,
    sqlite_url,
    temporary_postgres_url,
)
from tests.admin.conftest import start_server, stop_server
from tests.support.client import request
from tests.support.gateway import GatewayProcess, service_config
from tests.support.upstream import TestUpstream as Upstream

BASE = {"listeners": [{"name": "public", "address": "127.0.0.1:18080"}], "workers": 1,
        "events": {"sinks": [{"name": "pager", "type": "jsonl", "path": "/tmp/x.jsonl"}]}}


def _store_config(upstream: str = "127.0.0.1:9000") -> GatewayConfig:
    data = service_config([upstream])
    data["policy"] = {"mode": "detect"}
    data["events"] = {"sinks": [{"name": "pager", "type": "jsonl", "path": "/elsewhere"}],
                      "alert_rules": [{"id": "r", "tenant": "acme", "threshold": 1,
                                       "window_minutes": 1, "sink": "pager"}]}
    return GatewayConfig.model_validate(data)


def test_merge_keeps_node_sections() -> None:
    merged = merge_config(BASE, _store_config())
    assert merged["listeners"] == BASE["listeners"]
    assert merged["events"]["sinks"] == BASE["events"]["sinks"]
    assert merged["events"]["alert_rules"][0]["id"] == "r"
    assert merged["tenants"][0]["id"] == "acme"
    assert merged["policy"] == {"mode": "detect"}


def test_merge_rejects_rule_without_local_sink() -> None:
    with pytest.raises(ValueError, match="pager"):
        merge_config({"workers": 1}, _store_config())


def test_sqlite_follower_polls_version(tmp_path: Path) -> None:
    engine = migrated_engine(sqlite_url(tmp_path))
    store = Store(engine)
    with store.session(None, "setup") as scope:
        import_config(scope, _store_config())
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump(BASE))
    output = tmp_path / "stockade.yaml"
    follower = ConfigFollower(sqlite_url(tmp_path), base, output, poll_seconds=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=follower.run, args=(stop,), daemon=True)
    thread.start()
    try:
        _wait(lambda: output.exists())
        assert not follower.sync()  # nothing changed since the first write
        with store.session(None, "op") as scope:
            tenancy.put_tenant(scope, GatewayConfig.model_validate(
                {"tenants": [{"id": "globex"}]}).tenants[0])
        _wait(lambda: "globex" in output.read_text())
        written = GatewayConfig.model_validate(yaml.safe_load(output.read_text()))
        assert [tenant.id for tenant in written.tenants] == ["acme", "globex"]
        assert written.listeners[0].address == "127.0.0.1:18080"
    finally:
        stop.set()
        thread.join(5)
        follower.close()
        engine.dispose()


def _wait(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition still false after waiting")
        time.sleep(0.05)


def _status(port: int, host: str) -> int:
    raw = f"GET /echo HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
    return request(port, raw).status


@pytest.mark.postgres
def test_api_change_reaches_two_gateways(tmp_path: Path) -> None:
    try:
        database = temporary_postgres_url()
        url = database.__enter__()
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    upstream = Upstream().start()
    engine = migrated_engine(url)
    store = Store(engine)
    gateways: list[GatewayProcess] = []
    followers: list[subprocess.Popen[bytes]] = []
    server = thread = None
    try:
        with store.session(None, "setup") as scope:
            import_config(scope, GatewayConfig.model_validate(service_config([upstream.address])))
            _, token = create_operator(scope, "root", Role.MSSP_ADMIN)
        for node in ("node1", "node2"):
            directory = tmp_path / node
            directory.mkdir()
            gateway = GatewayProcess(service_config([upstream.address]), directory)
            base = {key: value for key, value in gateway.config.items() if key != "tenants"}
            (directory / "base.yaml").write_text(yaml.safe_dump(base))
            # A long poll interval: the change has to arrive through LISTEN/NOTIFY.
            followers.append(subprocess.Popen(
                [sys.executable, "-m", "stockade.cli", "admin", "follow", "--store", url,
                 "--base", str(directory / "base.yaml"), "--output", str(gateway.config_path),
                 "--poll-seconds", "600"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            gateways.append(gateway.start())
        pids = [gateway.process.pid for gateway in gateways if gateway.process]
        for gateway in gateways:
            assert _status(gateway.port, "api.test") == 200
            assert _status(gateway.port, "new.test") == 404

        server, thread, port = start_server(store)
        service = {"id": "new", "hosts": ["new.test"], "upstream": {"targets": [upstream.address]}}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}",
                          headers={"Authorization": f"Bearer {token}"}) as client:
            assert client.put("/v1/tenants/acme/services/new", json=service).status_code == 201

        for gateway in gateways:
            _wait(lambda gateway=gateway: _status(gateway.port, "new.test") == 200)
        assert [gateway.process.pid for gateway in gateways if gateway.process] == pids
        for gateway in gateways:
            assert gateway.process is not None
            assert gateway.process.poll() is None
    finally:
        if server is not None and thread is not None:
            stop_server(server, thread)
        for follower in followers:
            follower.terminate()
            follower.wait(10)
        for gateway in gateways:
            gateway.stop()
        upstream.stop()
        engine.dispose()
        database.__exit__(None, None, None)


def test_follower_survives_database_loss(tmp_path: Path,
                                        caplog: pytest.LogCaptureFixture) -> None:
    engine = migrated_engine(sqlite_url(tmp_path))
    with Store(engine).session(None, "setup") as scope:
        import_config(scope, _store_config())
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump(BASE))
    output = tmp_path / "stockade.yaml"
    follower = ConfigFollower(sqlite_url(tmp_path), base, output, poll_seconds=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=follower.run, args=(stop,), daemon=True)
    thread.start()
    try:
        _wait(lambda: output.exists())
        with engine.begin() as connection:  # every version read now fails
            connection.exec_driver_sql("ALTER TABLE config_version RENAME TO hidden")
        _wait(lambda: "config follower lost the database" in caplog.text)
        assert thread.is_alive()
        assert "config follower lost the database" in caplog.text
        assert "acme" in output.read_text()  # the node keeps its last good config
    finally:
        stop.set()
        thread.join(5)
        follower.close()
        engine.dispose()
