"""Malformed framing sent over real sockets to a running gateway, both directions.

One gateway process and one loopback upstream serve the whole module. Each
variant is sent raw; the test checks the status line, that the gateway
closes the connection, and that the upstream received nothing. The variants
are the parser tests' table, and the gateway runs with the same limits.

The gateway reads a chunked body (up to its buffering cap) before it
contacts the upstream, so a request whose head is valid but whose chunks are
malformed does not reach the upstream either. After such a case, a valid
request must still arrive whole.

A second gateway sits in front of a scripted upstream that sends malformed
responses. The client must get 502, or a cut-off response when only the body
is bad, and the upstream connection that carried it must not be reused.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stockade.http.errors import ProtocolError
from stockade.http.messages import RequestHead
from stockade.http.parser import RequestParser
from tests.http.framing_cases import CASE_LIMITS, HOST, Malformed, case_id, cases, post
from tests.support.client import connect, read_response
from tests.support.gateway import GatewayProcess, service_config
from tests.support.upstream import TestUpstream

CLOSE_TIMEOUT = 5.0
"""Seconds the gateway gets to close the connection after an error response."""

SETTLE_SECONDS = 0.05
"""Pause before reading what the upstream recorded, so a wrongly forwarded request shows."""


@pytest.fixture(scope="module")
def upstream() -> Iterator[TestUpstream]:
    server = TestUpstream().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gateway(upstream: TestUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    config = service_config([upstream.address], host=HOST.decode("ascii"))
    config["limits"] = {
        "max_header_bytes": CASE_LIMITS.max_header_bytes,
        "max_header_count": CASE_LIMITS.max_header_count,
        "max_target_bytes": CASE_LIMITS.max_target_bytes,
        "max_chunk_extension_bytes": CASE_LIMITS.max_chunk_extension_bytes,
        "max_body_bytes": CASE_LIMITS.max_body_bytes,
    }
    folder: Path = tmp_path_factory.mktemp("framing-gateway")
    process = GatewayProcess(config, folder).start()
    yield process.port
    process.stop()


def receive_until_close(sock: socket.socket) -> tuple[bytes, bool]:
    """Return what the gateway sent and whether it closed within CLOSE_TIMEOUT."""
    sock.settimeout(CLOSE_TIMEOUT)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        return received, True
    except TimeoutError:
        return received, False
    return received, True


def head_is_valid(case: Malformed) -> bool:
    """Return whether the request's head parses, so only its body is malformed."""
    parser = RequestParser(CASE_LIMITS)
    parser.feed(case.data)
    try:
        return isinstance(parser.next_event(), RequestHead)
    except ProtocolError:
        return False


def send_valid_request(port: int) -> None:
    with connect(port) as sock:
        sock.sendall(post(b"Content-Length: 5", b"Connection: close", body=b"hello"))
        assert read_response(sock).status == 200


def assert_rejected(port: int, upstream: TestUpstream, case: Malformed) -> None:
    requests_before = len(upstream.requests)
    bytes_before = len(upstream.raw_bytes)
    with connect(port) as sock:
        sock.sendall(case.data)
        received, closed = receive_until_close(sock)
    status_line = received.partition(b"\r\n")[0]
    assert status_line.startswith(b"HTTP/1.1 %d " % case.status), received[:300]
    assert closed, "the gateway kept the connection open after a framing error"
    assert b"\r\nconnection: close\r\n" in received.lower()
    time.sleep(SETTLE_SECONDS)
    assert len(upstream.requests) == requests_before
    assert len(upstream.raw_bytes) == bytes_before, "part of the request reached the upstream"
    if not head_is_valid(case):
        return
    # A valid request sent next must arrive whole: had the gateway left a
    # half-sent message on a pooled connection, the upstream would read the
    # new request as the rest of the broken body.
    send_valid_request(port)
    assert len(upstream.requests) == requests_before + 1
    assert upstream.requests[-1].body == b"hello"


def test_valid_request_reaches_upstream(gateway: int, upstream: TestUpstream) -> None:
    # The counterpart of every case below: the same gateway forwards a
    # well-formed request, so "upstream received nothing" can fail.
    requests_before = len(upstream.requests)
    with connect(gateway) as sock:
        sock.sendall(post(b"Content-Length: 5", b"Connection: close", body=b"hello"))
        response = read_response(sock)
    assert response.status == 200
    assert len(upstream.requests) == requests_before + 1
    assert upstream.requests[-1].body == b"hello"


@pytest.mark.parametrize("case", cases(1), ids=case_id)
def test_case01_content_length_with_transfer_encoding(
    gateway: int, upstream: TestUpstream, case: Malformed
) -> None:
    assert_rejected(gateway, upstream, case)


@pytest.mark.parametrize("case", cases(2), ids=case_id)
def test_case02_duplicate_content_length(
    gateway: int, upstream: TestUpstream, case: Malformed
) -> None:
    assert_rejected(gateway, upstream, case)


@pytest.mark.parametrize("case", cases(3), ids=case_id)
def test_case03_content_length_not_digits(
    gateway: int, upstream: TestUpstream, case: Malformed
) -> None:
    assert_rejected(gateway, upstream, case)


@pytest.mark.parametrize("case", cases(4), ids=case_id)
def test_case04_transfer_encoding_not_exactly_chunked(
    gateway: int, upstream: TestUpstream, case: Malformed
) -> None:
    assert_rejected(gateway, upstream, case)


@pytest.mark.parametrize("case", cases(5), ids=case_id)
def test_case05_transfer_encoding_in_http10(
    gateway: int, upstream: TestUpstream, case: Malformed
) -> None:
    assert_rejected(gateway, upstream, case)


@pytest.mark.parametrize("case", cases(6), ids=case_id)
def test_case06_whitespace_before_colon(
    gateway: int, upstream: TestUpstream, case: Malformed
) -> None:
    assert_rejected(gateway, upstream, case)


@pytest.mark.parametrize("case", cases(7), ids=case_id)
def test_case07_obs_fold(gateway: int, upstream: TestUpstream, case: Malformed) -> None:
    assert_rejected(gateway, upstream, case)


@pytest.mark.parametrize("case", cases(8), ids=case_id)
def test_case08_bare_cr_and_control_characters(
    gateway: int, upstream: TestUpstream, case: Malformed
) -> None:
    assert_rejected(gateway, upstream, case)


@pytest.mark.parametrize("case", cases(9), ids=case_id)
def test_case09_bare_lf_line_ends(gateway: int, upstream: TestUpstream, case: Malformed) -> None:
    assert_rejected(gateway, upstream, case)


@pytest.mark.parametrize("case", cases(10), ids=case_id)
def test_case10_invalid_chunk_size(gateway: int, upstream: TestUpstream, case: Malformed) -> None:
    assert_rejected(gateway, upstream, case)


@pytest.mark.parametrize("case", cases(11), ids=case_id)
def test_case11_invalid_chunk_extension(
    gateway: int, upstream: TestUpstream, case: Malformed
) -> None:
    assert_rejected(gateway, upstream, case)


@pytest.mark.parametrize("case", cases(12), ids=case_id)
def test_case12_chunk_data_and_size_disagree(
    gateway: int, upstream: TestUpstream, case: Malformed
) -> None:
    assert_rejected(gateway, upstream, case)


@pytest.mark.parametrize("case", cases(13), ids=case_id)
def test_case13_forbidden_trailer_fields(
    gateway: int, upstream: TestUpstream, case: Malformed
) -> None:
    assert_rejected(gateway, upstream, case)


@pytest.mark.parametrize("case", cases(14), ids=case_id)
def test_case14_missing_multiple_or_invalid_host(
    gateway: int, upstream: TestUpstream, case: Malformed
) -> None:
    assert_rejected(gateway, upstream, case)


@pytest.mark.parametrize("case", cases(15), ids=case_id)
def test_case15_request_line_oddities(
    gateway: int, upstream: TestUpstream, case: Malformed
) -> None:
    assert_rejected(gateway, upstream, case)


@pytest.mark.parametrize("case", cases(16), ids=case_id)
def test_case16_whitespace_prefixed_first_field_line(
    gateway: int, upstream: TestUpstream, case: Malformed
) -> None:
    assert_rejected(gateway, upstream, case)


@pytest.mark.parametrize("case", cases(17), ids=case_id)
def test_case17_connection_names_protected_field(
    gateway: int, upstream: TestUpstream, case: Malformed
) -> None:
    assert_rejected(gateway, upstream, case)


def test_case18_body_on_get_forwarded_by_its_framing(gateway: int, upstream: TestUpstream) -> None:
    # The body of a GET is framed by Content-Length like any other body.
    # The bytes after it are the next request, never part of the first one.
    requests_before = len(upstream.requests)
    data = (b"GET /echo HTTP/1.1\r\nHost: a.example\r\nContent-Length: 5\r\n\r\nhello"
            b"GET /echo HTTP/1.1\r\nHost: a.example\r\nContent-Length: 0\r\n\r\n"
            b"GET /echo HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n")
    with connect(gateway) as sock:
        sock.sendall(data)
        responses = [read_response(sock) for _ in range(3)]
    assert [response.status for response in responses] == [200, 200, 200]
    lengths = [json.loads(response.body)["body_length"] for response in responses]
    assert lengths == [5, 0, 0]
    assert len(upstream.requests) == requests_before + 3


def test_case19_early_rejection_with_expect_closes(gateway: int, upstream: TestUpstream) -> None:
    # The request is rejected before its body is read (no service for the
    # host), so the unread body must not be parsed as a next request.
    requests_before = len(upstream.requests)
    body = b"GET /x\r\n\r\n"  # within the 10-byte body limit of this gateway
    head = (b"POST / HTTP/1.1\r\nHost: unknown.example\r\nExpect: 100-continue\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body))
    with connect(gateway) as sock:
        sock.sendall(head)
        time.sleep(0.2)  # let the gateway respond before the body arrives
        try:
            sock.sendall(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        received, closed = receive_until_close(sock)
    assert received.startswith(b"HTTP/1.1 404 "), received[:300]
    assert b"HTTP/1.1 100" not in received
    assert closed
    assert len(upstream.requests) == requests_before


@pytest.mark.parametrize("case", cases(20), ids=case_id)
def test_case20_limits(gateway: int, upstream: TestUpstream, case: Malformed) -> None:
    assert_rejected(gateway, upstream, case)


@pytest.mark.parametrize("case", cases(21), ids=case_id)
def test_case21_http2_preface_rejected(
    gateway: int, upstream: TestUpstream, case: Malformed
) -> None:
    assert_rejected(gateway, upstream, case)


# Upstream side: malformed responses ---------------------------------------

GOOD_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

BAD_RESPONSE_HEADS = {
    "cl-and-te": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"0\r\n\r\n",
    "duplicate-cl": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
    "signed-cl": b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok",
    "te-gzip": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nok",
    "bare-lf": b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
    "obs-fold": b"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\nok",
    "four-digit-status": b"HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok",
    "connection-names-cl": b"HTTP/1.1 200 OK\r\nConnection: content-length\r\n"
                           b"Content-Length: 2\r\n\r\nok",
    "switching-protocols": b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
}
"""Responses whose head is malformed: the client gets 502."""

BAD_RESPONSE_BODIES = {
    "chunk-size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n",
    "chunk-longer-than-size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                              b"2\r\nokk\r\n0\r\n\r\n",
    "forbidden-trailer": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"2\r\nok\r\n0\r\nContent-Length: 3\r\n\r\n",
}
"""Responses whose body is malformed after a valid head, which may already be relayed."""

UPSTREAM_HOST = "b.example"


class ScriptedUpstream:
    """A loopback upstream that sends fixed raw bytes per request path.

    It records, for every request, the path and the number of the connection
    that carried it, so a test can tell whether the gateway reused a connection.
    """

    def __init__(self, responses: dict[str, bytes]) -> None:
        self.responses = responses
        self.seen: list[tuple[int, str]] = []
        self._connections = 0
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._server.getsockname()[1])
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def start(self) -> ScriptedUpstream:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.close()
        self._thread.join(5)

    def connection_of(self, path: str) -> int:
        return next(number for number, seen_path in self.seen if seen_path == path)

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            with self._lock:
                self._connections += 1
                number = self._connections
            threading.Thread(target=self._serve, args=(connection, number), daemon=True).start()

    def _serve(self, connection: socket.socket, number: int) -> None:
        buffer = b""
        with connection:
            try:
                while True:
                    while b"\r\n\r\n" not in buffer:
                        chunk = connection.recv(65536)
                        if not chunk:
                            return
                        buffer += chunk
                    head, _, buffer = buffer.partition(b"\r\n\r\n")
                    path = head.split(b" ")[1].decode("latin-1")
                    with self._lock:
                        self.seen.append((number, path))
                    connection.sendall(self.responses.get(path, GOOD_RESPONSE))
            except OSError:
                return


@pytest.fixture(scope="module")
def scripted_gateway(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[int, ScriptedUpstream]]:
    responses = {f"/{name}": data for name, data in BAD_RESPONSE_HEADS.items()}
    responses.update({f"/{name}": data for name, data in BAD_RESPONSE_BODIES.items()})
    upstream = ScriptedUpstream(responses).start()
    config = service_config([f"127.0.0.1:{upstream.port}"], host=UPSTREAM_HOST)
    upstream_section = config["tenants"][0]["services"][0]["upstream"]
    upstream_section["retries"] = 0
    # Every case is an upstream failure; ejecting the target would fail the next case.
    upstream_section["passive_health"] = {"max_failures": 1000}
    folder: Path = tmp_path_factory.mktemp("scripted-gateway")
    process = GatewayProcess(config, folder).start()
    yield process.port, upstream
    process.stop()
    upstream.stop()


def get_from(port: int, path: str) -> tuple[bytes, bool]:
    with connect(port) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {UPSTREAM_HOST}\r\nConnection: close\r\n\r\n"
                     .encode("ascii"))
        return receive_until_close(sock)


def assert_connection_not_reused(port: int, upstream: ScriptedUpstream, bad_path: str) -> None:
    received, _ = get_from(port, "/after")
    assert received.startswith(b"HTTP/1.1 200 "), received[:300]
    assert upstream.seen[-1][1] == "/after"
    assert upstream.seen[-1][0] != upstream.connection_of(bad_path)


@pytest.mark.parametrize("name", sorted(BAD_RESPONSE_HEADS))
def test_malformed_response_head_is_bad_gateway(
    scripted_gateway: tuple[int, ScriptedUpstream], name: str
) -> None:
    port, upstream = scripted_gateway
    received, _ = get_from(port, f"/{name}")
    assert received.startswith(b"HTTP/1.1 502 "), received[:300]
    assert_connection_not_reused(port, upstream, f"/{name}")


@pytest.mark.parametrize("name", sorted(BAD_RESPONSE_BODIES))
def test_malformed_response_body_cuts_the_response(
    scripted_gateway: tuple[int, ScriptedUpstream], name: str
) -> None:
    port, upstream = scripted_gateway
    received, closed = get_from(port, f"/{name}")
    assert closed
    # The head may have been relayed before the body failed; a complete
    # chunked response must not have been.
    assert not received.endswith(b"0\r\n\r\n"), received[:300]
    assert_connection_not_reused(port, upstream, f"/{name}")
