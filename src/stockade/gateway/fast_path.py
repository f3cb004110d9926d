"""Relay, by callbacks alone, a request whose body came with its head, on a route whose
stages never wait.

The general path runs each exchange in a task that awaits the client and
the upstream. For a plain-proxy request that task costs more than the
relaying itself. So this path runs the request phases and sends the request
head from the client's ``data_received``. It then runs the response phases
and sends the response from the upstream's ``data_received``, with no task,
future or coroutine in between. It reuses the general path's helpers for
every step, so the bytes sent, the verdicts, the access log line and the
metrics are the same.

It serves only what it can finish without waiting on anything but the
response head: a request without a body, or whose Content-Length body is
all buffered already and fits the route's buffer cap, on a route whose
stages are all synchronous (the WAF's are), to a pool without
``max_concurrent``, over a pooled upstream connection. A request with
``Expect: 100-continue`` takes the general path. Any other exchange, a response body that does
not arrive with its head, and a failed attempt that may be retried go to the
general path in a task, which carries on from the same state.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from stockade.gateway.body_limits import buffer_limit
from stockade.gateway.errors import ClientGone
from stockade.gateway.exchange import Exchange
from stockade.gateway.pipeline import Phase, Verdict
from stockade.gateway.proxy import (
    RESPONSE_BUFFER_MAX,
    BodyReader,
    attempt_upstreams,
    attempts_allowed,
    body_before_head,
    closed_before_response,
    end_response,
    forward,
    invalid_response,
    may_retry,
    record_upstream_failure,
    reject_response,
    relay_checked_response,
    response_has_body,
    response_timed_out,
    start_response,
    stream_rest_of_response,
    upstream_failed,
    upstream_fields,
    write_request_head,
)
from stockade.gateway.runtime import Runtime
from stockade.gateway.upstream import Target, UpstreamConnection, UpstreamError, UpstreamPool
from stockade.http.errors import ProtocolError
from stockade.http.fields import Fields
from stockade.http.messages import NEED_DATA, BodyFraming, ResponseHead

if TYPE_CHECKING:
    from stockade.gateway.server import ClientConnection

log = logging.getLogger(__name__)


def start_fast_exchange(client: ClientConnection, runtime: Runtime, exchange: Exchange) -> bool:
    """Send a routed request upstream by callbacks and return True, or return False.

    False means nothing was sent and the caller serves the exchange on the
    general path. True means this path or a task it started now owns it.
    """
    match = exchange.match
    head = exchange.request
    if match is None or not match.pipeline.synchronous or head.framing is BodyFraming.CHUNKED:
        return False
    length = head.content_length or 0
    if length and (
        head.expect_continue
        or not client.parser.has_whole_length_body(buffer_limit(match.policy)[0])
    ):
        return False  # the body is still on its way: the general path reads it
    pool = runtime.pools[(match.tenant.id, match.service.id)]
    if pool.settings.max_concurrent is not None:
        return False  # admission may have to wait: the general path queues it
    if runtime.body_observers:
        client.capture_for_observers(runtime, exchange)
    pipeline = match.pipeline
    if not pipeline.empty and pipeline.has_phase(Phase.REQUEST_HEADERS):
        verdict = pipeline.run_now(exchange, Phase.REQUEST_HEADERS)
        if _request_rejected(client, runtime, exchange, verdict):
            return True
    body = BodyReader(client, runtime, exchange, bool(length))
    if length:
        whole = client.parser.take_length_body()
        assert whole is not None
        body.prefix = whole[0]
        body.complete = True
        exchange.request_bytes += len(body.prefix)
        if not pipeline.empty and pipeline.wants_request_body(exchange):
            exchange.body = body.prefix
    if not pipeline.empty and pipeline.has_phase(Phase.REQUEST_BODY):
        verdict = pipeline.run_now(exchange, Phase.REQUEST_BODY)
        if _request_rejected(client, runtime, exchange, verdict):
            return True
    target = pool.pick()
    started = time.perf_counter()  # upstream_ms counts taking the connection, as in _exchange_with
    upstream = pool.take_idle(target)
    if upstream is None:
        step = forward(client, runtime, exchange, body, target)
        client.resume_in_task(runtime, exchange, client.finish_guarded(runtime, exchange, step))
        return True
    fields = upstream_fields(runtime, exchange, target)
    exchange.upstream_target = target.address
    relay = FastExchange(client, runtime, exchange, body, pool, target, upstream, fields, started)
    try:
        write_request_head(upstream, exchange, body if length else None, fields)
    except UpstreamError as exc:
        relay.failed(exc)
        return True
    except BaseException:
        upstream.abort()
        raise
    upstream.wait_for_response(relay, pool.settings.read_timeout)
    return True


def _request_rejected(client: ClientConnection, runtime: Runtime, exchange: Exchange,
                      verdict: Verdict) -> bool:
    """Send a request stage's reject and end the exchange; return False when it passed."""
    if not verdict.reject:
        return False
    keep_alive = client.reject_exchange(runtime, exchange, verdict)
    client.end_exchange(runtime, exchange, keep_alive)
    return True


class FastExchange:
    """One exchange waiting for its response head on a pooled upstream connection."""

    __slots__ = (
        "body",
        "client",
        "exchange",
        "fields",
        "pool",
        "runtime",
        "started",
        "target",
        "upstream",
    )

    def __init__(
        self,
        client: ClientConnection,
        runtime: Runtime,
        exchange: Exchange,
        body: BodyReader,
        pool: UpstreamPool,
        target: Target,
        upstream: UpstreamConnection,
        fields: Fields,
        started: float,
    ) -> None:
        self.client = client
        self.runtime = runtime
        self.exchange = exchange
        self.body = body
        self.pool = pool
        self.target = target
        self.upstream = upstream
        self.fields = fields
        self.started = started  # perf_counter() just before the upstream connection was taken

    def upstream_readable(self) -> None:
        try:
            response = self._final_response_head()
        except UpstreamError as exc:
            self.failed(exc)
            return
        except Exception:
            self._crashed()
            return
        if response is None:
            return
        try:
            self._relay(response)
        except Exception:
            self._crashed()

    def upstream_timed_out(self) -> None:
        try:
            self.failed(response_timed_out())
        except Exception:
            self._crashed()

    def _final_response_head(self) -> ResponseHead | None:
        """Return the final response head once it is parsed, or None while it is incomplete.

        Raises UpstreamError as the general path's ``_send_and_receive`` does.
        """
        upstream = self.upstream
        parser = upstream.parser
        while True:
            try:
                event = parser.next_event()
            except ProtocolError as exc:
                raise invalid_response(exc) from exc
            if event is NEED_DATA:
                if upstream.closed or upstream.eof:
                    raise closed_before_response()
                return None
            if isinstance(event, ResponseHead):
                if event.status >= 200:
                    return event
                continue  # interim 1xx responses are not relayed
            raise body_before_head()

    def _relay(self, response: ResponseHead) -> None:
        client, runtime, exchange = self.client, self.runtime, self.exchange
        pool, upstream = self.pool, self.upstream
        upstream.listener = None
        exchange.upstream_seconds = time.perf_counter() - self.started
        pool.report_success(self.target)
        exchange.response = response
        upstream_done = not response_has_body(exchange.request, response)
        buffered: bytes | None = None
        assert exchange.match is not None
        pipeline = exchange.match.pipeline
        if not pipeline.empty:
            if pipeline.has_phase(Phase.RESPONSE_HEADERS):
                verdict = pipeline.run_now(exchange, Phase.RESPONSE_HEADERS)
                if verdict.reject:
                    self._rejected(verdict)
                    return
            if not upstream_done and pipeline.wants_response_body(exchange):
                if not upstream.parser.has_whole_length_body(RESPONSE_BUFFER_MAX):
                    step = relay_checked_response(
                        client, runtime, exchange, pool, upstream, response, pipeline
                    )
                    client.resume_in_task(
                        runtime, exchange, client.finish_guarded(runtime, exchange, step)
                    )
                    return
                whole = upstream.parser.take_length_body()
                assert whole is not None
                buffered, upstream_done = whole
                exchange.response_body = buffered
                if pipeline.has_phase(Phase.RESPONSE_BODY):
                    verdict = pipeline.run_now(exchange, Phase.RESPONSE_BODY)
                    if verdict.reject:
                        self._rejected(verdict)
                        return
                    if exchange.response_body is not None:
                        buffered = exchange.response_body  # a stage may have masked it
        try:
            upstream_done, chunked, keep_alive = start_response(
                client, runtime, exchange, upstream, response, buffered, upstream_done
            )
        except (UpstreamError, ClientGone):
            upstream.abort()
            client.abort()
            client.end_exchange(runtime, exchange, False)
            return
        if upstream_done:
            keep_alive = end_response(client, pool, upstream, response, keep_alive)
            client.end_exchange(runtime, exchange, keep_alive)
            return
        step = stream_rest_of_response(
            client, exchange, pool, upstream, response, chunked, keep_alive
        )
        client.resume_in_task(runtime, exchange, client.finish_guarded(runtime, exchange, step))

    def _rejected(self, verdict: Verdict) -> None:
        """Send a response stage's reject in place of the upstream's response."""
        keep_alive = reject_response(self.client, self.runtime, self.exchange, self.upstream,
                                     verdict)
        self.client.end_exchange(self.runtime, self.exchange, keep_alive)

    def failed(self, exc: UpstreamError) -> None:
        """Send 502 or 504 to the client, or retry on the general path as ``forward`` would."""
        client, runtime, exchange, pool = self.client, self.runtime, self.exchange, self.pool
        self.upstream.listener = None
        body = self.body
        record_upstream_failure(pool, self.target, self.upstream, True, body, exc)
        method = exchange.request.method
        if may_retry(exc, 0, attempts_allowed(pool, method), body, method):
            target = pool.pick(exclude=self.target)
            attempts_made = 0 if exc.stale else 1  # a stale connection uses up no retry
            step = attempt_upstreams(
                client, runtime, exchange, body, pool, self.fields, target, attempts_made
            )
            client.resume_in_task(
                runtime, exchange, client.finish_guarded(runtime, exchange, step)
            )
            return
        keep_alive = upstream_failed(client, runtime, exchange, body, exc)
        client.end_exchange(runtime, exchange, keep_alive)

    def _crashed(self) -> None:
        """Close both connections after an unexpected error, as the general path does."""
        log.exception(
            "unexpected error on a client connection from %s", self.client.peer[0]
        )
        self.upstream.listener = None
        self.upstream.abort()
        self.client.abort()
        if self.client.busy:
            self.client.end_exchange(self.runtime, self.exchange, False)
