"""Malformed request framing, one table shared by the parser tests and the e2e tests.

Each entry is a raw request and the status the gateway responds with before
closing the connection. The numbers group the variants by framing problem;
``CASE_TITLES`` names each group. Every request uses Host ``a.example``, so a
gateway that wrongly accepted one would route it to its upstream.
"""

from __future__ import annotations

from dataclasses import dataclass

from stockade.http.parser import ParserLimits

HOST = b"a.example"

CASE_LIMITS = ParserLimits(
    max_header_bytes=2048,
    max_header_count=20,
    max_target_bytes=256,
    max_chunk_extension_bytes=4096,
    max_body_bytes=10,
)
"""Limits every case is written against; the e2e gateway is configured with the same."""

CASE_TITLES = {
    1: "Content-Length with Transfer-Encoding",
    2: "duplicate Content-Length",
    3: "Content-Length not 1*DIGIT",
    4: "Transfer-Encoding not exactly chunked",
    5: "Transfer-Encoding in HTTP/1.0",
    6: "whitespace before the colon",
    7: "obs-fold",
    8: "bare CR and control characters",
    9: "bare LF line ends",
    10: "invalid chunk size",
    11: "invalid chunk extension",
    12: "chunk data and size disagree",
    13: "forbidden trailer fields",
    14: "missing, multiple or invalid Host",
    15: "request-line oddities",
    16: "whitespace-prefixed first field line",
    17: "Connection names a protected field",
    20: "limits",
    21: "HTTP/2 connection preface",
}


@dataclass(frozen=True)
class Malformed:
    case: int
    name: str
    data: bytes
    status: int = 400


def post(*field_lines: bytes, body: bytes = b"", version: bytes = b"HTTP/1.1") -> bytes:
    """Return a POST request with Host ``a.example`` and the given extra field lines."""
    fields = b"".join(line + b"\r\n" for line in field_lines)
    return b"POST /upload " + version + b"\r\nHost: " + HOST + b"\r\n" + fields + b"\r\n" + body


def get(target: bytes = b"/", *field_lines: bytes, version: bytes = b"HTTP/1.1") -> bytes:
    """Return a GET request with exactly the given field lines (no Host added)."""
    fields = b"".join(line + b"\r\n" for line in field_lines)
    return b"GET " + target + b" " + version + b"\r\n" + fields + b"\r\n"


def chunked(body: bytes) -> bytes:
    return post(b"Transfer-Encoding: chunked", body=body)


def line(request_line: bytes) -> bytes:
    """Return a request with ``request_line`` as given and a valid Host."""
    return request_line + b"\r\nHost: " + HOST + b"\r\n\r\n"


TE = b"Transfer-Encoding: "
CL = b"Content-Length: "

MALFORMED: list[Malformed] = [
    Malformed(1, "cl-then-te", post(CL + b"5", TE + b"chunked", body=b"0\r\n\r\n")),
    Malformed(1, "te-then-cl", post(TE + b"chunked", CL + b"5", body=b"0\r\n\r\n")),
    Malformed(1, "te-gzip-and-cl", post(TE + b"gzip, chunked", CL + b"5", body=b"hello")),
    Malformed(1, "cl-zero-and-te", post(CL + b"0", TE + b"chunked", body=b"0\r\n\r\n")),

    Malformed(2, "different", post(CL + b"5", CL + b"7", body=b"hello")),
    Malformed(2, "identical", post(CL + b"5", CL + b"5", body=b"hello")),
    Malformed(2, "list-different", post(CL + b"5, 7", body=b"hello")),
    Malformed(2, "list-identical", post(CL + b"5, 5", body=b"hello")),
    Malformed(2, "case-differs", post(CL + b"5", b"content-length: 5", body=b"hello")),

    *[
        Malformed(3, name, post(CL + value, body=b"hello"))
        for name, value in [
            ("plus", b"+5"), ("minus-zero", b"-0"), ("hex", b"0x10"), ("underscore", b"1_0"),
            ("inner-space", b"5 5"), ("empty", b""), ("decimal", b"5.0"), ("exponent", b"1e3"),
            ("arabic-digit", b"\xd9\xa1"), ("nineteen-digits", b"1" * 19),
            ("huge", b"9" * 32),
        ]
    ],

    *[
        Malformed(4, name, post(TE + value, body=b"0\r\n\r\n"), status)
        for name, value, status in [
            ("chunked-not-final", b"chunked, gzip", 400), ("xchunked", b"xchunked", 400),
            ("parameter", b"chunked;x=y", 400), ("leading-comma", b",chunked", 400),
            ("trailing-comma", b"chunked,", 400), ("nul", b"chunked\x00", 400),
            ("vertical-tab", b"\x0bchunked", 400), ("form-feed", b"\x0cchunked", 400),
            ("empty", b"", 400), ("identity", b"identity", 400),
            ("chunked-twice", b"chunked, chunked", 400),
            ("space-separated", b"chunked chunked", 400),
            ("gzip-then-chunked", b"gzip, chunked", 501),
            ("unknown-then-chunked", b"x-custom, chunked", 501),
        ]
    ],
    Malformed(4, "two-lines", post(TE + b"chunked", TE + b"chunked", body=b"0\r\n\r\n")),

    Malformed(5, "chunked", post(TE + b"chunked", body=b"0\r\n\r\n", version=b"HTTP/1.0")),
    Malformed(5, "gzip", post(TE + b"gzip", body=b"0\r\n\r\n", version=b"HTTP/1.0")),
    Malformed(5, "with-content-length",
              post(TE + b"chunked", CL + b"5", body=b"0\r\n\r\n", version=b"HTTP/1.0")),

    Malformed(6, "space-te", post(b"Transfer-Encoding : chunked", body=b"0\r\n\r\n")),
    Malformed(6, "tab-cl", post(b"Content-Length\t: 5", body=b"hello")),
    Malformed(6, "space-host", get(b"/", b"Host : " + HOST)),
    Malformed(6, "two-spaces", post(b"X-Anything  : 1")),

    Malformed(7, "space-fold", post(b"X-Note: a", b"  b")),
    Malformed(7, "tab-fold", post(b"X-Note: a", b"\tb")),
    Malformed(7, "folded-te", post(b"Transfer-Encoding:", b" chunked", body=b"0\r\n\r\n")),
    Malformed(7, "folded-cl", post(b"Content-Length:", b"\t5", body=b"hello")),

    Malformed(8, "cr-in-value", post(b"X-Note: a\rb")),
    Malformed(8, "cr-before-crlf", post(b"X-Note: a\r")),
    Malformed(8, "cr-in-request-line", line(b"GET /\r HTTP/1.1")),
    Malformed(8, "cr-cr-lf", b"GET / HTTP/1.1\r\nHost: a.example\r\r\n\r\n"),
    Malformed(8, "nul-in-value", post(b"X-Note: a\x00b")),
    Malformed(8, "nul-alone", post(b"X-Note: \x00")),
    Malformed(8, "soh-in-value", post(b"X-Note: a\x01b")),
    Malformed(8, "del-in-value", post(b"X-Note: a\x7fb")),
    Malformed(8, "cr-in-final-line", b"GET / HTTP/1.1\r\nHost: a.example\r\n\r\r\n"),

    Malformed(9, "request-line", b"GET / HTTP/1.1\nHost: a.example\r\n\r\n"),
    Malformed(9, "field-line", b"GET / HTTP/1.1\r\nHost: a.example\n\r\n"),
    Malformed(9, "final-line", b"GET / HTTP/1.1\r\nHost: a.example\r\n\n"),
    Malformed(9, "all-lines", b"GET / HTTP/1.1\nHost: a.example\n\n"),
    Malformed(9, "lf-in-value", post(b"X-Note: a\nb")),

    *[
        Malformed(10, name, chunked(size + b"\r\nx\r\n0\r\n\r\n"))
        for name, size in [
            ("hex-prefix", b"0x1"), ("plus", b"+1"), ("minus", b"-1"), ("underscore", b"1_0"),
            ("leading-space", b" 1"), ("trailing-space", b"1 "), ("leading-tab", b"\t1"),
            ("trailing-tab", b"1\t"), ("empty", b""), ("not-hex", b"g"),
            ("seventeen-digits", b"1" * 17), ("seventeen-zeros", b"0" * 17),
        ]
    ],

    *[
        Malformed(11, name, chunked(b"1" + extension + b"\r\nx\r\n0\r\n\r\n"))
        for name, extension in [
            ("bare-semicolon", b";"), ("double-semicolon", b";;"), ("no-name", b";=v"),
            ("empty-value", b";a="), ("space-in-name", b";a b"),
            ("unterminated-quote", b';a="open'), ("nul-in-quote", b';a="x\x00"'),
            ("bare-cr", b";a\rb"), ("nul", b";a\x00"), ("trailing-space", b";a=b "),
            ("junk-after-quote", b';a="x" y'), ("two-equals", b";a=b=c"),
            ("control-in-quoted-pair", b';a="\\\x01"'), ("too-long", b";a=" + b"b" * 4096),
        ]
    ],

    *[
        Malformed(12, name, chunked(body))
        for name, body in [
            ("longer-than-size", b"5\r\nabcdefg\r\n0\r\n\r\n"),
            ("no-crlf", b"5\r\nabcde0\r\n\r\n"),
            ("lf-only", b"5\r\nabcde\n0\r\n\r\n"),
            ("cr-then-junk", b"5\r\nabcde\rX0\r\n\r\n"),
            ("shorter-than-size", b"5\r\nabc\r\n0\r\n\r\n"),
            ("last-chunk-lf", b"0\r\n\n"),
        ]
    ],

    *[
        Malformed(13, name, chunked(b"3\r\nabc\r\n0\r\n" + trailer + b"\r\n\r\n"))
        for name, trailer in [
            ("content-length", b"Content-Length: 5"),
            ("transfer-encoding", b"Transfer-Encoding: chunked"),
            ("host", b"Host: b.example"), ("authorization", b"Authorization: Bearer x"),
            ("content-type", b"Content-Type: text/plain"),
            ("lower-case", b"content-type: text/plain"),
        ]
    ],

    Malformed(14, "missing", get(b"/")),
    Malformed(14, "duplicate-same", get(b"/", b"Host: a.example", b"Host: a.example")),
    Malformed(14, "duplicate-different", get(b"/", b"Host: a.example", b"Host: b.example")),
    *[
        Malformed(14, name, get(b"/", b"Host: " + host))
        for name, host in [
            ("empty", b""), ("space", b"a b"), ("slash", b"a/b"), ("userinfo", b"user@a.example"),
            ("comma-list", b"a.example,b.example"), ("empty-port", b"a.example:"),
            ("named-port", b"a.example:http"), ("port-too-large", b"a.example:65536"),
            ("unclosed-ipv6", b"[::1"), ("name-in-brackets", b"[a.example]"),
            ("percent-encoded", b"a%2eexample"),
        ]
    ],
    Malformed(14, "absolute-without-host", get(b"http://a.example/")),
    Malformed(14, "absolute-userinfo", get(b"http://user@a.example/", b"Host: a.example")),
    Malformed(14, "absolute-empty-authority", get(b"http:///x", b"Host: a.example")),

    *[
        Malformed(15, name, line(request_line), status)
        for name, request_line, status in [
            ("double-space-1", b"GET  / HTTP/1.1", 400),
            ("double-space-2", b"GET /  HTTP/1.1", 400),
            ("tab-1", b"GET\t/ HTTP/1.1", 400),
            ("tab-2", b"GET /\tHTTP/1.1", 400),
            ("vertical-tab", b"GET\x0b/ HTTP/1.1", 400),
            ("form-feed", b"GET\x0c/ HTTP/1.1", 400),
            ("leading-space", b" GET / HTTP/1.1", 400),
            ("trailing-space", b"GET / HTTP/1.1 ", 400),
            ("version-1.32", b"GET / HTTP/1.32", 400),
            ("lower-case-version", b"GET / http/1.1", 400),
            ("version-1.1.1", b"GET / HTTP/1.1.1", 400),
            ("no-version", b"GET /", 400),
            ("method-paren", b"G(T / HTTP/1.1", 400),
            ("method-non-ascii", b"G\xc3\x89T / HTTP/1.1", 400),
            ("lf-in-target", b"GET /a\nb HTTP/1.1", 400),
            ("control-in-target", b"GET /a\x01b HTTP/1.1", 400),
            ("fragment", b"GET /a#b HTTP/1.1", 400),
            ("asterisk-for-get", b"GET * HTTP/1.1", 400),
            ("authority-form-get", b"GET a.example:80 HTTP/1.1", 400),
            ("relative-target", b"GET a/b HTTP/1.1", 400),
            ("ftp-scheme", b"GET ftp://a.example/ HTTP/1.1", 400),
            ("version-1.2", b"GET / HTTP/1.2", 400),
            ("version-0.9", b"GET / HTTP/0.9", 505),
            ("version-2.0", b"GET / HTTP/2.0", 505),
            ("connect", b"CONNECT a.example:443 HTTP/1.1", 501),
        ]
    ],

    Malformed(16, "tab-content-length",
              b"POST / HTTP/1.1\r\n\tContent-Length: 1\r\nHost: a.example\r\n\r\nx"),
    Malformed(16, "space-host", b"POST / HTTP/1.1\r\n Host: a.example\r\nHost: a.example\r\n\r\n"),

    *[
        Malformed(17, name, post(CL + b"5", b"Connection: " + value, body=b"hello"))
        for name, value in [
            ("content-length", b"Content-Length"), ("transfer-encoding", b"transfer-encoding"),
            ("host", b"HOST"), ("authorization", b"Authorization"),
            ("in-list-1", b"keep-alive, Content-Length"), ("in-list-2", b"close,Transfer-Encoding"),
            ("not-a-token", b"close, a/b"),
        ]
    ],

    Malformed(20, "target", line(b"GET /" + b"a" * 256 + b" HTTP/1.1"), 414),
    Malformed(20, "target-incomplete", b"GET /" + b"a" * 300, 414),
    Malformed(20, "head", get(b"/", b"Host: a.example", b"X-Pad: " + b"a" * 2100), 431),
    Malformed(20, "head-incomplete", b"GET / HTTP/1.1\r\nHost: a.example\r\nX-Pad: " + b"a" * 2100,
              431),
    Malformed(20, "field-count", get(b"/", b"Host: a.example", *[b"X-A: 1"] * 20), 431),
    Malformed(20, "content-length", post(CL + b"11", body=b"hello world"), 413),
    Malformed(20, "chunked-body", chunked(b"6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n"), 413),
    Malformed(20, "trailer-bytes", chunked(b"3\r\nabc\r\n0\r\nX-Pad: " + b"a" * 2100 + b"\r\n\r\n"),
              431),
    Malformed(20, "trailer-count", chunked(b"3\r\nabc\r\n0\r\n" + b"X-A: 1\r\n" * 21 + b"\r\n"),
              431),

    # Stockade speaks HTTP/1.1 only, so there is no HTTP/2 to HTTP/1.1
    # downgrade to check; an HTTP/2 connection preface gets 505.
    Malformed(21, "prior-knowledge-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
]


def cases(number: int) -> list[Malformed]:
    """Return the variants of one framing case."""
    return [case for case in MALFORMED if case.case == number]


def case_id(case: Malformed) -> str:
    return case.name
