"""The demo API: every planted hole is open in the vulnerable variant and
closed in the fixed one, and the legitimate flows work in both.

Both variants run as real subprocesses on loopback ports chosen by the
kernel. The only URLs the API is made to fetch belong to listeners that
this module starts on 127.0.0.1.
"""

from __future__ import annotations

import base64
import http.client
import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
import yaml
from fastapi.routing import APIRoute
from openapi_spec_validator import validate

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
DEMO_DIR = EXAMPLES_DIR / "demo_api"
if str(EXAMPLES_DIR) not in sys.path:
    sys.path.insert(0, str(EXAMPLES_DIR))

from demo_api.app import ROUTE_MODULES  # noqa: E402
from demo_api.context import AppContext  # noqa: E402
from demo_api.database import Database, DatabaseError  # noqa: E402
from demo_api.middleware import SECURITY_HEADERS  # noqa: E402
from demo_api.planted import PLANTED_HOLES, UNDOCUMENTED_PATHS  # noqa: E402
from demo_api.seed import DEMO_PASSWORDS  # noqa: E402
from demo_api.server import build_parser  # noqa: E402
from demo_api.settings import (  # noqa: E402
    EXPORTS_PER_USER,
    LOGIN_FAILURES_PER_CLIENT,
    LOGIN_FAILURES_PER_USERNAME,
    WEAK_JWT_SECRET,
    Settings,
)
from demo_api.shell_sim import injected_sleep_seconds, is_valid_host  # noqa: E402
from demo_api.tokens import TokenCodec  # noqa: E402

STARTUP_TIMEOUT_SECONDS = 20.0
REQUEST_TIMEOUT_SECONDS = 10.0
INJECTED_DELAY_SECONDS = 0.5
"""Delay the time-based checks inject; the vulnerable response takes at least this long."""

LONG_INJECTED_DELAY_SECONDS = 3.0
"""Delay injected into the fixed variant, which must respond well before it elapses."""

ALICE_ID, BOB_ID, CAROL_ID, ADMIN_ID = 1, 2, 3, 4
BOB_ORDER_ID = 3
SENSITIVE_USER_FIELDS = ("password_hash", "ssn", "card_number", "internal_notes")
FOREIGN_ORIGIN = "http://attacker.invalid"
STUFFING_CLIENT, OTHER_CLIENT = "127.0.0.9", "127.0.0.10"
"""Client addresses sent in X-Forwarded-For, which the demo trusts from loopback peers."""
WEAK_KEY_WARNING = "ignore::jwt.warnings.InsecureKeyLengthWarning"
"""PyJWT warns about the planted short HMAC key, which these tests use on purpose."""


# --- clients and listeners -------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    elapsed: float

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


@dataclass
class DemoServer:
    """A demo API subprocess and a small client for it."""

    process: subprocess.Popen[bytes]
    port: int
    fixed: bool
    tokens: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        raw_body: bytes | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> Reply:
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        payload = raw_body
        if body is not None:
            payload = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        target = f"{path}?{urlencode(query)}" if query else path
        connection = http.client.HTTPConnection("127.0.0.1", self.port, REQUEST_TIMEOUT_SECONDS)
        try:
            started = time.monotonic()
            connection.request(method, target, body=payload, headers=all_headers)
            response = connection.getresponse()
            data = response.read()
            return Reply(response.status, response.headers, data, time.monotonic() - started)
        finally:
            connection.close()

    def login(self, username: str, password: str | None = None) -> str:
        reply = self.request(
            "POST",
            "/api/v2/login",
            body={"username": username, "password": password or DEMO_PASSWORDS[username]},
        )
        assert reply.status == 200, f"login of {username} failed: {reply.status} {reply.text}"
        token: str = reply.json()["token"]
        return token

    def token(self, username: str) -> str:
        """Return a cached token of a seeded user."""
        if username not in self.tokens:
            self.tokens[username] = self.login(username)
        return self.tokens[username]

    def new_user(self, username: str) -> tuple[int, str]:
        """Create a throwaway normal user as admin; return its id and a token."""
        password = f"{username}-pass"
        reply = self.request(
            "POST",
            "/api/v2/admin/users",
            token=self.token("admin"),
            body={
                "username": username,
                "password": password,
                "email": f"{username}@example.com",
                "full_name": username.title(),
            },
        )
        assert reply.status == 201, f"creating {username} failed: {reply.status} {reply.text}"
        return reply.json()["id"], self.login(username, password)

    def new_order(self, token: str) -> int:
        reply = self.request(
            "POST", "/api/v2/orders", token=token, body={"product_id": 1, "quantity": 1}
        )
        assert reply.status == 201, f"creating an order failed: {reply.status} {reply.text}"
        order_id: int = reply.json()["id"]
        return order_id


class Listener:
    """An HTTP server on 127.0.0.1 that records every request it receives."""

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.requests: list[tuple[str, str, bytes]] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                listener.requests.append((self.command, self.path, self.rfile.read(length)))
                body = listener.marker.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _record

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _start_demo(extra_args: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, str(DEMO_DIR), "--port", "0", "--log-level", "warning"]
    with log_path.open("wb") as log:
        return subprocess.Popen(command + extra_args, stdout=subprocess.PIPE, stderr=log)


def _await_port(process: subprocess.Popen[bytes], log_path: Path) -> int:
    """Read the announced port from the process's output, then keep draining it."""
    assert process.stdout is not None
    lines: queue.Queue[bytes] = queue.Queue()

    def drain(stream: Any) -> None:
        for line in iter(stream.readline, b""):
            lines.put(line)

    threading.Thread(target=drain, args=(process.stdout,), daemon=True).start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.1).decode()
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        if "listening on http://127.0.0.1:" in line:
            return int(line.rsplit(":", 1)[1])
    raise AssertionError(f"demo API did not start; its log:\n{log_path.read_text()}")


def _stop(*processes: subprocess.Popen[bytes]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def canary() -> Iterator[Listener]:
    listener = Listener("canary-reached-7f3a")
    yield listener
    listener.close()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Listener]:
    """The webhook receiver that the fixed variant is configured to allow."""
    listener = Listener("receiver-reached-52c1")
    yield listener
    listener.close()


@pytest.fixture(scope="module")
def servers(
    receiver: Listener, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[DemoServer, DemoServer]]:
    logs = tmp_path_factory.mktemp("demo_api_logs")
    allow = ["--webhook-allow", f"127.0.0.1:{receiver.port}"]
    vulnerable_process = _start_demo([], logs / "vulnerable.log")
    fixed_process = _start_demo(["--fixed", *allow], logs / "fixed.log")
    try:
        vulnerable = DemoServer(vulnerable_process, 0, fixed=False)
        fixed = DemoServer(fixed_process, 0, fixed=True)
        vulnerable.port = _await_port(vulnerable_process, logs / "vulnerable.log")
        fixed.port = _await_port(fixed_process, logs / "fixed.log")
        yield vulnerable, fixed
    finally:
        _stop(vulnerable_process, fixed_process)


@pytest.fixture(scope="module")
def vulnerable(servers: tuple[DemoServer, DemoServer]) -> DemoServer:
    return servers[0]


@pytest.fixture(scope="module")
def fixed(servers: tuple[DemoServer, DemoServer]) -> DemoServer:
    return servers[1]


@pytest.fixture(params=["vulnerable", "fixed"])
def either(request: pytest.FixtureRequest, servers: tuple[DemoServer, DemoServer]) -> DemoServer:
    return servers[0] if request.param == "vulnerable" else servers[1]


def _openapi() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DEMO_DIR / "openapi.yaml").read_text())
    return document


def _unsigned_token(claims: dict[str, Any]) -> str:
    def encode(part: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()

    return f"{encode({'alg': 'none', 'typ': 'JWT'})}.{encode(claims)}."


def _claims(user_id: int, expires_in: int = 600) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": str(user_id), "iat": now, "exp": now + expires_in}


# --- legitimate flows --------------------------------------------------------


@pytest.mark.parametrize("username", ["alice", "bob"])
def test_legitimate_flow(either: DemoServer, username: str) -> None:
    user_id = {"alice": ALICE_ID, "bob": BOB_ID}[username]
    token = either.login(username)

    me = either.request("GET", "/api/v2/users/me", token=token)
    assert me.status == 200
    assert me.json()["username"] == username

    orders = either.request("GET", "/api/v2/orders", token=token)
    assert orders.status == 200
    assert orders.json(), "each seeded user has orders"
    assert {order["user_id"] for order in orders.json()} == {user_id}

    created = either.request(
        "POST",
        "/api/v2/orders",
        token=token,
        body={"product_id": 2, "quantity": 3, "shipping_address": "1 Test Road"},
    )
    assert created.status == 201
    order = created.json()
    assert order["user_id"] == user_id
    assert order["total"] == pytest.approx(31.47)

    read_back = either.request("GET", f"/api/v2/orders/{order['id']}", token=token)
    assert read_back.status == 200
    assert read_back.json() == order

    changed = either.request(
        "PUT", f"/api/v2/orders/{order['id']}", token=token, body={"quantity": 1}
    )
    assert changed.status == 200
    assert changed.json()["total"] == pytest.approx(10.49)

    deleted = either.request("DELETE", f"/api/v2/orders/{order['id']}", token=token)
    assert deleted.status == 204

    profile = either.request(
        "PATCH",
        "/api/v2/users/me",
        token=token,
        body={"email": f"{username}@example.org", "full_name": f"{username.title()} Renamed"},
    )
    assert profile.status == 200
    assert profile.json()["email"] == f"{username}@example.org"
    again = either.request("GET", "/api/v2/users/me", token=token)
    assert again.json()["full_name"] == f"{username.title()} Renamed"

    export = either.request("GET", "/api/v2/orders/export", token=token)
    assert export.status == 200
    assert export.text.startswith("id,product_name,quantity,total,status,created_at")


def test_product_search(either: DemoServer) -> None:
    reply = either.request("GET", "/api/v2/products", query={"search": "widget"})
    assert reply.status == 200
    assert [product["name"] for product in reply.json()] == ["Blue widget", "Red widget"]
    assert either.request("GET", "/api/v2/products/3").json()["name"] == "Gadget"
    assert len(either.request("GET", "/api/v2/products").json()) == 5


def test_ping_of_valid_host(either: DemoServer) -> None:
    reply = either.request(
        "GET", "/api/v2/diagnostics/ping", token=either.token("alice"), query={"host": "127.0.0.1"}
    )
    assert reply.status == 200
    assert "simulated" in reply.json()["output"]


def test_missing_token_rejected(either: DemoServer) -> None:
    reply = either.request("GET", "/api/v2/users/me")
    assert reply.status == 401
    assert reply.headers["WWW-Authenticate"] == "Bearer"


# --- API1 BOLA ---------------------------------------------------------------


def test_bola_order_read(vulnerable: DemoServer, fixed: DemoServer) -> None:
    path = f"/api/v2/orders/{BOB_ORDER_ID}"
    open_reply = vulnerable.request("GET", path, token=vulnerable.token("alice"))
    assert open_reply.status == 200
    assert open_reply.json()["user_id"] == BOB_ID

    closed = fixed.request("GET", path, token=fixed.token("alice"))
    assert closed.status == 404
    assert fixed.request("GET", path, token=fixed.token("bob")).status == 200


def test_bola_order_update(vulnerable: DemoServer, fixed: DemoServer) -> None:
    change = {"shipping_address": "Alice's house"}
    order_id = vulnerable.new_order(vulnerable.token("bob"))
    path = f"/api/v2/orders/{order_id}"
    reply = vulnerable.request("PUT", path, token=vulnerable.token("alice"), body=change)
    assert reply.status == 200
    stored = vulnerable.request("GET", path, token=vulnerable.token("bob")).json()
    assert stored["shipping_address"] == "Alice's house"

    order_id = fixed.new_order(fixed.token("bob"))
    path = f"/api/v2/orders/{order_id}"
    reply = fixed.request("PUT", path, token=fixed.token("alice"), body=change)
    assert reply.status == 404
    stored = fixed.request("GET", path, token=fixed.token("bob")).json()
    assert stored["shipping_address"] == ""


def test_bola_order_delete(vulnerable: DemoServer, fixed: DemoServer) -> None:
    order_id = vulnerable.new_order(vulnerable.token("bob"))
    path = f"/api/v2/orders/{order_id}"
    assert vulnerable.request("DELETE", path, token=vulnerable.token("alice")).status == 204
    assert vulnerable.request("GET", path, token=vulnerable.token("bob")).status == 404

    order_id = fixed.new_order(fixed.token("bob"))
    path = f"/api/v2/orders/{order_id}"
    assert fixed.request("DELETE", path, token=fixed.token("alice")).status == 404
    assert fixed.request("GET", path, token=fixed.token("bob")).status == 200


def test_bola_user_read(vulnerable: DemoServer, fixed: DemoServer) -> None:
    path = f"/api/v2/users/{BOB_ID}"
    open_reply = vulnerable.request("GET", path, token=vulnerable.token("alice"))
    assert open_reply.status == 200
    assert open_reply.json()["username"] == "bob"

    assert fixed.request("GET", path, token=fixed.token("alice")).status == 404
    assert fixed.request("GET", path, token=fixed.token("bob")).status == 200
    assert fixed.request("GET", path, token=fixed.token("admin")).status == 200


def test_bola_user_update(vulnerable: DemoServer, fixed: DemoServer) -> None:
    change = {"full_name": "Taken Over"}
    victim_id, victim_token = vulnerable.new_user("bola_victim")
    path = f"/api/v2/users/{victim_id}"
    assert (
        vulnerable.request("PUT", path, token=vulnerable.token("alice"), body=change).status == 200
    )
    assert vulnerable.request("GET", path, token=victim_token).json()["full_name"] == "Taken Over"

    victim_id, victim_token = fixed.new_user("bola_victim")
    path = f"/api/v2/users/{victim_id}"
    assert fixed.request("PUT", path, token=fixed.token("alice"), body=change).status == 404
    assert fixed.request("GET", path, token=victim_token).json()["full_name"] == "Bola_Victim"


def test_sequential_ids(either: DemoServer) -> None:
    first = either.new_order(either.token("carol"))
    second = either.new_order(either.token("carol"))
    assert second == first + 1


# --- API5 BFLA ---------------------------------------------------------------


def test_bfla_user_delete(vulnerable: DemoServer, fixed: DemoServer) -> None:
    victim_id, _ = vulnerable.new_user("bfla_victim")
    path = f"/api/v2/users/{victim_id}"
    assert vulnerable.request("DELETE", path, token=vulnerable.token("alice")).status == 204
    assert vulnerable.request("GET", path, token=vulnerable.token("admin")).status == 404

    victim_id, _ = fixed.new_user("bfla_victim")
    path = f"/api/v2/users/{victim_id}"
    assert fixed.request("DELETE", path, token=fixed.token("alice")).status == 403
    assert fixed.request("GET", path, token=fixed.token("admin")).status == 200


def test_bfla_admin_user_list(vulnerable: DemoServer, fixed: DemoServer) -> None:
    reply = vulnerable.request("GET", "/api/v2/admin/users", token=vulnerable.token("alice"))
    assert reply.status == 200
    assert {"alice", "bob", "carol", "admin"} <= {user["username"] for user in reply.json()}

    assert fixed.request("GET", "/api/v2/admin/users", token=fixed.token("alice")).status == 403
    assert fixed.request("GET", "/api/v2/admin/users", token=fixed.token("admin")).status == 200


def test_bfla_admin_user_create(vulnerable: DemoServer, fixed: DemoServer) -> None:
    new_admin = {
        "username": "sneaky",
        "password": "sneaky-pass",
        "email": "sneaky@example.com",
        "full_name": "Sneaky",
        "role": "admin",
    }
    reply = vulnerable.request(
        "POST", "/api/v2/admin/users", token=vulnerable.token("alice"), body=new_admin
    )
    assert reply.status == 201
    assert reply.json()["role"] == "admin"

    reply = fixed.request("POST", "/api/v2/admin/users", token=fixed.token("alice"), body=new_admin)
    assert reply.status == 403


def test_unauthenticated_admin_stats(vulnerable: DemoServer, fixed: DemoServer) -> None:
    reply = vulnerable.request("GET", "/api/v2/admin/stats")
    assert reply.status == 200
    assert reply.json()["users"] >= 4

    assert fixed.request("GET", "/api/v2/admin/stats").status == 401
    assert fixed.request("GET", "/api/v2/admin/stats", token=fixed.token("alice")).status == 403
    assert fixed.request("GET", "/api/v2/admin/stats", token=fixed.token("admin")).status == 200


# --- API3 broken object property level authorization ------------------------


def test_mass_assignment_profile(vulnerable: DemoServer, fixed: DemoServer) -> None:
    privileged = {"role": "admin", "is_admin": True, "balance": 1_000_000, "full_name": "Mal"}

    _, token = vulnerable.new_user("mass_assigner")
    assert (
        vulnerable.request("PATCH", "/api/v2/users/me", token=token, body=privileged).status == 200
    )
    stored = vulnerable.request("GET", "/api/v2/users/me", token=token).json()
    assert stored["role"] == "admin"
    assert stored["is_admin"] is True
    assert stored["balance"] == 1_000_000
    assert vulnerable.request("GET", "/api/v2/admin/users", token=token).status == 200

    _, token = fixed.new_user("mass_assigner")
    reply = fixed.request("PATCH", "/api/v2/users/me", token=token, body=privileged)
    assert reply.status == 400
    assert "'role'" in reply.json()["error"]
    stored = fixed.request("GET", "/api/v2/users/me", token=token).json()
    assert stored["role"] == "user"
    assert stored["balance"] == 0
    assert stored["full_name"] == "Mass_Assigner"


def test_excessive_data_exposure(vulnerable: DemoServer, fixed: DemoServer) -> None:
    declared = set(_openapi()["components"]["schemas"]["User"]["properties"])

    exposed = vulnerable.request("GET", "/api/v2/users/me", token=vulnerable.token("alice")).json()
    for name in SENSITIVE_USER_FIELDS:
        assert name in exposed, f"vulnerable user object lacks {name}"
    assert exposed["card_number"] == "4111111111111111"
    assert set(exposed) - declared == {*SENSITIVE_USER_FIELDS, "is_admin"}

    shown = fixed.request("GET", "/api/v2/users/me", token=fixed.token("alice")).json()
    assert set(shown) == declared
    assert shown["card_last4"] == "1111"


# --- API2 broken authentication ---------------------------------------------


@pytest.mark.filterwarnings(WEAK_KEY_WARNING)
def test_jwt_weak_secret(vulnerable: DemoServer, fixed: DemoServer) -> None:
    issued = vulnerable.token("alice")
    assert jwt.decode(issued, WEAK_JWT_SECRET, algorithms=["HS256"])["sub"] == str(ALICE_ID)
    forged = jwt.encode(_claims(ADMIN_ID), WEAK_JWT_SECRET, algorithm="HS256")
    reply = vulnerable.request("GET", "/api/v2/users/me", token=forged)
    assert reply.status == 200
    assert reply.json()["username"] == "admin"

    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(fixed.token("alice"), WEAK_JWT_SECRET, algorithms=["HS256"])
    assert fixed.request("GET", "/api/v2/users/me", token=forged).status == 401


def test_jwt_alg_none(vulnerable: DemoServer, fixed: DemoServer) -> None:
    unsigned = _unsigned_token(_claims(BOB_ID))
    reply = vulnerable.request("GET", "/api/v2/users/me", token=unsigned)
    assert reply.status == 200
    assert reply.json()["username"] == "bob"

    assert fixed.request("GET", "/api/v2/users/me", token=unsigned).status == 401


@pytest.mark.filterwarnings(WEAK_KEY_WARNING)
def test_jwt_expired_accepted(vulnerable: DemoServer, fixed: DemoServer) -> None:
    expired_claims = _claims(CAROL_ID, expires_in=-3600)
    expired = jwt.encode(expired_claims, WEAK_JWT_SECRET, algorithm="HS256")
    reply = vulnerable.request("GET", "/api/v2/users/me", token=expired)
    assert reply.status == 200
    assert reply.json()["username"] == "carol"

    # The fixed server's key is random, so its expiry check is shown on the
    # same codec with a known key.
    settings = Settings(fixed=True, db_path=Path("unused"), jwt_secret="k" * 43)
    codec = TokenCodec(settings)
    assert codec.subject(jwt.encode(expired_claims, "k" * 43, algorithm="HS256")) is None
    assert codec.subject(jwt.encode(_claims(CAROL_ID), "k" * 43, algorithm="HS256")) == CAROL_ID
    assert fixed.request("GET", "/api/v2/users/me", token=expired).status == 401


def test_token_in_query(vulnerable: DemoServer, fixed: DemoServer) -> None:
    query = {"access_token": vulnerable.token("alice")}
    reply = vulnerable.request("GET", "/api/v2/users/me", query=query)
    assert reply.status == 200
    assert reply.json()["username"] == "alice"

    query = {"access_token": fixed.token("alice")}
    assert fixed.request("GET", "/api/v2/users/me", query=query).status == 401


def test_login_user_enumeration(vulnerable: DemoServer, fixed: DemoServer) -> None:
    def attempt(server: DemoServer, username: str) -> Reply:
        body = {"username": username, "password": "not-the-password"}
        return server.request("POST", "/api/v2/login", body=body)

    unknown, wrong = attempt(vulnerable, "nobody"), attempt(vulnerable, "bob")
    assert unknown.status == wrong.status == 200
    assert unknown.json() == {"ok": False, "error": "unknown user"}
    assert wrong.json() == {"ok": False, "error": "wrong password"}

    unknown, wrong = attempt(fixed, "nobody"), attempt(fixed, "bob")
    assert unknown.status == wrong.status == 401
    assert unknown.body == wrong.body


def test_login_no_rate_limit(vulnerable: DemoServer, fixed: DemoServer) -> None:
    wrong = {"username": "carol", "password": "guess"}
    attempts = LOGIN_FAILURES_PER_USERNAME * 3
    statuses = [
        vulnerable.request("POST", "/api/v2/login", body=wrong).status for _ in range(attempts)
    ]
    assert statuses == [200] * attempts
    assert vulnerable.login("carol")

    statuses = [
        fixed.request("POST", "/api/v2/login", body=wrong).status
        for _ in range(LOGIN_FAILURES_PER_USERNAME)
    ]
    assert statuses == [401] * LOGIN_FAILURES_PER_USERNAME
    locked = fixed.request("POST", "/api/v2/login", body=wrong)
    assert locked.status == 429
    assert int(locked.headers["Retry-After"]) > 0
    right = {"username": "carol", "password": DEMO_PASSWORDS["carol"]}
    assert fixed.request("POST", "/api/v2/login", body=right).status == 429
    assert fixed.login("alice"), "the lockout of one username leaves the others alone"


def test_login_limit_per_client(fixed: DemoServer) -> None:
    def attempt(username: str, client: str) -> Reply:
        body = {"username": username, "password": "guess"}
        return fixed.request(
            "POST", "/api/v2/login", body=body, headers={"X-Forwarded-For": client}
        )

    statuses = [
        attempt(f"stuffing-{index}", STUFFING_CLIENT).status
        for index in range(LOGIN_FAILURES_PER_CLIENT)
    ]
    assert statuses == [401] * LOGIN_FAILURES_PER_CLIENT
    assert attempt("stuffing-last", STUFFING_CLIENT).status == 429
    assert attempt("stuffing-last", OTHER_CLIENT).status == 401


# --- injection ----------------------------------------------------------------


def test_nosql_operator_login(vulnerable: DemoServer, fixed: DemoServer) -> None:
    body = {"username": "admin", "password": {"$ne": ""}}
    reply = vulnerable.request("POST", "/api/v2/login", body=body)
    assert reply.status == 200
    assert reply.json()["ok"] is True
    claims = jwt.decode(reply.json()["token"], options={"verify_signature": False})
    assert claims["sub"] == str(ADMIN_ID)

    reply = fixed.request("POST", "/api/v2/login", body=body)
    assert reply.status == 400
    assert "token" not in reply.json()


def test_sqli_products_search(vulnerable: DemoServer, fixed: DemoServer) -> None:
    def search(server: DemoServer, text: str) -> Reply:
        return server.request("GET", "/api/v2/products", query={"search": text})

    broken = search(vulnerable, "'")
    assert broken.status == 500
    assert "OperationalError" in broken.json()["error"]
    true_rows = search(vulnerable, "widget%' AND 1=1 AND '%'='").json()
    false_rows = search(vulnerable, "widget%' AND 1=2 AND '%'='").json()
    assert [row["id"] for row in true_rows] == [1, 2]
    assert false_rows == []
    delayed = search(vulnerable, f"%' AND (SELECT sleep({INJECTED_DELAY_SECONDS}))=0 AND '%'='")
    assert delayed.status == 200
    assert delayed.elapsed >= INJECTED_DELAY_SECONDS

    assert search(fixed, "'").json() == []
    assert search(fixed, "widget%' AND 1=1 AND '%'='").json() == []
    delayed = search(fixed, f"%' AND (SELECT sleep({LONG_INJECTED_DELAY_SECONDS}))=0 AND '%'='")
    assert delayed.json() == []
    assert delayed.elapsed < LONG_INJECTED_DELAY_SECONDS
    assert search(fixed, "%").json() == [], "LIKE wildcards match literally"


def test_os_command_injection_ping(vulnerable: DemoServer, fixed: DemoServer) -> None:
    query = {"host": f"127.0.0.1; sleep {INJECTED_DELAY_SECONDS}"}
    path = "/api/v2/diagnostics/ping"
    reply = vulnerable.request("GET", path, token=vulnerable.token("alice"), query=query)
    assert reply.status == 200
    assert reply.elapsed >= INJECTED_DELAY_SECONDS

    query = {"host": f"127.0.0.1; sleep {LONG_INJECTED_DELAY_SECONDS}"}
    reply = fixed.request("GET", path, token=fixed.token("alice"), query=query)
    assert reply.status == 400
    assert reply.elapsed < LONG_INJECTED_DELAY_SECONDS


def test_shell_simulation_parsing() -> None:
    assert injected_sleep_seconds("x; sleep 1") == 1.0
    assert injected_sleep_seconds("x | sleep 0.5") == 0.5
    assert injected_sleep_seconds("x && sleep 2") == 2.0
    assert injected_sleep_seconds("x `sleep 1`") == 1.0
    assert injected_sleep_seconds("x $(sleep 1)") == 1.0
    assert injected_sleep_seconds("x\nsleep 1") == 1.0
    assert injected_sleep_seconds("x;sleep 1;sleep 2") == 3.0
    assert injected_sleep_seconds("x; sleep 100") == 5.0, "the delay is capped"
    assert injected_sleep_seconds("sleep 1") == 0.0, "no shell operator before it"
    assert injected_sleep_seconds("x; sleep soon") == 0.0
    assert injected_sleep_seconds("x; sleeping 1") == 0.0
    assert is_valid_host("db-1.example.com")
    assert is_valid_host("::1")
    assert not is_valid_host("a;b")
    assert not is_valid_host("-a.example.com")
    assert not is_valid_host("")


# --- API7 SSRF -----------------------------------------------------------------


def test_ssrf_webhook_test(
    vulnerable: DemoServer, fixed: DemoServer, canary: Listener, receiver: Listener
) -> None:
    path = "/api/v2/webhooks/test"
    before = len(canary.requests)
    body = {"url": canary.url("/webhook-vulnerable")}
    reply = vulnerable.request("POST", path, token=vulnerable.token("alice"), body=body)
    assert reply.status == 200
    assert reply.json()["response"] == canary.marker
    assert canary.requests[before][:2] == ("POST", "/webhook-vulnerable")

    before = len(canary.requests)
    disguised_loopback = [
        canary.url("/webhook-fixed"),
        f"http://localhost:{canary.port}/webhook-fixed",
        f"http://2130706433:{canary.port}/webhook-fixed",
        f"http://[::ffff:127.0.0.1]:{canary.port}/webhook-fixed",
    ]
    for url in disguised_loopback:
        reply = fixed.request("POST", path, token=fixed.token("alice"), body={"url": url})
        assert reply.status == 400, f"fixed variant did not reject {url}: {reply.text}"
        assert "not a public address" in reply.json()["error"]
    assert len(canary.requests) == before, "the fixed variant reached the canary"

    reply = fixed.request(
        "POST", path, token=fixed.token("alice"), body={"url": receiver.url("/allowed")}
    )
    assert reply.status == 200
    assert reply.json() == {"delivered": True, "status": 200}
    assert receiver.requests[-1][:2] == ("POST", "/allowed")


def test_ssrf_url_fetch(vulnerable: DemoServer, fixed: DemoServer, canary: Listener) -> None:
    before = len(canary.requests)
    query = {"url": canary.url("/fetch-vulnerable")}
    reply = vulnerable.request("GET", "/api/v2/fetch", token=vulnerable.token("bob"), query=query)
    assert reply.status == 200
    assert reply.json()["content"] == canary.marker
    assert canary.requests[before][:2] == ("GET", "/fetch-vulnerable")

    before = len(canary.requests)
    query = {"url": canary.url("/fetch-fixed")}
    reply = fixed.request("GET", "/api/v2/fetch", token=fixed.token("bob"), query=query)
    assert reply.status == 400
    assert len(canary.requests) == before


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/hostname", "unsupported URL scheme 'file'"),
        ("gopher://127.0.0.1/", "unsupported URL scheme 'gopher'"),
        ("http://[::1", "invalid URL"),
    ],
)
def test_unusable_url_rejected(either: DemoServer, url: str, message: str) -> None:
    reply = either.request("GET", "/api/v2/fetch", token=either.token("bob"), query={"url": url})
    assert reply.status == 400
    assert message in reply.json()["error"]


# --- API4 unrestricted resource consumption ----------------------------------


def test_no_export_rate_limit(vulnerable: DemoServer, fixed: DemoServer) -> None:
    _, token = vulnerable.new_user("exporter")
    attempts = EXPORTS_PER_USER * 2
    statuses = [
        vulnerable.request("GET", "/api/v2/orders/export", token=token).status
        for _ in range(attempts)
    ]
    assert statuses == [200] * attempts

    _, token = fixed.new_user("exporter")
    statuses = [
        fixed.request("GET", "/api/v2/orders/export", token=token).status
        for _ in range(EXPORTS_PER_USER)
    ]
    assert statuses == [200] * EXPORTS_PER_USER
    limited = fixed.request("GET", "/api/v2/orders/export", token=token)
    assert limited.status == 429
    assert int(limited.headers["Retry-After"]) > 0


# --- API8 security misconfiguration -----------------------------------------


def test_cors_reflects_any_origin(vulnerable: DemoServer, fixed: DemoServer) -> None:
    origin = {"Origin": FOREIGN_ORIGIN}
    preflight = {**origin, "Access-Control-Request-Method": "GET"}

    reply = vulnerable.request(
        "GET", "/api/v2/users/me", token=vulnerable.token("alice"), headers=origin
    )
    assert reply.headers["Access-Control-Allow-Origin"] == FOREIGN_ORIGIN
    assert reply.headers["Access-Control-Allow-Credentials"] == "true"
    reply = vulnerable.request("OPTIONS", "/api/v2/users/me", headers=preflight)
    assert reply.status == 200
    assert reply.headers["Access-Control-Allow-Origin"] == FOREIGN_ORIGIN

    reply = fixed.request("GET", "/api/v2/users/me", token=fixed.token("alice"), headers=origin)
    assert reply.headers["Access-Control-Allow-Origin"] is None
    assert reply.headers["Access-Control-Allow-Credentials"] is None
    reply = fixed.request("OPTIONS", "/api/v2/users/me", headers=preflight)
    assert reply.status == 405
    assert reply.headers["Access-Control-Allow-Origin"] is None


def test_missing_security_headers(vulnerable: DemoServer, fixed: DemoServer) -> None:
    reply = vulnerable.request("GET", "/health")
    for name in SECURITY_HEADERS:
        assert reply.headers[name] is None, f"vulnerable variant sets {name}"

    for path in ("/health", "/no-such-path"):
        reply = fixed.request("GET", path)
        for name, value in SECURITY_HEADERS.items():
            assert reply.headers[name] == value, f"fixed variant lacks {name} on {path}"


def test_version_disclosure_headers(vulnerable: DemoServer, fixed: DemoServer) -> None:
    reply = vulnerable.request("GET", "/health")
    assert reply.headers["Server"] == "uvicorn"
    assert reply.headers["X-Powered-By"] is not None

    reply = fixed.request("GET", "/health")
    assert reply.headers["Server"] is None
    assert reply.headers["X-Powered-By"] is None


def test_verbose_errors(vulnerable: DemoServer, fixed: DemoServer) -> None:
    bad_id = vulnerable.request("GET", "/api/v2/orders/abc", token=vulnerable.token("alice"))
    assert bad_id.status == 500
    assert "Traceback (most recent call last)" in bad_id.json()["traceback"]
    bad_json = vulnerable.request(
        "PATCH", "/api/v2/users/me", token=vulnerable.token("alice"), raw_body=b"{"
    )
    assert bad_json.status == 500
    assert "JSONDecodeError" in bad_json.json()["error"]

    bad_id = fixed.request("GET", "/api/v2/orders/abc", token=fixed.token("alice"))
    assert bad_id.status == 400
    assert bad_id.json() == {"error": "invalid orderId 'abc': expected a positive integer"}
    bad_json = fixed.request("PATCH", "/api/v2/users/me", token=fixed.token("alice"), raw_body=b"{")
    assert bad_json.status == 400
    assert "Traceback" not in bad_json.text
    not_object = fixed.request("PATCH", "/api/v2/users/me", token=fixed.token("alice"), body=[1])
    assert not_object.json() == {"error": "request body must be a JSON object"}


@pytest.mark.parametrize("path", ["/api/v2/debug/config", "/actuator/env"])
def test_debug_endpoint(vulnerable: DemoServer, fixed: DemoServer, path: str) -> None:
    reply = vulnerable.request("GET", path)
    assert reply.status == 200
    assert reply.json()["jwt_secret"] == WEAK_JWT_SECRET

    assert fixed.request("GET", path).status == 404


def test_unsupported_method_200(vulnerable: DemoServer, fixed: DemoServer) -> None:
    assert vulnerable.request("DELETE", "/api/v2/products").status == 200
    assert vulnerable.request("PUT", "/health").status == 200

    reply = fixed.request("DELETE", "/api/v2/products")
    assert reply.status == 405
    assert "GET" in reply.headers["Allow"]


# --- API9 improper inventory ---------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/users/2", "/api/v1/orders/3"])
def test_zombie_api_v1(vulnerable: DemoServer, fixed: DemoServer, path: str) -> None:
    reply = vulnerable.request("GET", path)
    assert reply.status == 200
    assert reply.json()["id"] in (BOB_ID, BOB_ORDER_ID)

    assert fixed.request("GET", path).status == 410


def test_shadow_internal_users(vulnerable: DemoServer, fixed: DemoServer) -> None:
    reply = vulnerable.request("GET", "/api/v2/internal/users")
    assert reply.status == 200
    assert all("password_hash" in user for user in reply.json())

    assert fixed.request("GET", "/api/v2/internal/users").status == 404


# --- start-up ------------------------------------------------------------------


def test_reset_rejects_foreign_file(tmp_path: Path) -> None:
    foreign = tmp_path / "notes.txt"
    foreign.write_text("not a database")
    with pytest.raises(DatabaseError, match="is not a demo_api database"):
        Database(foreign, sql_sleep=False).reset()
    assert foreign.read_text() == "not a database"


def test_reset_restores_seed(tmp_path: Path) -> None:
    database = Database(tmp_path / "demo.sqlite3", sql_sleep=False)
    database.reset()
    with database.connect() as conn:
        conn.execute("DELETE FROM orders")
    database.reset()
    with database.connect() as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone()[0] == 5


@pytest.mark.parametrize("port", ["-1", "65536", "http"])
def test_cli_rejects_invalid_port(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--port", port])
    assert "invalid port" in capsys.readouterr().err


# --- the OpenAPI document and the ground truth ---------------------------------


def _routes(fixed: bool, tmp_path: Path) -> set[tuple[str, str]]:
    """Return the (method, path) pairs that the variant's routers serve."""
    settings = Settings.for_mode(fixed=fixed, db_path=tmp_path / "unused.sqlite3")
    context = AppContext.create(settings)
    routes: set[tuple[str, str]] = set()
    for module in ROUTE_MODULES:
        for route in module.build_router(context).routes:
            assert isinstance(route, APIRoute)
            routes.update(
                (method, route.path) for method in route.methods or () if method != "HEAD"
            )
    return routes


def _documented() -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in _openapi()["paths"].items()
        for method in item
        if method in ("get", "put", "post", "delete", "patch")
    }


def test_openapi_document_valid() -> None:
    document = _openapi()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_openapi_matches_routes(tmp_path: Path) -> None:
    documented = _documented()
    vulnerable_routes = _routes(False, tmp_path)
    undocumented = {path for _, path in vulnerable_routes - documented}
    assert undocumented == set(UNDOCUMENTED_PATHS)
    assert _routes(True, tmp_path) == documented


def test_openapi_marks_v1_deprecated() -> None:
    for path, item in _openapi()["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            deprecated = operation.get("deprecated", False)
            assert deprecated == path.startswith("/api/v1/"), f"{method} {path}"


def test_openapi_served(either: DemoServer) -> None:
    reply = either.request("GET", "/openapi.yaml")
    assert reply.status == 200
    assert reply.body == (DEMO_DIR / "openapi.yaml").read_bytes()


def test_vulnerabilities_document_lists_every_hole() -> None:
    text = (DEMO_DIR / "VULNERABILITIES.md").read_text()
    for hole in PLANTED_HOLES:
        assert f"`{hole.key}`" in text, f"VULNERABILITIES.md does not describe {hole.key}"
        assert hole.category in text
    assert f"`{WEAK_JWT_SECRET}`" in text


def test_every_hole_has_a_test() -> None:
    assert set(HOLE_TESTS) == {hole.key for hole in PLANTED_HOLES}


HOLE_TESTS: dict[str, Callable[..., None]] = {
    "bola-order-read": test_bola_order_read,
    "bola-order-update": test_bola_order_update,
    "bola-order-delete": test_bola_order_delete,
    "bola-user-read": test_bola_user_read,
    "bola-user-update": test_bola_user_update,
    "bfla-user-delete": test_bfla_user_delete,
    "bfla-admin-user-list": test_bfla_admin_user_list,
    "bfla-admin-user-create": test_bfla_admin_user_create,
    "unauthenticated-admin-stats": test_unauthenticated_admin_stats,
    "mass-assignment-profile": test_mass_assignment_profile,
    "excessive-data-exposure": test_excessive_data_exposure,
    "jwt-weak-secret": test_jwt_weak_secret,
    "jwt-alg-none": test_jwt_alg_none,
    "jwt-expired-accepted": test_jwt_expired_accepted,
    "token-in-query": test_token_in_query,
    "login-user-enumeration": test_login_user_enumeration,
    "login-no-rate-limit": test_login_no_rate_limit,
    "nosql-operator-login": test_nosql_operator_login,
    "sqli-products-search": test_sqli_products_search,
    "os-command-injection-ping": test_os_command_injection_ping,
    "ssrf-webhook-test": test_ssrf_webhook_test,
    "ssrf-url-fetch": test_ssrf_url_fetch,
    "no-export-rate-limit": test_no_export_rate_limit,
    "cors-reflects-any-origin": test_cors_reflects_any_origin,
    "missing-security-headers": test_missing_security_headers,
    "version-disclosure-headers": test_version_disclosure_headers,
    "verbose-errors": test_verbose_errors,
    "debug-config-endpoint": test_debug_endpoint,
    "debug-actuator-endpoint": test_debug_endpoint,
    "unsupported-method-200": test_unsupported_method_200,
    "zombie-api-v1-users": test_zombie_api_v1,
    "zombie-api-v1-orders": test_zombie_api_v1,
    "shadow-internal-users": test_shadow_internal_users,
}
"""The test that shows each planted hole open in one variant and closed in the other."""
