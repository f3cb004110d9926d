"""Command line: run the demo API with uvicorn on a loopback port."""

from __future__ import annotations

import argparse
import logging
import socket
import sqlite3
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from demo_api.app import create_app
from demo_api.database import DatabaseError
from demo_api.settings import DEFAULT_PORT, LISTEN_HOST, Settings

MAX_PORT = 65535
TRUSTED_PROXIES = "127.0.0.1,::1"
"""Peers whose X-Forwarded-For header sets the client address."""

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: expected an integer") from None
    if not 0 <= port <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"invalid port {port}: expected 0 to {MAX_PORT}")
    return port


def _origin(text: str) -> str:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) <= MAX_PORT:
        raise argparse.ArgumentTypeError(
            f"invalid origin {text!r}: expected HOST:PORT, such as 127.0.0.1:8080"
        )
    return f"{host.strip('[]').lower()}:{int(port)}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m demo_api",
        description=(
            "Run Stockade's deliberately vulnerable demo API on 127.0.0.1. "
            "VULNERABILITIES.md lists every planted hole; --fixed closes them all."
        ),
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help=f"TCP port on 127.0.0.1 (default {DEFAULT_PORT}; 0 picks a free port)",
    )
    parser.add_argument(
        "--fixed", action="store_true", help="run the variant with every planted hole fixed"
    )
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        help="SQLite file, reset to the seed data at every start (default: a temporary file)",
    )
    parser.add_argument(
        "--webhook-allow",
        type=_origin,
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="with --fixed, let outbound requests reach this origin even on a private address"
        " (repeatable)",
    )
    parser.add_argument(
        "--log-level", choices=LOG_LEVELS, default="info", help="uvicorn log level (default info)"
    )
    return parser


def bind_loopback(port: int) -> socket.socket:
    """Open a listening socket on 127.0.0.1; port 0 lets the kernel choose one."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LISTEN_HOST, port))
    except OSError:
        sock.close()
        raise
    sock.listen(socket.SOMAXCONN)
    return sock


def serve(app: FastAPI, sock: socket.socket, *, server_header: bool, log_level: str) -> None:
    """Serve ``app`` on ``sock`` until interrupted."""
    config = uvicorn.Config(
        app,
        log_level=log_level,
        server_header=server_header,
        lifespan="off",
        # A gateway in front runs on loopback, so the client address that
        # the login limit counts comes from its X-Forwarded-For header.
        proxy_headers=True,
        forwarded_allow_ips=TRUSTED_PROXIES,
    )
    uvicorn.Server(config).run(sockets=[sock])


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="demo_api-") as temp_dir:
        db_path = args.db or Path(temp_dir) / "demo.sqlite3"
        settings = Settings.for_mode(
            fixed=args.fixed, db_path=db_path, webhook_allowlist=frozenset(args.webhook_allow)
        )
        return _run(settings, args.port, args.log_level)


def _run(settings: Settings, port: int, log_level: str) -> int:
    try:
        app = create_app(settings)
    except (DatabaseError, sqlite3.Error, OSError) as exc:
        print(f"error: cannot prepare the database {settings.db_path}: {exc}", file=sys.stderr)
        return 1
    try:
        sock = bind_loopback(port)
    except OSError as exc:
        print(f"error: cannot listen on {LISTEN_HOST}:{port}: {exc}", file=sys.stderr)
        return 1
    with sock:
        bound_port = sock.getsockname()[1]
        if not settings.fixed:
            print("WARNING: this API is deliberately vulnerable; it listens on loopback only.")
        print(
            f"demo API ({settings.mode}) listening on http://{LISTEN_HOST}:{bound_port}", flush=True
        )
        serve(app, sock, server_header=not settings.fixed, log_level=log_level)
    return 0
