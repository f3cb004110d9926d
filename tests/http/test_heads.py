"""The C module _heads compared with the Python code it replaces.

``scan_head`` must accept only heads that ``split_section`` and
``parse_field_lines`` accept, and return the same values for them.
``request_head`` and ``response_head`` must return the bytes that the
Python serializers write, and None wherever those raise. Both are checked
on hand-picked cases and on seeded mutations of valid heads.
"""

from __future__ import annotations

import random
from types import ModuleType

import pytest

from stockade.http import serialize
from stockade.http.errors import ProtocolError
from stockade.http.field_lines import parse_field_lines, split_section
from stockade.http.limits import ParserLimits
from stockade.http.parser import RequestParser
from tests.http.support import mutate_bytes
from tests.support.compiled import compiled_module

SEED = 20261205
MUTANTS_PER_HEAD = 3000
MAX_FIELDS = 8
MAX_TARGET = 24

INTERESTING_BYTES = b"\r\n\t \x00\x01\x7f\x80\xff:;,\"\\aAzZ09-_"

REQUEST_HEADS = [
    b"GET /items/1 HTTP/1.1\r\nHost: api.example\r\nUser-Agent: wrk",
    b"POST /up?x=1 HTTP/1.0\r\nContent-Length: 5",
    b"OPTIONS * HTTP/1.1\r\nHost: a",
    b"GET http://a.example/p HTTP/1.1\r\nHost: b",
    b"PROPFIND /caf\xe9 HTTP/1.1\r\nHost: a",
]

INVALID_REQUEST_HEADS = [
    b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example",
    b"GET /" + b"x" * MAX_TARGET + b" HTTP/1.1\r\nHost: a",
    b"GET / HTTP/1.2\r\nHost: a",
    b"GET / HTTP/2.0\r\nHost: a",
    b"GET  / HTTP/1.1\r\nHost: a",
    b"GET / HTTP/1.1 \r\nHost: a",
    b"GET /\t HTTP/1.1\r\nHost: a",
    b"GET /\x7f HTTP/1.1\r\nHost: a",
    b"G(T / HTTP/1.1\r\nHost: a",
    b" / HTTP/1.1\r\nHost: a",
    b"GET / HTTP/1.1\r\nHost a",
]

HEADS = [
    b"GET /items/1 HTTP/1.1\r\nHost: api.example\r\nUser-Agent: wrk",
    b"POST /up?x=1 HTTP/1.0\r\nContent-Length: 5",
    b"OPTIONS * HTTP/1.1\r\nHost: a",
    b"GET http://a.example/p HTTP/1.1\r\nHost: b",
    b"PROPFIND /caf\xe9 HTTP/1.1\r\nHost: a",
    b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example",
    b"GET /" + b"x" * MAX_TARGET + b" HTTP/1.1\r\nHost: a",
    b"GET / HTTP/1.2\r\nHost: a",
    b"GET  / HTTP/1.1\r\nHost: a",
    b"GET /\t HTTP/1.1\r\nHost: a",
]

HEADS = [
    b"GET /items/1 HTTP/1.1\r\nHost: api.example\r\nUser-Agent: wrk",
    b"POST /up HTTP/1.1\r\nhost: a\r\nContent-Length: 5\r\nExpect: 100-continue",
    b"PUT /x HTTP/1.1\r\nHOST: a\r\nTransfer-Encoding: chunked\r\nConnection: close, te",
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Empty:\r\nX-Pad: \t v \t",
    b"HTTP/1.0 204 No Content",
    b"OPTIONS * HTTP/1.0\r\nHost: a\r\nHost: b\r\nX-Obs: caf\xe9",
]


def compiled_heads() -> ModuleType:
    return compiled_module("http", "_heads")


def python_scan(head: bytes) -> tuple[object, ...] | None:
    """Return what the Python functions read from ``head``, or None when they raise."""
    try:
        lines = split_section(head, "request head", MAX_FIELDS, start_line=True)
        items, names, framing = parse_field_lines(lines[1:], "header")
    except ProtocolError:
        return None
    return lines[0], items, names, framing


def python_request_scan(head: bytes) -> tuple[object, ...] | None:
    """Return what the Python parser reads from a request head, or None when it raises."""
    parser = RequestParser(ParserLimits(max_header_count=MAX_FIELDS, max_target_bytes=MAX_TARGET))
    try:
        lines = split_section(head, "request head", MAX_FIELDS, start_line=True)
        method, target, version = parser._parse_request_line(lines[0])
        items, names, framing = parse_field_lines(lines[1:], "header")
    except ProtocolError:
        return None
    return method, target, version, items, names, framing


def mutate(data: bytes, rng: random.Random) -> bytes:
    return mutate_bytes(data, rng, INTERESTING_BYTES)


@pytest.mark.parametrize("head", HEADS)
def test_scan_head_valid_matches_python(head: bytes) -> None:
    heads = compiled_heads()
    expected = python_scan(head)
    assert expected is not None
    assert heads.scan_head(head, MAX_FIELDS) == expected


@pytest.mark.parametrize(
    "head",
    [
        b"GET / HTTP/1.1\r\nHost : a",  # whitespace before the colon
        b"GET / HTTP/1.1\r\n Host: a",  # whitespace before the first field
        b"GET / HTTP/1.1\r\nHost: a\r\n folded",  # obs-fold
        b"GET / HTTP/1.1\r\nHost a",  # no colon
        b"GET / HTTP/1.1\r\n: a",  # empty name
        b"GET / HTTP/1.1\r\nHo(st: a",  # not a token
        b"GET / HTTP/1.1\r\nHost: a\nX: b",  # bare LF
        b"GET / HTTP/1.1\r\nHost: a\rX: b",  # bare CR
        b"GET / HTTP/1.1\r\nHost: a\r",  # CR at the end
        b"GET / HTTP/1.1\r\nHost: a\x00b",  # NUL
        b"GET /\x7f HTTP/1.1\r\nHost: a",  # DEL in the start line
        b"GET / HTTP/1.1\r\nHost: a\r\n",  # an empty last line
        b"GET / HTTP/1.1" + b"\r\nX: y" * (MAX_FIELDS + 1),  # too many fields
    ],
)
def test_scan_head_invalid_returns_none(head: bytes) -> None:
    heads = compiled_heads()
    assert python_scan(head) is None
    assert heads.scan_head(head, MAX_FIELDS) is None


def test_scan_head_mutants_match_python() -> None:
    heads = compiled_heads()
    rng = random.Random(SEED)
    accepted = 0
    for head in HEADS:
        for _ in range(MUTANTS_PER_HEAD):
            mutant = mutate(head, rng)
            scanned = heads.scan_head(mutant, MAX_FIELDS)
            expected = python_scan(mutant)
            if scanned is None:
                continue  # the Python functions decide this head
            accepted += 1
            assert scanned == expected, mutant
    assert accepted > MUTANTS_PER_HEAD  # the mutants are not all rejected


@pytest.mark.parametrize("head", REQUEST_HEADS)
def test_scan_request_head_valid_matches_python(head: bytes) -> None:
    heads = compiled_heads()
    expected = python_request_scan(head)
    assert expected is not None
    assert heads.scan_request_head(head, MAX_FIELDS, MAX_TARGET) == expected


@pytest.mark.parametrize("head", INVALID_REQUEST_HEADS)
def test_scan_request_head_invalid_returns_none(head: bytes) -> None:
    heads = compiled_heads()
    assert python_request_scan(head) is None
    assert heads.scan_request_head(head, MAX_FIELDS, MAX_TARGET) is None


def test_scan_request_head_mutants_match_python() -> None:
    heads = compiled_heads()
    rng = random.Random(SEED)
    accepted = 0
    for head in REQUEST_HEADS + INVALID_REQUEST_HEADS:
        for _ in range(MUTANTS_PER_HEAD):
            mutant = mutate(head, rng)
            scanned = heads.scan_request_head(mutant, MAX_FIELDS, MAX_TARGET)
            expected = python_request_scan(mutant)
            if scanned is None:
                continue  # the Python parser decides this head
            accepted += 1
            assert scanned == expected, mutant
    assert accepted > MUTANTS_PER_HEAD


def test_kept_items_drops_listed_names() -> None:
    heads = compiled_heads()
    items = [(b"Host", b"a"), (b"Connection", b"close"), (b"X-Id", b"1"), (b"host", b"b")]
    names = [b"host", b"connection", b"x-id", b"host"]
    forwarded = heads.kept_items(items, names, frozenset({b"host", b"connection"}))
    assert forwarded == [(b"X-Id", b"1")]
    assert heads.kept_items(items, names, frozenset()) == items
    assert heads.kept_items(items, names, frozenset()) is not items
    assert heads.kept_items(items, names[:2], frozenset()) is None
    assert heads.kept_items(tuple(items), names, frozenset()) is None


def test_other_argument_types_left_to_python() -> None:
    heads = compiled_heads()
    head = bytearray(b"GET / HTTP/1.1\r\nHost: a")
    assert heads.scan_head(head, MAX_FIELDS) is None
    assert heads.scan_request_head(head, MAX_FIELDS, MAX_TARGET) is None
    assert heads.request_head(b"GET", b"/", ((b"Host", b"a"),)) is None
    assert heads.response_head(b"200", bytearray(b"OK"), []) is None
    with pytest.raises(TypeError):
        heads.scan_head(bytes(head))


ITEM_PARTS = [b"Host", b"X-Id", b"a", b"x y", b"x:y", b"", b"v\r", b"v\nw", b"v\x00", b"caf\xe9",
              b"\tv", b"x\x01"]


def python_head(monkeypatch: pytest.MonkeyPatch, write: object, *args: object) -> bytes | None:
    """Call a serializer with the compiled module switched off; None when it raises."""
    with monkeypatch.context() as patch:
        patch.setattr(serialize, "_heads", None)
        try:
            return write(*args)  # type: ignore[operator, no-any-return]
        except ValueError:
            return None


def test_request_head_matches_python(monkeypatch: pytest.MonkeyPatch) -> None:
    heads = compiled_heads()
    rng = random.Random(SEED)
    written = 0
    for _ in range(5000):
        method = rng.choice([b"GET", b"POST", b"G T", b"", b"GET\r", b"M\x00"])
        target = rng.choice([b"/items/1", b"/a?b=c", b"/ x", b"/x\n", b"*", b"/caf\xe9"])
        items = [(rng.choice(ITEM_PARTS), rng.choice(ITEM_PARTS))
                 for _ in range(rng.randint(0, 3))]
        expected = python_head(monkeypatch, serialize.serialize_request_head, method, target, items)
        result = heads.request_head(method, target, list(items))
        if result is not None:
            written += 1
            assert result == expected, (method, target, items)
        elif method and expected is not None:
            # Only an empty method is left to the Python code though valid.
            raise AssertionError((method, target, items))
    assert written > 100


def test_response_head_matches_python(monkeypatch: pytest.MonkeyPatch) -> None:
    heads = compiled_heads()
    rng = random.Random(SEED)
    written = 0
    for _ in range(5000):
        status = rng.choice([200, 204, 404, 599, 999])
        reason = rng.choice([b"OK", b"Not Found", b"", b"O\rK", b"O\nK", b"O\x00", b"\xe9 \t"])
        items = [(rng.choice(ITEM_PARTS), rng.choice(ITEM_PARTS))
                 for _ in range(rng.randint(0, 3))]
        expected = python_head(
            monkeypatch, serialize.serialize_response_head, status, reason, items)
        result = heads.response_head(b"%d" % status, reason, list(items))
        assert result == expected, (status, reason, items)
        written += result is not None
    assert written > 100


def test_serializers_use_compiled_module() -> None:
    compiled_heads()
    assert vars(serialize)["_heads"] is not None
    head = serialize.serialize_request_head(b"GET", b"/x", [(b"Host", b"a")])
    assert head == b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n"


class StubHeads:
    """A stand-in for the compiled module that writes a marker instead of a head."""

    def request_head(self, *args: object) -> bytes:
        return b"stub"


def test_python_head_switch_reaches_serializer(monkeypatch: pytest.MonkeyPatch) -> None:
    # python_head replaces serialize._heads; this checks that the serializers
    # read the replacement, so the comparisons above run the Python code.
    monkeypatch.setattr(serialize, "_heads", StubHeads())
    assert serialize.serialize_request_head(b"GET", b"/x", []) == b"stub"
