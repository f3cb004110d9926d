"""List which malformed requests httptools (llhttp) accepts and Stockade rejects.

Run: python bench/httptools_framing_cases.py

Each request is fed whole to both parsers. For httptools, "accepted" means
feed_data raised no error. What it made of the request (messages completed,
body bytes) is printed beside it, because request smuggling needs exactly an
accepted request that a strict peer reads differently.
"""

from __future__ import annotations

import httptools

from stockade.http.errors import ProtocolError
from stockade.http.messages import NEED_DATA, Data, EndOfMessage
from stockade.http.parser import ParserLimits, RequestParser

HOST = b"Host: a.example\r\n"


def post(field_lines: bytes, body: bytes, version: bytes = b"HTTP/1.1") -> bytes:
    return b"POST / " + version + b"\r\n" + HOST + field_lines + b"\r\n" + body


CHUNKED = b"Transfer-Encoding: chunked\r\n"

CASES: list[tuple[str, bytes]] = [
    ("01 CL + TE", post(b"Content-Length: 5\r\n" + CHUNKED, b"0\r\n\r\n")),
    ("02 duplicate CL, different", post(b"Content-Length: 5\r\nContent-Length: 7\r\n", b"hello")),
    ("02 duplicate CL, identical", post(b"Content-Length: 5\r\nContent-Length: 5\r\n", b"hello")),
    ("02 CL list 5, 5", post(b"Content-Length: 5, 5\r\n", b"hello")),
    ("03 CL +5", post(b"Content-Length: +5\r\n", b"hello")),
    ("03 CL 0x5", post(b"Content-Length: 0x5\r\n", b"hello")),
    ("03 CL 20 digits", post(b"Content-Length: " + b"9" * 20 + b"\r\n", b"hello")),
    ("04 TE chunked, gzip", post(b"Transfer-Encoding: chunked, gzip\r\n", b"0\r\n\r\n")),
    ("04 TE xchunked", post(b"Transfer-Encoding: xchunked\r\n", b"0\r\n\r\n")),
    ("04 TE chunked;x=y", post(b"Transfer-Encoding: chunked;x=y\r\n", b"0\r\n\r\n")),
    ("04 TE ,chunked", post(b"Transfer-Encoding: ,chunked\r\n", b"0\r\n\r\n")),
    ("04 TE gzip, chunked", post(b"Transfer-Encoding: gzip, chunked\r\n", b"0\r\n\r\n")),
    ("04 TE twice", post(CHUNKED + CHUNKED, b"0\r\n\r\n")),
    ("04 TE empty", post(b"Transfer-Encoding:\r\n", b"")),
    ("04 TE VT before chunked", post(b"Transfer-Encoding: \x0bchunked\r\n", b"0\r\n\r\n")),
    ("05 TE in HTTP/1.0", post(CHUNKED, b"0\r\n\r\n", b"HTTP/1.0")),
    ("06 space before colon", post(b"Transfer-Encoding : chunked\r\n", b"0\r\n\r\n")),
    ("07 obs-fold", post(b"X-A: a\r\n b\r\n", b"")),
    ("07 folded TE", post(b"Transfer-Encoding:\r\n chunked\r\n", b"0\r\n\r\n")),
    ("08 bare CR in value", post(b"X-A: a\rb\r\n", b"")),
    ("08 NUL in value", post(b"X-A: a\x00b\r\n", b"")),
    ("09 bare LF line ends", b"GET / HTTP/1.1\nHost: a.example\n\n"),
    ("10 chunk size 0x1", post(CHUNKED, b"0x1\r\nx\r\n0\r\n\r\n")),
    ("10 chunk size with trailing space", post(CHUNKED, b"1 \r\nx\r\n0\r\n\r\n")),
    ("10 chunk size 17 digits", post(CHUNKED, b"0" * 16 + b"1\r\nx\r\n0\r\n\r\n")),
    ("11 bare ; extension", post(CHUNKED, b"1;\r\nx\r\n0\r\n\r\n")),
    ("11 bare CR in extension", post(CHUNKED, b"1;a\rb\r\nx\r\n0\r\n\r\n")),
    ("11 5000-byte extension", post(CHUNKED, b"1;a=" + b"b" * 5000 + b"\r\nx\r\n0\r\n\r\n")),
    ("12 chunk longer than size", post(CHUNKED, b"1\r\nxyz\r\n0\r\n\r\n")),
    ("12 chunk data ends with LF", post(CHUNKED, b"1\r\nx\n0\r\n\r\n")),
    ("13 Content-Length trailer", post(CHUNKED, b"0\r\nContent-Length: 5\r\n\r\n")),
    ("14 missing Host", b"GET / HTTP/1.1\r\n\r\n"),
    ("14 two Host fields", b"GET / HTTP/1.1\r\n" + HOST + b"Host: b.example\r\n\r\n"),
    ("14 invalid Host", b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n"),
    ("15 two spaces", b"GET  / HTTP/1.1\r\n" + HOST + b"\r\n"),
    ("15 TAB separator", b"GET\t/ HTTP/1.1\r\n" + HOST + b"\r\n"),
    ("15 HTTP/1.32", b"GET / HTTP/1.32\r\n" + HOST + b"\r\n"),
    ("15 method G(T", b"G(T / HTTP/1.1\r\n" + HOST + b"\r\n"),
    ("15 control in target", b"GET /a\x01b HTTP/1.1\r\n" + HOST + b"\r\n"),
    ("16 TAB-prefixed first field line",
     b"POST / HTTP/1.1\r\n\tContent-Length: 1\r\n" + HOST + b"\r\nx"),
    ("17 Connection: Content-Length", post(b"Content-Length: 5\r\nConnection: Content-Length\r\n",
                                           b"hello")),
    ("17 Connection: Host", b"GET / HTTP/1.1\r\n" + HOST + b"Connection: Host\r\n\r\n"),
    ("20 target of 100 KiB", b"GET /" + b"a" * 100 * 1024 + b" HTTP/1.1\r\n" + HOST + b"\r\n"),
    ("20 1000 fields", b"GET / HTTP/1.1\r\n" + HOST + b"X-A: 1\r\n" * 1000 + b"\r\n"),
]


class _Recorder:
    def __init__(self) -> None:
        self.messages = 0
        self.body = 0

    def on_body(self, body: bytes) -> None:
        self.body += len(body)

    def on_message_complete(self) -> None:
        self.messages += 1


def httptools_result(data: bytes) -> str:
    recorder = _Recorder()
    parser = httptools.HttpRequestParser(recorder)
    try:
        parser.feed_data(data)
    except httptools.HttpParserError as exc:
        return f"rejected ({type(exc).__name__})"
    return f"ACCEPTED: {recorder.messages} message(s), {recorder.body} body bytes"


def stockade_result(data: bytes) -> str:
    parser = RequestParser(ParserLimits())
    parser.feed(data)
    try:
        while (event := parser.next_event()) is not NEED_DATA:
            if isinstance(event, EndOfMessage):
                parser.start_next_message()
            elif isinstance(event, Data):
                continue
    except ProtocolError as exc:
        return f"rejected {exc.status}"
    return "ACCEPTED"


def main() -> None:
    accepted = []
    print(f"{'case':40} {'stockade':14} httptools {httptools.__version__}")
    for name, data in CASES:
        theirs = httptools_result(data)
        print(f"{name:40} {stockade_result(data):14} {theirs}")
        if theirs.startswith("ACCEPTED"):
            accepted.append(name)
    print(f"\nhttptools accepted {len(accepted)} of {len(CASES)}: " + "; ".join(accepted))


if __name__ == "__main__":
    main()
