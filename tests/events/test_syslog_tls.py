from __future__ import annotations

import asyncio
import ipaddress
import json
import ssl
from pathlib import Path

from cryptography import x509

from stockade.config.models import GatewayConfig
from stockade.events.model import Action, SecurityEvent, Severity
from stockade.events.pipeline import create_event_pipeline
from tests.auth.certs import issue, make_ca


async def test_syslog_over_tls(tmp_path: Path) -> None:
    ca = make_ca("Test syslog CA")
    server_cert = issue(ca, "syslog.test", client=False,
                        sans=[x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    cert_file, key_file = server_cert.write(tmp_path, "syslog")
    ca_file, _ = ca.write(tmp_path, "ca")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_file, key_file)
    messages: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                length = await reader.readuntil(b" ")
                messages.append(await reader.readexactly(int(length[:-1])))
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_context)
    port = server.sockets[0].getsockname()[1]
    config = GatewayConfig.model_validate({"events": {
        "spool_dir": str(tmp_path / "spool"),
        "sinks": [{"name": "siem", "type": "syslog", "transport": "tls",
                   "address": f"127.0.0.1:{port}", "ca_file": ca_file}]}})
    pipeline = create_event_pipeline(config)
    await pipeline.start()
    event = SecurityEvent(tenant="acme", layer="auth", kind="bad-key", severity=Severity.MEDIUM,
                          action=Action.BLOCKED, message="unknown API key")
    pipeline.submit(event)
    assert await pipeline.flush(10)
    await pipeline.close(5)
    server.close()
    await server.wait_closed()
    assert len(messages) == 1
    assert f"externalId={event.id}" in messages[0].decode()


async def test_syslog_tls_rejects_unknown_ca(tmp_path: Path) -> None:
    trusted = make_ca("Trusted CA")
    other = make_ca("Other CA")
    server_cert = issue(other, "syslog.test", client=False,
                        sans=[x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    cert_file, key_file = server_cert.write(tmp_path, "syslog")
    ca_file, _ = trusted.write(tmp_path, "ca")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_file, key_file)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_context)
    port = server.sockets[0].getsockname()[1]
    config = GatewayConfig.model_validate({"events": {
        "spool_dir": str(tmp_path / "spool"),
        "sinks": [{"name": "siem", "type": "syslog", "transport": "tls",
                   "retry_initial_seconds": 0.02, "address": f"127.0.0.1:{port}",
                   "ca_file": ca_file}]}})
    pipeline = create_event_pipeline(config)
    await pipeline.start()
    pipeline.submit(SecurityEvent(tenant="acme", layer="auth", kind="k", severity=Severity.LOW,
                                  action=Action.BLOCKED, message="m"))
    async with asyncio.timeout(10):
        while pipeline.stats()["siem"].failed_attempts < 1:
            await asyncio.sleep(0.01)
    await pipeline.close(0.1)
    server.close()
    await server.wait_closed()
    assert pipeline.stats()["siem"].delivered == 0
    spooled = (tmp_path / "spool" / "siem").glob("slot-*/*.jsonl")
    assert any(json.loads(line)["kind"] == "k" for path in spooled
               for line in path.read_text().splitlines())


