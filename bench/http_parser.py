"""Compare request-head parsing rates of Stockade's parser and httptools (llhttp).

Run: python bench/http_parser.py [iterations]

Both sides parse the same 10-field GET request from bytes to a head with its
fields as Python bytes, then to the end of the message. httptools reports
fields through Python callbacks, which is how a server on it collects them.
Two shapes are timed: a new parser per request, and one parser reused for
every request as on a kept-alive connection. Each rate is the best of
ROUNDS alternating rounds, which filters out other load on the machine.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import httptools

from stockade.http.messages import EndOfMessage, RequestHead
from stockade.http.parser import ParserLimits, RequestParser

REQUEST = (
    b"GET /api/v1/orders/12345?expand=items&limit=20 HTTP/1.1\r\n"
    b"Host: api.example.com\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36\r\n"
    b"Accept: application/json, text/plain, */*\r\n"
    b"Accept-Language: en-US,en;q=0.9\r\n"
    b"Accept-Encoding: gzip, deflate, br\r\n"
    b"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJl\r\n"
    b"Connection: keep-alive\r\n"
    b"Cookie: session=abc123; theme=dark\r\n"
    b"X-Request-Id: 7f1c2e9a-4b7d-4e0f-9a51-2f9c1d3b8e77\r\n"
    b"Referer: https://app.example.com/orders\r\n"
    b"\r\n"
)

DEFAULT_ITERATIONS = 300_000
ROUNDS = 5


def run_stockade_reused(iterations: int) -> float:
    parser = RequestParser(ParserLimits())
    started = time.perf_counter()
    for _ in range(iterations):
        parser.feed(REQUEST)
        head = parser.next_event()
        end = parser.next_event()
        if not isinstance(head, RequestHead) or not isinstance(end, EndOfMessage):
            raise SystemExit("stockade parser returned unexpected events")
        parser.start_next_message()
    return iterations / (time.perf_counter() - started)


def run_stockade(iterations: int) -> float:
    limits = ParserLimits()
    started = time.perf_counter()
    for _ in range(iterations):
        parser = RequestParser(limits)
        parser.feed(REQUEST)
        head = parser.next_event()
        end = parser.next_event()
        if not isinstance(head, RequestHead) or not isinstance(end, EndOfMessage):
            raise SystemExit("stockade parser returned unexpected events")
    return iterations / (time.perf_counter() - started)


class _Collector:
    """httptools callbacks that keep what a server needs: target and fields."""

    def __init__(self) -> None:
        self.url = b""
        self.fields: list[tuple[bytes, bytes]] = []
        self.complete = False

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.fields.append((name, value))

    def on_message_complete(self) -> None:
        self.complete = True


def run_httptools(iterations: int) -> float:
    started = time.perf_counter()
    for _ in range(iterations):
        collector = _Collector()
        parser = httptools.HttpRequestParser(collector)
        parser.feed_data(REQUEST)
        parser.get_method()
        parser.should_keep_alive()
        if not collector.complete:
            raise SystemExit("httptools did not complete the message")
    return iterations / (time.perf_counter() - started)


def run_httptools_reused(iterations: int) -> float:
    collector = _Collector()
    parser = httptools.HttpRequestParser(collector)
    started = time.perf_counter()
    for _ in range(iterations):
        collector.url = b""
        collector.fields = []
        collector.complete = False
        parser.feed_data(REQUEST)
        parser.get_method()
        parser.should_keep_alive()
        if not collector.complete:
            raise SystemExit("httptools did not complete the message")
    return iterations / (time.perf_counter() - started)


def report(shape: str, stockade_rate: float, httptools_rate: float) -> None:
    print(shape)
    print(f"  stockade  {stockade_rate:12,.0f} requests/s")
    print(f"  httptools {httptools_rate:12,.0f} requests/s")
    print(f"  ratio stockade/httptools {stockade_rate / httptools_rate:.2f}")


def compare(shape: str, ours: Callable[[int], float], theirs: Callable[[int], float],
            iterations: int) -> None:
    """Run both sides in alternating rounds and report the best rate of each."""
    our_rates: list[float] = []
    their_rates: list[float] = []
    for _ in range(ROUNDS):
        our_rates.append(ours(iterations // ROUNDS))
        their_rates.append(theirs(iterations // ROUNDS))
    report(shape, max(our_rates), max(their_rates))


def main() -> None:
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ITERATIONS
    run_stockade(1000)  # warm-up
    run_httptools(1000)
    compare("new parser per request", run_stockade, run_httptools, iterations)
    compare("one parser reused (keep-alive)", run_stockade_reused, run_httptools_reused,
            iterations)


if __name__ == "__main__":
    main()
