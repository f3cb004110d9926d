"""Replay legitimate use and attacks against the demo through a running gateway.

Every request goes to the gateway address the user gives (loopback in the
demo) with the tenant's Host field. Clients use distinct source addresses in
127.0.0.0/8 so that one attacker's dynamic block does not hide another
attack, and legitimate users stay apart from attackers.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

ALICE_ORDER = 1
"""An order of alice in the demo API's seed data; carol requests it in the BOLA attack."""

SQL_INJECTION = "x' UNION SELECT id, username, password_hash, balance FROM users --"
"""The demo's SQL injection payload; it goes into a query string, never into a database here."""

REQUEST_TIMEOUT = 10.0
"""Seconds to wait for each response."""


@dataclass
class Reply:
    status: int
    body: bytes
    from_gateway: bool  # the gateway responded itself (a JSON error with a request id)

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass
class Client:
    """One HTTP client with its own loopback source address and keep-alive connection."""

    gateway: str
    host: str
    source: str
    api_key: str | None = None
    token: str | None = None
    _connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: Any = None) -> Reply:
        headers = {"Host": self.host, "Accept": "application/json"}
        if self.api_key:
            headers["X-API-Key"] = self.api_key
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            connection = self._connect()
            try:
                connection.request(method, path, body=payload, headers=headers)
                response = connection.getresponse()
                data = response.read()
            except (ConnectionError, http.client.HTTPException, TimeoutError):
                self.close()
                if attempt:
                    raise
                continue
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return Reply(response.status, data, _gateway_error(data))
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._connection = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            url = urlsplit(self.gateway)
            self._connection = http.client.HTTPConnection(
                url.hostname or "127.0.0.1",
                url.port or 80,
                timeout=REQUEST_TIMEOUT,
                source_address=(self.source, 0),
            )
        return self._connection


def _gateway_error(data: bytes) -> bool:
    try:
        parsed = json.loads(data)
    except ValueError:
        return False
    return isinstance(parsed, dict) and "error" in parsed and "request_id" in parsed


@dataclass
class Outcome:
    attack: str
    status: int
    stopped: bool  # the gateway responded instead of the demo API


@dataclass
class TenantRun:
    tenant: str
    host: str
    legitimate_ok: int = 0
    legitimate_total: int = 0
    attacks: list[Outcome] = field(default_factory=list)


@dataclass(frozen=True)
class Tenant:
    id: str
    host: str
    api_key: str
    network: int  # third octet of the tenant's client addresses, 127.0.N.x


DEMO_TENANTS = (
    Tenant("acme", "acme.demo", "demo-key-acme-mobile", 1),
    Tenant("globex", "globex.demo", "demo-key-globex-mobile", 2),
)


def run_tenant(gateway: str, tenant: Tenant, rounds: int = 3) -> TenantRun:
    """Replay legitimate flows and then each attack for one tenant."""
    run = TenantRun(tenant.id, tenant.host)
    users = {
        name: Client(
            gateway, tenant.host, f"127.0.{tenant.network}.{10 + index}", api_key=tenant.api_key
        )
        for index, name in enumerate(("alice", "bob"))
    }
    for _ in range(rounds):
        for name, client in users.items():
            for ok in legitimate_flow(client, name):
                run.legitimate_total += 1
                run.legitimate_ok += ok
    for attack, outcome in attacks(gateway, tenant):
        run.attacks.append(Outcome(attack, outcome.status, outcome.from_gateway))
    for client in users.values():
        client.close()
    return run


def legitimate_flow(client: Client, name: str) -> Iterable[bool]:
    """Yield whether each call of an ordinary session succeeded."""
    login = client.request(
        "POST", "/api/v2/login", {"username": name, "password": f"{name}-demo-pass"}
    )
    token = (login.json() or {}).get("token") if login.status == 200 else None
    yield token is not None
    client.token = token
    for method, path, body in (
        ("GET", "/api/v2/products", None),
        ("GET", "/api/v2/products?search=widget", None),
        ("GET", "/api/v2/orders", None),
        ("GET", "/api/v2/users/me", None),
        ("PATCH", "/api/v2/users/me", {"full_name": f"{name.title()} Example"}),
    ):
        yield client.request(method, path, body).status < 400
    orders = client.request("GET", "/api/v2/orders").json() or []
    for order in orders[:2] if isinstance(orders, list) else []:
        if isinstance(order, dict) and "id" in order:
            yield client.request("GET", f"/api/v2/orders/{order['id']}").status == 200


def attacks(gateway: str, tenant: Tenant) -> Iterable[tuple[str, Reply]]:
    """Yield each attack's name and the reply it got; each attacker has its own address."""

    def attacker(number: int, logged_in_as: str | None = None) -> Client:
        client = Client(gateway, tenant.host, f"127.0.{tenant.network}.{100 + number}")
        if logged_in_as:
            reply = client.request(
                "POST",
                "/api/v2/login",
                {"username": logged_in_as, "password": f"{logged_in_as}-demo-pass"},
            )
            client.token = (reply.json() or {}).get("token") if reply.status == 200 else None
        return client

    yield (
        "SQL injection",
        attacker(1).request(
            "GET",
            "/api/v2/products?search="
            + quote(SQL_INJECTION),
        ),
    )
    yield (
        "XSS",
        attacker(2).request(
            "GET", "/api/v2/products?search=" + quote("<script>alert(document.cookie)</script>")
        ),
    )
    yield (
        "path traversal",
        attacker(3).request("GET", "/api/v2/products?search=" + quote("../../../../etc/passwd")),
    )
    yield (
        "command injection",
        attacker(4, "carol").request(
            "GET", "/api/v2/diagnostics/ping?host=" + quote("127.0.0.1;cat /etc/passwd")
        ),
    )
    yield (
        "BOLA (carol reads alice's order)",
        attacker(5, "carol").request("GET", f"/api/v2/orders/{ALICE_ORDER}"),
    )
    yield (
        "mass assignment",
        attacker(6, "carol").request(
            "PATCH", "/api/v2/users/me", {"role": "admin", "is_admin": True, "balance": 1000000}
        ),
    )
    stuffing = attacker(7)
    last = Reply(0, b"", False)
    for number in range(12):
        last = stuffing.request(
            "POST", "/api/v2/login", {"username": f"user{number}", "password": "Winter2026!"}
        )
    yield "credential stuffing (12 logins)", last
    yield (
        "SSRF to a loopback address",
        attacker(8, "carol").request(
            "GET", "/api/v2/fetch?url=" + quote("http://127.0.0.1:9901/metrics")
        ),
    )
    yield "undocumented endpoint", attacker(9).request("GET", "/api/v2/internal/users")


def read_events(path: str, since: float) -> list[dict[str, Any]]:
    """Return the security events in a JSON lines file that are newer than ``since``."""
    events = []
    try:
        with open(path, encoding="utf-8") as file:
            for line in file:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if isinstance(event, dict) and float(event.get("time", 0)) >= since:
                    events.append(event)
    except FileNotFoundError:
        return []
    return events


def summarize_events(events: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Count events per tenant by action (blocked, detected, observed) and discoveries."""
    summary: dict[str, dict[str, int]] = {}
    for event in events:
        counts = summary.setdefault(
            str(event.get("tenant")), {"blocked": 0, "detected": 0, "observed": 0, "discovered": 0}
        )
        action = str(event.get("action"))
        if action in counts:
            counts[action] += 1
        if event.get("layer") == "discovery":
            counts["discovered"] += 1
    return summary


def wait_for_events(path: str, since: float, seconds: float) -> list[dict[str, Any]]:
    """Poll the events file until no new event arrives for a second, or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    events = read_events(path, since)
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        newer = read_events(path, since)
        if len(newer) != len(events):
            events, quiet_since = newer, time.monotonic()
        elif time.monotonic() - quiet_since >= 1.5:
            break
    return events
