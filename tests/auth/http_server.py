"""A small HTTP server on loopback serving JWKS documents and introspection responses."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

IntrospectionHandler = Callable[[dict[str, str], str | None], tuple[int, Any]]


class LocalAuthServer:
    """Serves ``documents[path]`` as JSON for GET and calls ``introspection`` for POST."""

    def __init__(self, certificate: tuple[str, str] | None = None) -> None:
        """Serve plain HTTP, or HTTPS with ``certificate`` as (cert path, key path)."""
        self.documents: dict[str, Any] = {}
        self.introspection: IntrospectionHandler | None = None
        self.hits: dict[str, int] = {}
        self.posts: list[tuple[dict[str, str], str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                if self.path not in server.documents:
                    self._answer(404, {"error": "not found"})
                    return
                self._answer(200, server.documents[self.path])

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = {
                    key: values[0]
                    for key, values in parse_qs(self.rfile.read(length).decode()).items()
                }
                authorization = self.headers.get("Authorization")
                server.posts.append((form, authorization))
                if server.introspection is None:
                    self._answer(404, {})
                    return
                status, body = server.introspection(form, authorization)
                self._answer(status, body)

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.scheme = "http"
        if certificate is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*certificate)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
            self.scheme = "https"
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def start(self) -> LocalAuthServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
