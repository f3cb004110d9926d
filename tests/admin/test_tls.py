from __future__ import annotations

import ipaddress
import ssl
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from stockade.store.scope import Store
from stockade.store.testing import migrated_engine, sqlite_url
from tests.admin.conftest import start_server, stop_server
from tests.auth.certs import issue, make_ca


def test_admin_api_over_tls(tmp_path: Path) -> None:
    ca = make_ca("Test admin CA")
    server_cert = issue(ca, "admin.test", client=False,
                        sans=[x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    cert_file, key_file = server_cert.write(tmp_path, "admin")
    ca_file, _ = ca.write(tmp_path, "ca")
    engine = migrated_engine(sqlite_url(tmp_path))
    server, thread, port = start_server(Store(engine), ssl_certfile=cert_file,
                                        ssl_keyfile=key_file)
    try:
        context = ssl.create_default_context(cafile=ca_file)
        with httpx.Client(verify=context) as client:
            assert client.get(f"https://127.0.0.1:{port}/healthz").json() == {"status": "ok"}
        with httpx.Client() as client, pytest.raises(httpx.HTTPError):
            client.get(f"http://127.0.0.1:{port}/healthz")
    finally:
        stop_server(server, thread)
        engine.dispose()
