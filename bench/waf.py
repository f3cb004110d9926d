"""WAF benchmark: nginx + ModSecurity v3 + CRS against Stockade + CRS, same rules.

Usage: .venv/bin/python bench/waf.py [--seconds 10] [--rounds 3] [--connections 20]

Both WAFs load the Core Rule Set that Debian's modsecurity-crs package
installs (/usr/share/modsecurity-crs), at paranoia level 1 in anomaly-scoring
blocking mode, with the CRS defaults (Stockade's API defaults are switched
off so both run the same settings), one worker each, in front of the same
nginx upstream returning a small JSON body. Three workloads are timed. The
first is a plain API GET. The second, "varied GET", is the same GET with a
new item id, query values and request id in every request, so no result of
an earlier request can be reused. The third is a mix of benign GETs, JSON
POSTs and attacks (SQL injection, XSS, command injection). Before timing,
each request of the mix is sent once to both WAFs and their verdicts
(status codes) are compared.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
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

CRS_DIR = Path("/usr/share/modsecurity-crs")
MODSECURITY_MODULE = "/usr/share/nginx/modules/ngx_http_modsecurity_module.so"
UPSTREAM_BODY = '{"id":42,"name":"widget","price":9.5}'

# (name, method, target, JSON body or None)
MIX = [
    ("benign GET", "GET", "/api/items/42?fields=name,price", None),
    ("benign list", "GET", "/api/items?page=2&sort=price&order=asc", None),
    (
        "benign JSON POST",
        "POST",
        "/api/orders",
        {"item": 42, "quantity": 2, "note": "Please leave it at the door, thanks!"},
    ),
    (
        "benign JSON PUT-like POST",
        "POST",
        "/api/profile",
        {"name": "Jane Doe", "email": "jane@example.com", "city": "Lyon"},
    ),
    ("SQL injection", "GET", "/api/items?search=1%27%20OR%20%271%27%3D%271", None),
    ("XSS", "GET", "/api/items?q=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E", None),
    ("command injection", "POST", "/api/orders", {"note": "x; cat /etc/passwd"}),
]

# Settings ModSecurity needs that Stockade's engine sets itself (request body
# access, limits, and the rules that reject unparsable bodies). Debian's
# owasp-crs.load uses IncludeOptional, which libmodsecurity 3 does not parse,
# so its two mandatory Include lines are repeated here.
MODSECURITY_ENGINE = """
SecRuleEngine On
SecRequestBodyAccess On
SecResponseBodyAccess On
SecResponseBodyMimeType text/plain text/html text/xml application/json
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 1048576
SecRequestBodyLimitAction Reject
SecResponseBodyLimit 524288
SecResponseBodyLimitAction ProcessPartial
SecRule REQUEST_HEADERS:Content-Type "@rx (?i)^application/(?:[a-z0-9.+-]+\\+)?json" \\
    "id:190002,phase:1,pass,nolog,t:none,ctl:requestBodyProcessor=JSON"
SecRule REQBODY_ERROR "!@eq 0" \\
    "id:190003,phase:2,deny,status:400,log,t:none,severity:CRITICAL,msg:'Request body error'"
SecAuditEngine Off
SecTmpDir {tmp}
SecDataDir {tmp}
Include /etc/modsecurity/crs/crs-setup.conf
Include /usr/share/modsecurity-crs/rules/*.conf
"""


def upstream_block(port: int) -> str:
    return f"""
    server {{
        listen 127.0.0.1:{port};
        keepalive_requests 1000000;
        location / {{
            default_type application/json;
            return 200 '{UPSTREAM_BODY}';
        }}
    }}"""


def modsecurity_block(port: int, upstream_port: int, rules_file: str) -> str:
    return f"""
    modsecurity on;
    modsecurity_rules_file {rules_file};
    upstream backend {{ server 127.0.0.1:{upstream_port}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port};
        client_body_buffer_size 1m;
        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
        }}
    }}"""


def stockade_config(upstream_port: int) -> dict[str, object]:
    return {
        "access_log": {"enabled": False},
        "tenants": [
            {
                "id": "bench",
                "policy": {
                    "mode": "block",
                    "waf": {"crs_path": str(CRS_DIR), "paranoia_level": 1, "api_defaults": False},
                },
                "services": [
                    {
                        "id": "api",
                        "hosts": ["127.0.0.1", "localhost"],
                        "upstream": {"targets": [f"127.0.0.1:{upstream_port}"]},
                    }
                ],
            }
        ],
    }


def send(port: int, method: str, target: str, body: dict[str, object] | None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {
        "Host": "localhost",
        "User-Agent": "stockade-bench/1.0",
        "Accept": "application/json",
    }
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    connection.request(method, target, body=payload, headers=headers)
    status = connection.getresponse().status
    connection.close()
    return status


def wrk_script(folder: Path, requests: list[tuple[str, str, str, dict[str, object] | None]]) -> str:
    lines = ["local requests = {}", "init = function(args)"]
    for index, (_, method, target, body) in enumerate(requests, start=1):
        headers = (
            '{["Host"]="localhost", ["User-Agent"]="stockade-bench/1.0", '
            '["Accept"]="application/json"'
        )
        payload = "nil"
        if body is not None:
            headers += ', ["Content-Type"]="application/json"'
            payload = json.dumps(json.dumps(body))
        headers += "}"
        lines.append(
            f'  requests[{index}] = wrk.format("{method}", "{target}", {headers}, {payload})'
        )
    lines += [
        "end",
        "local i = 0",
        "request = function()",
        "  i = i % #requests + 1",
        "  return requests[i]",
        "end",
    ]
    path = folder / f"mix-{len(requests)}.lua"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def varied_script(folder: Path) -> str:
    """Write a wrk script whose GETs differ in item id, query values and request id."""
    lines = [
        "local n = 0",
        "request = function()",
        "  n = n + 1",
        '  local path = string.format("/api/items/%d?page=%d&fields=name,price&q=item%d",'
        " n, n % 97, n * 7)",
        '  return wrk.format("GET", path, {["Host"]="localhost", '
        '["User-Agent"]="stockade-bench/1.0", ["Accept"]="application/json", '
        '["X-Request-Id"]=string.format("%08x-%d", n * 2654435761 % 4294967296, n)})',
        "end",
    ]
    path = folder / "varied.lua"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def run(seconds: int, rounds: int, connections: int) -> None:
    if not CRS_DIR.is_dir() or not Path(MODSECURITY_MODULE).exists():
        sys.exit(
            "needs Debian's modsecurity-crs and libnginx-mod-http-modsecurity; "
            "run scripts/system-packages --bench"
        )
    folder = Path(tempfile.mkdtemp(prefix="stockade-bench-waf-"))
    rules_file = folder / "modsecurity.conf"
    rules_file.write_text(MODSECURITY_ENGINE.format(tmp=folder))
    upstream_port, modsec_port, stockade_port = free_port(), free_port(), free_port()
    modules = f"load_module {MODSECURITY_MODULE};"
    workloads = {
        "plain API GET": wrk_script(folder, MIX[:1]),
        "varied GET": varied_script(folder),
        "mix": wrk_script(folder, MIX),
    }
    results: dict[tuple[str, str], list[WrkResult]] = {}
    with nginx(upstream_block(upstream_port)):
        wait_for_port(upstream_port)
        with (
            nginx(modsecurity_block(modsec_port, upstream_port, str(rules_file)), modules=modules),
            stockade(stockade_config(upstream_port), stockade_port),
        ):
            wait_for_port(modsec_port)
            ports = {"nginx+ModSecurity": modsec_port, "stockade": stockade_port}
            print(f"machine: {machine_line()}; {stockade_build()}; CRS at {CRS_DIR}, "
                  "paranoia level 1, blocking")
            print("verdicts (status per request, same rules):")
            agree = True
            for name, method, target, body in MIX:
                statuses = {
                    proxy: send(port, method, target, body) for proxy, port in ports.items()
                }
                same = len(set(statuses.values())) == 1
                agree &= same
                print(
                    f"  {name:<26} "
                    + "  ".join(f"{proxy}={code}" for proxy, code in statuses.items())
                    + ("" if same else "  DIFFERENT")
                )
            print(f"verdicts agree: {'yes' if agree else 'no'}")
            for port in ports.values():  # warm-up
                wrk(
                    f"http://127.0.0.1:{port}/",
                    seconds=2,
                    connections=connections,
                    script=workloads["mix"],
                )
            for _ in range(rounds):
                for workload, script in workloads.items():
                    for proxy, port in ports.items():
                        results.setdefault((workload, proxy), []).append(
                            wrk(
                                f"http://127.0.0.1:{port}/",
                                seconds=seconds,
                                connections=connections,
                                script=script,
                            )
                        )
    print(
        f"{rounds} rounds of {seconds}s, {connections} connections, medians; "
        "'rejected' counts non-2xx answers (the attacks in the mix)"
    )
    print(f"{'workload':<15} {'WAF':<18} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'rejected':>9}")
    for workload in workloads:
        medians = {proxy: median_result(results[(workload, proxy)]) for proxy in ports}
        for proxy, result in medians.items():
            print(
                f"{workload:<15} {proxy:<18} {result.requests_per_second:>9.0f} "
                f"{result.p50_ms:>8.2f} {result.p99_ms:>8.2f} {result.errors:>9}"
            )
        ratio = (
            medians["stockade"].requests_per_second
            / medians["nginx+ModSecurity"].requests_per_second
        )
        print(f"{workload:<15} ratio stockade/nginx+ModSecurity throughput: {ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="Duration of each wrk run.")
    parser.add_argument("--rounds", type=int, default=3, help="Alternating rounds per WAF.")
    parser.add_argument("--connections", type=int, default=20, help="Concurrent wrk connections.")
    args = parser.parse_args()
    run(args.seconds, args.rounds, args.connections)


if __name__ == "__main__":
    main()
