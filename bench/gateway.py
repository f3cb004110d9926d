"""Plain reverse proxy benchmark: nginx and Stockade in front of the same nginx upstream.

Usage: .venv/bin/python bench/gateway.py [--seconds 10] [--rounds 3] [--connections 50]
                                        [--tls-upstream] [--no-bare-relay]

Both proxies run one worker with keep-alive on both sides and write an access
log. The upstream is nginx returning a small JSON body; with --tls-upstream
it speaks TLS (a CA and certificate made for the run) and both proxies verify
it. "nginx-plain" is nginx with a bare proxy_pass, which opens a new upstream
connection per request. "bare-relay" is bench/bare_relay.py, a minimal proxy on
uvloop and httptools with upstream keep-alive and no logging or routing, which
shows what the event loop and the parser cost without Stockade. It speaks plain
HTTP only, so it does not run with --tls-upstream. Rounds alternate between the
proxies, and the table shows medians. The ratios compare Stockade's throughput
with each nginx's, and the bare relay's with each nginx's and with Stockade's.
"""

from __future__ import annotations

import argparse
import datetime
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    WrkResult,
    free_port,
    machine_line,
    median_result,
    nginx,
    stockade,
    stockade_build,
    wait_for_port,
    wrk,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

UPSTREAM_BODY = '{"id":42,"name":"widget","price":9.5,"tags":["a","b"]}'
UPSTREAM_NAME = "backend.bench.test"
BARE_RELAY = Path(__file__).resolve().parent / "bare_relay.py"


def make_certificates(folder: Path) -> dict[str, str]:
    """Write a CA and a certificate for UPSTREAM_NAME signed by it; return their paths."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, UPSTREAM_NAME)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(UPSTREAM_NAME)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = {"ca": folder / "ca.crt", "cert": folder / "backend.crt", "key": folder / "backend.key"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return {name: str(path) for name, path in paths.items()}


def upstream_block(port: int, certs: dict[str, str] | None) -> str:
    tls = ""
    if certs:
        tls = f"ssl_certificate {certs['cert']}; ssl_certificate_key {certs['key']};"
    return f"""
    server {{
        listen 127.0.0.1:{port}{" ssl" if certs else ""};
        {tls}
        keepalive_requests 1000000;
        location / {{
            default_type application/json;
            return 200 '{UPSTREAM_BODY}';
        }}
    }}"""


def proxy_block(
    port: int, plain_port: int, upstream_port: int, log_dir: str, certs: dict[str, str] | None
) -> str:
    scheme = "https" if certs else "http"
    tls = ""
    if certs:
        tls = (
            f"proxy_ssl_verify on; proxy_ssl_trusted_certificate {certs['ca']}; "
            f"proxy_ssl_name {UPSTREAM_NAME}; proxy_ssl_server_name on; "
            "proxy_ssl_session_reuse on;"
        )
    return f"""
    upstream backend {{ server 127.0.0.1:{upstream_port}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port};
        access_log {log_dir}/access.log combined buffer=64k flush=1s;
        location / {{
            proxy_pass {scheme}://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            {tls}
        }}
    }}
    server {{
        listen 127.0.0.1:{plain_port};
        access_log {log_dir}/access-plain.log combined buffer=64k flush=1s;
        location / {{
            proxy_pass {scheme}://127.0.0.1:{upstream_port};
            {tls}
        }}
    }}"""


def stockade_config(upstream_port: int, certs: dict[str, str] | None) -> dict[str, object]:
    upstream: dict[str, object] = {"targets": [f"127.0.0.1:{upstream_port}"]}
    if certs:
        upstream["tls"] = {"ca_file": certs["ca"], "server_name": UPSTREAM_NAME}
    return {
        "tenants": [
            {
                "id": "bench",
                "services": [
                    {
                        "id": "api",
                        "hosts": ["127.0.0.1", "localhost"],
                        "upstream": upstream,
                        "routes": [{"id": "item", "methods": ["GET"], "path": "/items/{itemId}"}],
                    }
                ],
            }
        ],
    }


@contextmanager
def bare_relay(port: int, upstream_port: int, *, enabled: bool = True) -> Iterator[None]:
    """Run bench/bare_relay.py on ``port`` in front of the upstream; do nothing if disabled."""
    if not enabled:
        yield
        return
    process = subprocess.Popen(
        [sys.executable, str(BARE_RELAY), str(port), f"127.0.0.1:{upstream_port}"]
    )
    try:
        wait_for_port(port)
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def run(
    seconds: int, rounds: int, connections: int, tls: bool, with_bare_relay: bool
) -> dict[str, WrkResult]:
    upstream_port, nginx_port, plain_port, stockade_port, relay_port = (
        free_port() for _ in range(5)
    )
    folder = Path(tempfile.mkdtemp(prefix="stockade-bench-certs-"))
    certs = make_certificates(folder) if tls else None
    with nginx(upstream_block(upstream_port, certs)):
        wait_for_port(upstream_port)
        with (
            nginx(proxy_block(nginx_port, plain_port, upstream_port, str(folder), certs)),
            stockade(stockade_config(upstream_port, certs), stockade_port),
            bare_relay(relay_port, upstream_port, enabled=with_bare_relay),
        ):
            wait_for_port(nginx_port)
            ports = {"nginx": nginx_port, "nginx-plain": plain_port, "stockade": stockade_port}
            if with_bare_relay:
                ports["bare-relay"] = relay_port
            results: dict[str, list[WrkResult]] = {name: [] for name in ports}
            for port in ports.values():  # warm-up: connections, caches, TLS sessions
                wrk(f"http://127.0.0.1:{port}/items/1", seconds=2, connections=connections)
            for _ in range(rounds):
                for name, port in ports.items():
                    results[name].append(
                        wrk(
                            f"http://127.0.0.1:{port}/items/42",
                            seconds=seconds,
                            connections=connections,
                        )
                    )
    return {name: median_result(values) for name, values in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="Duration of each wrk run.")
    parser.add_argument("--rounds", type=int, default=3, help="Alternating rounds per proxy.")
    parser.add_argument("--connections", type=int, default=50, help="Concurrent wrk connections.")
    parser.add_argument("--tls-upstream", action="store_true", help="Speak verified TLS upstream.")
    parser.add_argument(
        "--no-bare-relay",
        action="store_true",
        help="Leave out bench/bare_relay.py (always left out with --tls-upstream).",
    )
    args = parser.parse_args()
    with_bare_relay = not args.no_bare_relay and not args.tls_upstream
    medians = run(args.seconds, args.rounds, args.connections, args.tls_upstream, with_bare_relay)
    upstream = "TLS upstream" if args.tls_upstream else "plain upstream"
    print(
        f"machine: {machine_line()}; {stockade_build()}; {upstream}; "
        f"{args.rounds} rounds of {args.seconds}s, {args.connections} connections, medians"
    )
    print(f"{'proxy':<12} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, result in medians.items():
        print(
            f"{name:<12} {result.requests_per_second:>10.0f} {result.p50_ms:>8.2f} "
            f"{result.p99_ms:>8.2f} {result.errors:>7}"
        )
    ours = medians["stockade"].requests_per_second
    keep_alive = ours / medians["nginx"].requests_per_second
    print(f"ratio stockade/nginx (keep-alive upstream): {keep_alive:.2f}")
    print(
        f"ratio stockade/nginx-plain (bare proxy_pass): "
        f"{ours / medians['nginx-plain'].requests_per_second:.2f}"
    )
    if "bare-relay" in medians:
        relay = medians["bare-relay"].requests_per_second
        print(
            f"ratio bare-relay/nginx (keep-alive upstream): "
            f"{relay / medians['nginx'].requests_per_second:.2f}"
        )
        print(
            f"ratio bare-relay/nginx-plain (bare proxy_pass): "
            f"{relay / medians['nginx-plain'].requests_per_second:.2f}"
        )
        print(f"ratio stockade/bare-relay: {ours / relay:.2f}")


if __name__ == "__main__":
    main()
