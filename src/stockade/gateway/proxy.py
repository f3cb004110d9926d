"""Relay one exchange to an upstream and its response back to the client.

Both bodies stream: the request body goes upstream as it arrives (unless a
stage asked for the whole body first) and the response body goes to the
client as it arrives, each side waiting for the other's write buffer to
drain. Retries happen only for idempotent requests whose body can be sent
again and that failed before the upstream answered anything.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Final

from stockade.config.models import Policy, Service
from stockade.events.model import Severity
from stockade.gateway.body_limits import buffer_limit
from stockade.gateway.errors import ClientGone, PeerClosed, SlowRequest
from stockade.gateway.exchange import Exchange
from stockade.gateway.forwarding import client_response_items, upstream_request_fields
from stockade.gateway.pipeline import Phase, Pipeline, Verdict
from stockade.gateway.responses import json_response
from stockade.gateway.runtime import Runtime
from stockade.gateway.upstream import (
    Overloaded,
    Target,
    UpstreamConnection,
    UpstreamError,
    UpstreamPool,
)
from stockade.http.errors import ProtocolError
from stockade.http.fields import Fields
from stockade.http.messages import BodyFraming, Data, EndOfMessage, RequestHead, ResponseHead
from stockade.http.serialize import (
    LAST_CHUNK,
    encode_chunk,
    serialize_request_head,
    serialize_response_head,
)

if TYPE_CHECKING:
    from stockade.gateway.server import ClientConnection

IDEMPOTENT_METHODS: Final = frozenset({b"GET", b"HEAD", b"OPTIONS", b"PUT", b"DELETE", b"TRACE"})
"""RFC 9110 section 9.2.2: repeating these has the same effect as sending them once."""

METHODS_WITH_BODY: Final = frozenset({b"POST", b"PUT", b"PATCH"})
"""Methods for which an empty body is still announced with Content-Length: 0."""

RESPONSE_BUFFER_MAX: Final = 1024 * 1024
"""Largest response body buffered for stages that inspect whole responses; the rest streams."""


class BodyReader:
    """The request body of one exchange: buffered for inspection, streamed, or both."""

    def __init__(
        self, client: ClientConnection, runtime: Runtime, exchange: Exchange, has_body: bool
    ) -> None:
        self.client = client
        self.runtime = runtime
        self.exchange = exchange
        self.has_body = has_body
        self.prefix = b""  # bytes already read from the client and not yet sent upstream
        self.complete = not has_body  # the whole body has been read from the client
        self.received = 0
        self._started = time.perf_counter()

    @property
    def replayable(self) -> bool:
        return self.complete

    @property
    def length(self) -> int | None:
        if self.complete:
            return len(self.prefix)
        return self.exchange.request.content_length

    async def prebuffer(self, limit: int) -> None:
        """Read up to ``limit`` bytes of the body before the upstream is contacted.

        A body that ends within the limit is then sent with Content-Length;
        a longer one streams on after the bytes read here.
        """
        parts: list[bytes] = []
        size = 0
        while size <= limit:
            event = await self._next_event()
            if isinstance(event, EndOfMessage):
                self.complete = True
                break
            if isinstance(event, Data) and event.data:
                parts.append(event.data)
                size += len(event.data)
                self.exchange.request_bytes += len(event.data)
        self.prefix = b"".join(parts)

    async def buffer_for_inspection(self, policy: Policy) -> None:
        """Read the body up to the policy's buffer cap into ``exchange.body``."""
        cap, partial = buffer_limit(policy)
        parts: list[bytes] = []
        size = 0
        while True:
            event = await self._next_event()
            if isinstance(event, EndOfMessage):
                self.complete = True
                break
            if isinstance(event, Data):
                parts.append(event.data)
                size += len(event.data)
                self.exchange.request_bytes += len(event.data)
                if size > cap:
                    if not partial:
                        raise ProtocolError(
                            f"request body is larger than the inspection limit of {cap} bytes", 413
                        )
                    self.exchange.body_truncated = True
                    break
        self.prefix = b"".join(parts)
        self.exchange.body = self.prefix[:cap] if self.exchange.body_truncated else self.prefix

    async def next_piece(self) -> bytes | None:
        """Read the next piece of the body after ``prefix``, or return None once the body ended.

        This is a method because mypyc cannot compile an async generator.
        """
        while not self.complete:
            event = await self._next_event()
            if isinstance(event, EndOfMessage):
                self.complete = True
            elif isinstance(event, Data) and event.data:
                self.exchange.request_bytes += len(event.data)
                _capture_request(self.exchange, event.data)
                return event.data
        return None

    async def _next_event(self) -> object:
        """Return the next body event, enforcing the body timeout, rate and request time limits.

        A client that sends its body slower than ``min_body_rate`` (after the
        grace period) or takes longer than ``max_request_time`` in all gets
        SlowRequest, which the server turns into a 408 response.
        """
        limits = self.runtime.config.limits
        now = time.perf_counter()
        timeout = min(limits.body_timeout, self.exchange.started + limits.max_request_time - now)
        rate_bound = False
        if limits.min_body_rate:
            due = self._started + limits.body_rate_grace + self.received / limits.min_body_rate
            if due - now < timeout:
                timeout, rate_bound = due - now, True
        if timeout <= 0:
            raise SlowRequest(self._slow_reason(rate_bound))
        try:
            event = await self.client.next_event(timeout)
        except TimeoutError:
            if timeout < limits.body_timeout:
                raise SlowRequest(self._slow_reason(rate_bound)) from None
            raise
        if isinstance(event, Data):
            self.received += len(event.data)
        return event

    def _slow_reason(self, rate_bound: bool) -> str:
        limits = self.runtime.config.limits
        if rate_bound:
            return f"request body slower than {limits.min_body_rate} bytes per second"
        return f"request not received within {limits.max_request_time:g} seconds"


async def forward(
    client: ClientConnection,
    runtime: Runtime,
    exchange: Exchange,
    body: BodyReader,
    target: Target | None = None,
) -> bool:
    """Send the exchange upstream and relay the response; return True to keep the connection.

    ``target`` is the target already picked for this exchange, if any.
    """
    assert exchange.match is not None
    pool = runtime.pools[(exchange.match.tenant.id, exchange.match.service.id)]
    head = exchange.request
    if target is None:
        target = pool.pick()
    fields = upstream_fields(runtime, exchange, target)
    if not pool.admit_now():
        try:
            await pool.admit()
        except Overloaded as exc:
            client.worker.metrics.upstream_error(exchange, "overloaded")
            exchange.events.append(exchange.event("ddos", "upstream-overloaded", str(exc)))
            return _reply_error(
                client,
                runtime,
                exchange,
                503,
                "the service is at capacity, retry later",
                body.complete and head.keep_alive,
                fields=((b"Retry-After", b"1"),),
            )
    try:
        return await attempt_upstreams(client, runtime, exchange, body, pool, fields, target, 0)
    finally:
        pool.leave()


def upstream_fields(runtime: Runtime, exchange: Exchange, target: Target) -> Fields:
    """Build the field section of the request sent to ``target``, without framing fields."""
    assert exchange.match is not None
    service = exchange.match.service
    head = exchange.request
    settings = service.identity_fields
    identity = settings.consumer is not None or settings.client_subject is not None
    fields = upstream_request_fields(
        head.fields,
        client_address=exchange.client.address,
        scheme="https" if exchange.client.tls else "http",
        host=head.authority,
        request_id=exchange.request_id,
        request_id_header=runtime.request_id_header,
        upstream_host=None if service.preserve_host else target.host_field,
        extra_drop=identity_names(service) if identity else _NO_NAMES,
    )
    if identity:
        add_identity_fields(fields, service, exchange)
    return fields


def attempts_allowed(pool: UpstreamPool, method: bytes) -> int:
    """Return how many times a request may be sent: retries only for idempotent methods."""
    return 1 + pool.settings.retries if method in IDEMPOTENT_METHODS else 1


def may_retry(
    exc: UpstreamError, attempt: int, attempts: int, body: BodyReader, method: bytes
) -> bool:
    """Return whether a failed attempt may go to another target.

    Only a request that never reached the upstream, and whose body can be
    sent again, is retried. A stale pooled connection does not use up a
    retry (nginx's ngx_http_upstream_next also adds a try after an error on a
    cached connection), but still only an idempotent request is sent again.
    Each stale connection is closed when it fails, so these retries end once
    the pool has none left.
    """
    if exc.reached or not body.replayable:
        return False
    if exc.stale:
        return method in IDEMPOTENT_METHODS
    return attempt + 1 < attempts


async def attempt_upstreams(
    client: ClientConnection,
    runtime: Runtime,
    exchange: Exchange,
    body: BodyReader,
    pool: UpstreamPool,
    fields: Fields,
    target: Target,
    attempt: int,
) -> bool:
    """Send the request to ``target``, and to other targets while retries are allowed.

    ``attempt`` counts the attempts already made and failed.
    """
    attempts = attempts_allowed(pool, exchange.request.method)
    while True:
        try:
            upstream, response = await _exchange_with(pool, target, exchange, body, fields)
        except UpstreamError as exc:
            if may_retry(exc, attempt, attempts, body, exchange.request.method):
                if not exc.stale:
                    attempt += 1
                target = pool.pick(exclude=target)
                continue
            return upstream_failed(client, runtime, exchange, body, exc)
        return await _relay_response(client, runtime, exchange, pool, upstream, response)


def upstream_failed(
    client: ClientConnection,
    runtime: Runtime,
    exchange: Exchange,
    body: BodyReader,
    exc: UpstreamError,
) -> bool:
    """Record an upstream failure and send 502 or 504; return True to keep the connection."""
    client.worker.metrics.upstream_error(exchange, exc.kind)
    kind = "upstream-tls-failure" if exc.kind == "tls" else "upstream-failure"
    severity = Severity.HIGH if exc.kind == "tls" else Severity.MEDIUM
    exchange.events.append(exchange.event("gateway", kind, str(exc), severity))
    return _reply_error(
        client,
        runtime,
        exchange,
        exc.status,
        "the upstream timed out" if exc.status == 504 else "the upstream is unavailable",
        body.complete and exchange.request.keep_alive,
    )


async def _exchange_with(
    pool: UpstreamPool, target: Target, exchange: Exchange, body: BodyReader, fields: Fields
) -> tuple[UpstreamConnection, ResponseHead]:
    started = time.perf_counter()
    upstream = pool.take_idle(target)
    reused = upstream is not None
    if upstream is None:
        upstream, reused = await pool.acquire(target)
        if not reused:
            exchange.upstream_connect_seconds = time.perf_counter() - started
    exchange.upstream_target = target.address
    try:
        response = await _send_and_receive(upstream, exchange, body, fields, pool)
    except UpstreamError as exc:
        record_upstream_failure(pool, target, upstream, reused, body, exc)
        raise
    except BaseException:
        upstream.abort()  # a client-side failure mid-body leaves the upstream message incomplete
        raise
    exchange.upstream_seconds = time.perf_counter() - started
    pool.report_success(target)
    return upstream, response


def record_upstream_failure(
    pool: UpstreamPool,
    target: Target,
    upstream: UpstreamConnection,
    reused: bool,
    body: BodyReader,
    exc: UpstreamError,
) -> None:
    """Abort ``upstream`` after a failed attempt and count the failure against ``target``.

    A pooled connection that the upstream closed before sending any byte of
    the response most likely timed out while idle, so the request most likely
    never reached the upstream. ``exc.reached`` is then cleared, ``exc.stale``
    is set and the target is not blamed.
    """
    upstream.abort()
    never_answered = (
        reused and upstream.bytes_received == upstream.bytes_before_request and body.replayable
    )
    if never_answered and exc.status == 502:
        exc.reached = False
        exc.stale = True
    else:
        pool.report_failure(target)


async def _send_and_receive(
    upstream: UpstreamConnection,
    exchange: Exchange,
    body: BodyReader,
    fields: Fields,
    pool: UpstreamPool,
) -> ResponseHead:
    chunked = write_request_head(upstream, exchange, body, fields)
    if body.has_body and not body.complete:
        piece: bytes | None = body.prefix
        if piece and exchange.body is None:
            _capture_request(exchange, piece)
        while piece is not None:
            if piece:
                _upstream_write(upstream, encode_chunk(piece) if chunked else piece)
                await _upstream_drain(upstream)
            piece = await body.next_piece()
        if chunked:
            _upstream_write(upstream, LAST_CHUNK)
    timeout = pool.settings.read_timeout
    while True:
        try:
            event = await upstream.next_event(timeout)
        except TimeoutError as exc:
            raise response_timed_out() from exc
        except PeerClosed as exc:
            raise closed_before_response() from exc
        except ProtocolError as exc:
            raise invalid_response(exc) from exc
        if isinstance(event, ResponseHead):
            if event.status >= 200:
                return event
            continue  # interim 1xx responses are not relayed: the gateway sent 100 Continue itself
        raise body_before_head()


def write_request_head(
    upstream: UpstreamConnection, exchange: Exchange, body: BodyReader | None, fields: Fields
) -> bool:
    """Write the request head upstream, with the body when it is already complete.

    ``body`` is None for a request without a body. Returns True when the
    body still to come must be sent chunked.
    """
    head = exchange.request
    chunked = False
    framing: tuple[tuple[bytes, bytes], ...] = ()
    if body is not None and body.has_body:
        length = body.length
        if length is None:
            chunked = True
            framing = _CHUNKED_FIELD
        else:
            framing = ((b"Content-Length", str(length).encode("ascii")),)
    elif head.method in METHODS_WITH_BODY:
        framing = _EMPTY_LENGTH_FIELD
    upstream.parser.expect(head.method)
    upstream.requests += 1
    upstream.bytes_before_request = upstream.bytes_received
    data = serialize_request_head(head.method, head.target, fields, framing)
    if body is not None and body.has_body and body.complete and not chunked:
        # The whole body is already here: head and body go out in one write.
        data += body.prefix
        if body.prefix and exchange.body is None:
            _capture_request(exchange, body.prefix)
    _upstream_write(upstream, data)
    return chunked


def response_timed_out() -> UpstreamError:
    return UpstreamError("upstream response timed out", 504, reached=True)


def closed_before_response() -> UpstreamError:
    return UpstreamError("upstream closed the connection before responding", 502, reached=True)


def invalid_response(exc: ProtocolError) -> UpstreamError:
    return UpstreamError(f"upstream sent an invalid response: {exc.reason}", 502, reached=True)


def body_before_head() -> UpstreamError:
    return UpstreamError("upstream sent body bytes before a response head", 502, reached=True)


_CHUNKED_FIELD: Final = ((b"Transfer-Encoding", b"chunked"),)
_EMPTY_LENGTH_FIELD: Final = ((b"Content-Length", b"0"),)


def _upstream_write(upstream: UpstreamConnection, data: bytes) -> None:
    if upstream.closed:
        raise UpstreamError(
            "upstream closed the connection while the request was sent", 502, reached=True
        )
    upstream.write(data)


async def _upstream_drain(upstream: UpstreamConnection) -> None:
    try:
        await upstream.drain()
    except PeerClosed as exc:
        raise UpstreamError(
            "upstream closed the connection while the request was sent", 502, reached=True
        ) from exc


async def _relay_response(
    client: ClientConnection,
    runtime: Runtime,
    exchange: Exchange,
    pool: UpstreamPool,
    upstream: UpstreamConnection,
    response: ResponseHead,
) -> bool:
    exchange.response = response
    pipeline = exchange.match.pipeline if exchange.match else None
    if pipeline is not None and pipeline.empty:
        pipeline = None
    if pipeline is not None and pipeline.has_phase(Phase.RESPONSE_HEADERS):
        verdict = await pipeline.run(exchange, Phase.RESPONSE_HEADERS)
        if verdict.reject:
            return reject_response(client, runtime, exchange, upstream, verdict)
    return await relay_checked_response(client, runtime, exchange, pool, upstream, response,
                                        pipeline)


async def relay_checked_response(
    client: ClientConnection,
    runtime: Runtime,
    exchange: Exchange,
    pool: UpstreamPool,
    upstream: UpstreamConnection,
    response: ResponseHead,
    pipeline: Pipeline | None,
) -> bool:
    """Relay a response whose head the stages passed: buffer the body for the stages
    that inspect it, then send it. ``pipeline`` is None on a route without stages."""
    has_body = response_has_body(exchange.request, response)
    buffered: bytes | None = None
    upstream_done = not has_body
    if has_body and pipeline is not None and pipeline.wants_response_body(exchange):
        buffered, upstream_done = await _buffer_response(upstream, pool.settings.read_timeout)
        exchange.response_body = buffered
        if pipeline.has_phase(Phase.RESPONSE_BODY):
            verdict = await pipeline.run(exchange, Phase.RESPONSE_BODY)
            if verdict.reject:
                return reject_response(client, runtime, exchange, upstream, verdict)
            if upstream_done and exchange.response_body is not None:
                buffered = exchange.response_body  # a stage may have rewritten (masked) it

    try:
        upstream_done, chunked, client_keep_alive = start_response(
            client, runtime, exchange, upstream, response, buffered, upstream_done
        )
    except (UpstreamError, ClientGone):
        upstream.abort()
        client.abort()
        return False
    if upstream_done:
        return end_response(client, pool, upstream, response, client_keep_alive)
    return await stream_rest_of_response(
        client, exchange, pool, upstream, response, chunked, client_keep_alive
    )


def reject_response(
    client: ClientConnection,
    runtime: Runtime,
    exchange: Exchange,
    upstream: UpstreamConnection,
    verdict: Verdict,
) -> bool:
    """Drop the upstream's response and send the stage's reject instead."""
    upstream.abort()
    return client.reject_exchange(runtime, exchange, verdict)


def response_has_body(request: RequestHead, response: ResponseHead) -> bool:
    """Return whether a body follows ``response`` to ``request`` (RFC 9112 section 6.3)."""
    return (
        request.method != b"HEAD"
        and response.status not in (204, 304)
        and response.framing is not BodyFraming.NONE
    )


def start_response(
    client: ClientConnection,
    runtime: Runtime,
    exchange: Exchange,
    upstream: UpstreamConnection,
    response: ResponseHead,
    buffered: bytes | None,
    upstream_done: bool,
) -> tuple[bool, bool, bool]:
    """Write the response head and the body bytes already here to the client.

    Returns whether the upstream's body has ended, whether the client's body
    is chunked, and whether the client connection stays open. Raises
    UpstreamError or ClientGone.
    """
    request = exchange.request
    fields = client_response_items(response.fields, exchange.request_id, runtime.request_id_header)
    if exchange.response_fields_extra:
        fields += exchange.response_fields_extra
    client_keep_alive = request.keep_alive and not client.worker.draining
    chunked = False
    if request.method == b"HEAD" or response.status in (204, 304):
        if response.content_length is not None and response.status != 204:
            fields.append((b"Content-Length", str(response.content_length).encode("ascii")))
    elif buffered is not None and upstream_done:
        fields.append((b"Content-Length", str(len(buffered)).encode("ascii")))
    elif response.framing is BodyFraming.LENGTH:
        fields.append((b"Content-Length", b"%d" % (response.content_length or 0)))
    elif request.version == b"1.1":
        chunked = True
        fields.append((b"Transfer-Encoding", b"chunked"))
    else:
        client_keep_alive = False  # an HTTP/1.0 client learns the end of the body from the close
    if not client_keep_alive:
        fields.append((b"Connection", b"close"))

    exchange.status = response.status
    # The head and whatever body bytes have already arrived go out in one
    # write: on loopback each send costs about as much as parsing a request.
    parts = [serialize_response_head(response.status, response.reason, fields)]
    if buffered:
        parts.append(encode_chunk(buffered) if chunked else buffered)
    if not upstream_done:
        upstream_done = _take_available_body(upstream, exchange, parts, chunked)
    if upstream_done and chunked:
        parts.append(LAST_CHUNK)
    _client_write(client, b"".join(parts), exchange)
    return upstream_done, chunked, client_keep_alive


async def stream_rest_of_response(
    client: ClientConnection,
    exchange: Exchange,
    pool: UpstreamPool,
    upstream: UpstreamConnection,
    response: ResponseHead,
    chunked: bool,
    client_keep_alive: bool,
) -> bool:
    """Relay the response body bytes still to come; return True to keep the connection."""
    try:
        await _stream_response(client, upstream, exchange, chunked, pool.settings.read_timeout)
    except (UpstreamError, ClientGone):
        upstream.abort()
        client.abort()
        return False
    return end_response(client, pool, upstream, response, client_keep_alive)


def end_response(
    client: ClientConnection,
    pool: UpstreamPool,
    upstream: UpstreamConnection,
    response: ResponseHead,
    client_keep_alive: bool,
) -> bool:
    """Return the upstream connection to the pool; close the client unless it stays open."""
    pool.release(upstream, reusable=response.keep_alive)
    if not client_keep_alive:
        client.close()
    return client_keep_alive


def identity_names(service: Service) -> frozenset[bytes]:
    """Return the lower-case identity fields of ``service``, which clients may never send."""
    settings = service.identity_fields
    if settings.consumer is None and settings.client_subject is None:
        return _NO_NAMES
    return frozenset(name.lower().encode("ascii") for name in service.identity_fields.names())


def add_identity_fields(fields: Fields, service: Service, exchange: Exchange) -> None:
    """Tell the upstream who the client is, in the fields the service configures."""
    settings = service.identity_fields
    if settings.consumer and exchange.consumer is not None:
        fields.add(settings.consumer.encode("ascii"), _field_text(exchange.consumer.id))
    certificate = exchange.client.peer_certificate
    if settings.client_subject and certificate:
        fields.add(
            settings.client_subject.encode("ascii"), _field_text(certificate_subject(certificate))
        )


def certificate_subject(certificate: dict[str, Any]) -> str:
    """Format the subject of an ``ssl.getpeercert()`` result as an RFC 4514 string."""
    parts = []
    for rdn in reversed(certificate.get("subject", ())):
        for key, value in rdn:
            name = _RDN_NAMES.get(key, key)
            escaped = str(value).replace("\\", "\\\\").replace(",", "\\,").replace("+", "\\+")
            parts.append(f"{name}={escaped}")
    return ",".join(parts)


_NO_NAMES: Final[frozenset[bytes]] = frozenset()

_RDN_NAMES: Final = {
    "commonName": "CN",
    "organizationName": "O",
    "organizationalUnitName": "OU",
    "countryName": "C",
    "localityName": "L",
    "stateOrProvinceName": "ST",
    "domainComponent": "DC",
    "emailAddress": "emailAddress",
}


def _field_text(value: str) -> bytes:
    """Encode a value for a field line, replacing characters a field cannot carry."""
    data = value.encode("utf-8", "replace")
    return data.replace(b"\r", b" ").replace(b"\n", b" ").replace(b"\x00", b" ")


def _capture_request(exchange: Exchange, data: bytes) -> None:
    room = exchange.capture_bytes - len(exchange.body or b"")
    if room > 0:
        exchange.body = (exchange.body or b"") + data[:room]
        if len(data) > room:
            exchange.body_truncated = True


def _capture_response(exchange: Exchange, data: bytes) -> None:
    room = exchange.capture_bytes - len(exchange.response_body or b"")
    if room > 0:
        exchange.response_body = (exchange.response_body or b"") + data[:room]


def _take_available_body(
    upstream: UpstreamConnection, exchange: Exchange, parts: list[bytes], chunked: bool
) -> bool:
    """Move body events already parsed into ``parts``; return True when the body ended."""
    length_body = upstream.parser.take_length_body()
    if length_body is not None:
        data, done = length_body
        if data:
            if exchange.capture_bytes:
                _capture_response(exchange, data)
            parts.append(encode_chunk(data) if chunked else data)
        return done
    while True:
        try:
            event = upstream.parser.next_event()
        except ProtocolError as exc:
            raise UpstreamError(
                f"upstream response body failed: {exc.reason}", 502, reached=True
            ) from exc
        if isinstance(event, EndOfMessage):
            return True
        if isinstance(event, Data):
            if event.data:
                if exchange.capture_bytes:
                    _capture_response(exchange, event.data)
                parts.append(encode_chunk(event.data) if chunked else event.data)
            continue
        return False


async def _buffer_response(upstream: UpstreamConnection, timeout: float) -> tuple[bytes, bool]:
    """Read up to RESPONSE_BUFFER_MAX bytes of the response body; also return whether it ended."""
    parts: list[bytes] = []
    size = 0
    while size <= RESPONSE_BUFFER_MAX:
        event = await _upstream_event(upstream, timeout)
        if isinstance(event, EndOfMessage):
            return b"".join(parts), True
        if isinstance(event, Data):
            parts.append(event.data)
            size += len(event.data)
    return b"".join(parts), False


async def _stream_response(
    client: ClientConnection,
    upstream: UpstreamConnection,
    exchange: Exchange,
    chunked: bool,
    timeout: float,
) -> None:
    while True:
        event = await _upstream_event(upstream, timeout)
        if isinstance(event, EndOfMessage):
            if chunked:
                client.write(LAST_CHUNK)
            return
        if isinstance(event, Data) and event.data:
            if exchange.capture_bytes:
                _capture_response(exchange, event.data)
            _client_write(client, encode_chunk(event.data) if chunked else event.data, exchange)
            try:
                await client.drain()
            except PeerClosed as exc:
                raise ClientGone() from exc


async def _upstream_event(upstream: UpstreamConnection, timeout: float) -> object:
    try:
        return await upstream.next_event(timeout)
    except (TimeoutError, PeerClosed, ProtocolError) as exc:
        raise UpstreamError(f"upstream response body failed: {exc!r}", 502, reached=True) from exc


def _client_write(client: ClientConnection, data: bytes, exchange: Exchange) -> None:
    if client.closed:
        raise ClientGone()
    client.write(data)
    exchange.response_bytes += len(data)


def _reply_error(
    client: ClientConnection,
    runtime: Runtime,
    exchange: Exchange,
    status: int,
    message: str,
    keep_alive: bool,
    fields: tuple[tuple[bytes, bytes], ...] = (),
) -> bool:
    keep = keep_alive and not client.worker.draining
    data = json_response(
        status,
        message,
        exchange.request_id,
        runtime.request_id_header,
        extra=fields,
        close=not keep,
        head_only=exchange.request.method == b"HEAD",
    )
    exchange.status = status
    exchange.response_bytes += len(data)
    client.write(data)
    if not keep:
        client.close()
    return keep
