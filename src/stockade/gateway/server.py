"""Client connections: read requests, run the pipeline, relay to the upstream.

A client connection serves one exchange at a time (HTTP/1.1 without
pipelined concurrency: pipelined requests wait in the parser's buffer),
either by callbacks (fast_path.py) or in a task. Every message the gateway
forwards is framed anew by the gateway itself.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Final

from stockade.access.client_address import resolve_client_address
from stockade.config.models import Policy
from stockade.events.model import Severity
from stockade.gateway.body_limits import body_limit, buffer_limit
from stockade.gateway.connection import ParserProtocol
from stockade.gateway.errors import ClientGone, PathError, PeerClosed, SlowRequest
from stockade.gateway.exchange import ClientInfo, Exchange
from stockade.gateway.fast_path import start_fast_exchange
from stockade.gateway.forwarding import request_id_from
from stockade.gateway.log_phase import run_log_phase
from stockade.gateway.pipeline import Phase, Verdict
from stockade.gateway.proxy import BodyReader, forward
from stockade.gateway.responses import json_response
from stockade.gateway.runtime import Runtime
from stockade.http.errors import ProtocolError
from stockade.http.messages import BodyFraming, RequestHead
from stockade.http.parser import RequestParser

if TYPE_CHECKING:
    from stockade.gateway.worker import Worker

log = logging.getLogger(__name__)

_Resumed = tuple[Runtime, Exchange, Coroutine[Any, Any, bool]]
"""An exchange begun by callbacks: its runtime, and the step that finishes it."""

CONTINUE_RESPONSE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"

OBSERVER_CAPTURE_BYTES: Final = 64 * 1024
"""Bytes of each body copied for a sampling log observer that sets no max_body_bytes."""


class ClientConnection(ParserProtocol[RequestParser]):
    """One client connection, served by callbacks while it can and by a task otherwise.

    Between exchanges no task exists: ``data_received`` parses the next head
    and ``start_fast_exchange`` relays a request whose body came with it, on
    a route whose stages never wait (see fast_path.py). Anything else (a
    partial head, a framing error, a body still arriving, a stage that
    waits, a new upstream connection) starts the ``_serve`` task, which
    carries on from the same parser state. The task hands the connection
    back to the callbacks when it is between messages with nothing buffered.
    """

    def __init__(self, worker: Worker, tls: bool) -> None:
        runtime = worker.runtime
        super().__init__(RequestParser(runtime.parser_limits))
        self.worker = worker
        self.tls = tls
        self.peer = ("", 0)
        self.busy = False  # an exchange is in progress
        self.task: asyncio.Task[None] | None = None
        self._plain_client_info: ClientInfo | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        peer = transport.get_extra_info("peername") or ("", 0)
        self.peer = (str(peer[0]), int(peer[1]))
        if not self.worker.admit(self):
            self.abort()
            return
        self._watch_idle(self.worker.runtime)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.task is None and not self.busy and not self.closed:
            self._head_received()

    def eof_received(self) -> bool | None:
        super().eof_received()
        if self.task is None and not self.busy and not self.closed:
            self._start_task()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self.worker.forget(self)

    def close_if_idle(self) -> None:
        """Close the connection now unless an exchange is in progress (used when draining)."""
        if not self.busy:
            self.close()

    # serving by callbacks ------------------------------------------------------

    def _head_received(self) -> None:
        """Serve the request whose head has arrived, or start the task to read it."""
        runtime = self.worker.runtime
        try:
            event = self.parser.next_event()
        except ProtocolError as exc:
            self.worker.metrics.protocol_error(exc.status)
            self._send_error(runtime, exc.status, exc.reason, None)
            return
        if not isinstance(event, RequestHead):
            self._start_task()  # the head is not complete yet: the task applies header_timeout
            return
        self.busy = True
        exchange: Exchange | None = None
        try:
            exchange = self._new_exchange(runtime, event)
            keep_alive = self._route(runtime, exchange)
            if keep_alive is None:
                if start_fast_exchange(self, runtime, exchange):
                    return
                self.resume_in_task(runtime, exchange, self.forward_routed(runtime, exchange))
                return
        except Exception:
            log.exception("unexpected error on a client connection from %s", self.peer[0])
            keep_alive = False
        if exchange is None:
            self.busy = False
            self.close()
            return
        self.end_exchange(runtime, exchange, keep_alive)

    def end_exchange(self, runtime: Runtime, exchange: Exchange, keep_alive: bool) -> None:
        """Finish an exchange served by callbacks and wait for the next request."""
        try:
            self._finish(runtime, exchange)
        finally:
            self.busy = False
        if not keep_alive or self.worker.draining or self.closed:
            self.close()
            return
        self.parser.start_next_message()
        if self.parser.buffered or self.eof or self._read_paused:
            self._start_task()  # a pipelined request, or the client closed its side
        else:
            self._watch_idle(runtime)

    def _finish(self, runtime: Runtime, exchange: Exchange) -> None:
        worker = self.worker
        run_log_phase(worker.access_log, worker.metrics, runtime, exchange)

    def resume_in_task(
        self, runtime: Runtime, exchange: Exchange, step: Coroutine[Any, Any, bool]
    ) -> None:
        """Let the ``_serve`` task finish ``exchange`` by awaiting ``step``."""
        self.task = self.running_loop().create_task(self._serve((runtime, exchange, step)))

    def _start_task(self) -> None:
        self.task = self.running_loop().create_task(self._serve())

    def _watch_idle(self, runtime: Runtime) -> None:
        """Close the connection unless a request begins within the idle timeout."""
        loop = self.running_loop()
        self._deadline = loop.time() + runtime.config.limits.idle_timeout
        if self._timer is None or self._deadline < self._timer_when:
            self._arm_timer(loop, self._deadline)

    def _on_timer(self) -> None:
        if self._waiter is not None:
            super()._on_timer()
            return
        self._timer = None
        if self.task is not None or self.busy or self.closed:
            return  # the task or the next _watch_idle arms the timer again
        loop = self.running_loop()
        if loop.time() >= self._deadline:
            self.close()  # idle past the timeout with nothing buffered
        else:
            self._arm_timer(loop, self._deadline)

    # serving by a task -------------------------------------------------------

    async def _serve(self, resumed: _Resumed | None = None) -> None:
        """Serve exchanges until the connection closes or is back between messages.

        ``resumed`` is an exchange begun by the callbacks, with the step that
        finishes it.
        """
        keep_open = False
        try:
            while not self.closed:
                if resumed is not None:
                    runtime, exchange, step = resumed
                    resumed = None
                else:
                    runtime = self.worker.runtime
                    head = await self._read_head(runtime)
                    if head is None:
                        return
                    self.busy = True
                    exchange = self._new_exchange(runtime, head)
                    step = self._route_and_forward(runtime, exchange)
                try:
                    try:
                        keep_alive = await step
                    finally:
                        self._finish(runtime, exchange)
                finally:
                    self.busy = False
                if not keep_alive or self.worker.draining:
                    return
                self.parser.start_next_message()
                if self.parser.between_messages() and not (self.eof or self._read_paused):
                    keep_open = True
                    return
        except Exception:
            log.exception("unexpected error on a client connection from %s", self.peer[0])
        finally:
            if keep_open and not self.closed:
                self.task = None
                self._watch_idle(self.worker.runtime)
            else:
                self.close()

    async def _read_head(self, runtime: Runtime) -> RequestHead | None:
        limits = runtime.config.limits
        try:
            if not self.parser.in_head:
                await self.wait_readable(limits.idle_timeout)
            if self.closed or (self.eof and not self.parser.buffered):
                return None
            event = await self.next_event(limits.header_timeout)
        except TimeoutError:
            if self.parser.buffered or self.parser.in_head:
                self._send_error(runtime, 408, "request head not received in time", None)
            return None
        except PeerClosed:
            return None
        except ProtocolError as exc:
            self.worker.metrics.protocol_error(exc.status)
            self._send_error(runtime, exc.status, exc.reason, None)
            return None
        if not isinstance(event, RequestHead):
            return None
        return event

    def _send_error(
        self,
        runtime: Runtime,
        status: int,
        message: str,
        exchange: Exchange | None,
        fields: tuple[tuple[bytes, bytes], ...] = (),
    ) -> None:
        """Send a JSON error response and close the connection."""
        request_id = exchange.request_id if exchange else request_id_from_empty()
        self.write(
            json_response(
                status, message, request_id, runtime.request_id_header, extra=fields, close=True
            )
        )
        if exchange is not None:
            exchange.status = status
        self.close()

    def _new_exchange(self, runtime: Runtime, head: RequestHead) -> Exchange:
        return Exchange(
            request_id_from(head.fields, runtime.request_id_header),
            self._client_info(runtime, head),
            head,
        )

    async def _route_and_forward(self, runtime: Runtime, exchange: Exchange) -> bool:
        """Serve one request; return True when the connection may serve another."""
        keep_alive = self._route(runtime, exchange)
        if keep_alive is not None:
            return keep_alive
        return await self.forward_routed(runtime, exchange)

    def _route(self, runtime: Runtime, exchange: Exchange) -> bool | None:
        """Match the route and check the body size; return None to go on with the exchange.

        Otherwise the gateway has sent its own response, and the result is True
        when the connection may serve another request.
        """
        head = exchange.request
        host = _host_without_port(head.authority)
        method = _METHOD_TEXT.get(head.method)
        if method is None:
            method = head.method.decode("latin-1")
        try:
            match = runtime.routes.match(host, method, head.path.decode("latin-1"))
        except PathError:
            return self._reply(runtime, exchange, 400, "the request path contains dot segments")
        if match is None:
            return self._reply(
                runtime, exchange, 404, "no service is configured for this host and path"
            )
        exchange.match = match
        # Identity fields are the gateway's to set: a client copy is dropped
        # on every route, whether or not authentication runs there.
        head.fields.remove_many(identity_field_names(match.policy))

        max_body = body_limit(runtime.config, match.policy)
        if head.content_length is not None and head.content_length > max_body:
            return self._reply(
                runtime, exchange, 413, f"request body is larger than {max_body} bytes"
            )
        self.parser.set_body_limit(max_body)
        return None

    async def forward_routed(self, runtime: Runtime, exchange: Exchange) -> bool:
        """Run the stages, read the body as they need it and forward the request."""
        match = exchange.match
        assert match is not None
        head = exchange.request
        pipeline = match.pipeline
        staged = not pipeline.empty
        if staged and pipeline.has_phase(Phase.REQUEST_HEADERS):
            verdict = await pipeline.run(exchange, Phase.REQUEST_HEADERS)
            if verdict.reject:
                return self.reject_exchange(runtime, exchange, verdict)

        has_body = head.framing is BodyFraming.CHUNKED or bool(head.content_length)
        if has_body and head.expect_continue:
            self.write(CONTINUE_RESPONSE)
        body = BodyReader(self, runtime, exchange, has_body)
        self.capture_for_observers(runtime, exchange)
        try:
            if has_body and staged and pipeline.wants_request_body(exchange):
                await body.buffer_for_inspection(match.policy)
            elif head.framing is BodyFraming.CHUNKED:
                # Chunk framing can break anywhere in the body; reading it
                # first keeps a malformed body from reaching the upstream.
                await body.prebuffer(buffer_limit(match.policy)[0])
            if staged and pipeline.has_phase(Phase.REQUEST_BODY):
                verdict = await pipeline.run(exchange, Phase.REQUEST_BODY)
                if verdict.reject:
                    return self.reject_exchange(runtime, exchange, verdict)
            return await forward(self, runtime, exchange, body)
        except (ProtocolError, PeerClosed, ClientGone, TimeoutError) as exc:
            return self.exchange_failed(runtime, exchange, exc)

    async def finish_guarded(
        self, runtime: Runtime, exchange: Exchange, step: Coroutine[Any, Any, bool]
    ) -> bool:
        """Await ``step`` of an exchange with no body left to read, and respond to its failures."""
        try:
            return await step
        except (ProtocolError, PeerClosed, ClientGone, TimeoutError) as exc:
            return self.exchange_failed(runtime, exchange, exc)

    @staticmethod
    def capture_for_observers(runtime: Runtime, exchange: Exchange) -> None:
        """Set how many bytes of each body the sampling log observers get."""
        for observer in runtime.body_observers:
            if observer.wants_bodies(exchange):
                capture = getattr(observer, "max_body_bytes", OBSERVER_CAPTURE_BYTES)
                exchange.capture_bytes = max(exchange.capture_bytes, capture)

    def exchange_failed(
        self,
        runtime: Runtime,
        exchange: Exchange,
        exc: ProtocolError | PeerClosed | ClientGone | TimeoutError,
    ) -> bool:
        """Respond to a request whose body or client failed; return False to close."""
        if isinstance(exc, ProtocolError):
            self.worker.metrics.protocol_error(exc.status)
            if exchange.status == 0:
                self._send_error(runtime, exc.status, exc.reason, exchange)
        elif isinstance(exc, PeerClosed | ClientGone):
            if exchange.status == 0:
                exchange.status = 499  # as nginx logs a client that went away
        elif isinstance(exc, SlowRequest):
            exchange.events.append(
                exchange.event("ddos", "slow-request", str(exc), Severity.MEDIUM)
            )
            if exchange.status == 0:
                self._send_error(runtime, 408, "request not received in time", exchange)
        elif exchange.status == 0:
            self._send_error(runtime, 408, "request body not received in time", exchange)
        return False

    def _reply(
        self,
        runtime: Runtime,
        exchange: Exchange,
        status: int,
        message: str,
        fields: tuple[tuple[bytes, bytes], ...] = (),
        close: bool = False,
    ) -> bool:
        """Send the gateway's own response; close when a request body is left unread."""
        head = exchange.request
        unread_body = head.framing is BodyFraming.CHUNKED or bool(head.content_length)
        close = close or unread_body or not head.keep_alive
        exchange.status = status
        data = json_response(
            status,
            message,
            exchange.request_id,
            runtime.request_id_header,
            extra=fields,
            close=close,
            head_only=head.method == b"HEAD",
        )
        exchange.response_bytes = len(data)
        self.write(data)
        if close:
            self.close()
        return not close

    def reject_exchange(self, runtime: Runtime, exchange: Exchange, verdict: Verdict) -> bool:
        message = verdict.message or _default_message(verdict.status)
        fields = tuple(exchange.response_fields_extra) + verdict.fields
        return self._reply(runtime, exchange, verdict.status, message, fields, verdict.close)

    def _client_info(self, runtime: Runtime, head: RequestHead) -> ClientInfo:
        address = self.peer[0]
        trusted = runtime.config.trusted_proxies
        if not trusted and not self.tls:
            # Nothing in such a ClientInfo depends on the request, so the
            # exchanges of one connection share it and must not change it.
            info = self._plain_client_info
            if info is None:
                info = self._plain_client_info = ClientInfo(
                    address, self.peer[1], address, False
                )
            return info
        if trusted:
            forwarded = b",".join(head.fields.get_all(b"x-forwarded-for")) or None
            address = resolve_client_address(address, forwarded, trusted)
        info = ClientInfo(address, self.peer[1], self.peer[0], self.tls)
        if self.tls and self.transport is not None:
            ssl_object = self.transport.get_extra_info("ssl_object")
            if ssl_object is not None:
                info.sni = getattr(ssl_object, "server_hostname", None) or self.worker.sni_of(
                    ssl_object
                )
                info.peer_certificate = ssl_object.getpeercert() or None
                info.peer_certificate_der = ssl_object.getpeercert(binary_form=True)
        return info


def request_id_from_empty() -> str:
    return os.urandom(16).hex()


DEFAULT_IDENTITY_FIELDS: Final = frozenset({b"x-consumer-id"})
"""The authentication layer's default consumer field, dropped even where no auth is set."""


def identity_field_names(policy: Policy) -> frozenset[bytes]:
    """Return the lower-case request fields that carry the consumer's identity upstream."""
    auth = policy.auth
    if auth is None:
        return DEFAULT_IDENTITY_FIELDS
    names = {name.lower().encode("ascii") for name in (auth.consumer_header, auth.groups_header)
             if name}
    return DEFAULT_IDENTITY_FIELDS | names


_METHOD_TEXT: Final = {
    method: method.decode("ascii")
    for method in (b"GET", b"HEAD", b"POST", b"PUT", b"PATCH", b"DELETE", b"OPTIONS")
}

HOST_CACHE_SIZE = 256
"""Distinct request authorities whose host part is kept decoded."""


@functools.lru_cache(maxsize=HOST_CACHE_SIZE)
def _host_without_port(authority: bytes) -> str:
    text = authority.decode("latin-1").lower()
    if text.startswith("["):
        return text[: text.find("]") + 1]
    return text.partition(":")[0]


def _default_message(status: int) -> str:
    if status == 401:
        return "authentication required"
    if status == 403:
        return "access denied"
    if status == 429:
        return "too many requests"
    return "request rejected"
