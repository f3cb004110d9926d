"""Run the admin API on its own listener, with TLS when a certificate is given."""

from __future__ import annotations

import logging
import os

import uvicorn

from stockade.admin.app import create_admin_app
from stockade.config.models import parse_address
from stockade.store.database import migrate, open_engine
from stockade.store.scope import Store

log = logging.getLogger(__name__)

DEFAULT_ADMIN_ADDRESS = "127.0.0.1:9902"


def serve_admin(store_url: str, address: str = DEFAULT_ADMIN_ADDRESS, *,
                tls_cert: str | None = None, tls_key: str | None = None,
                inventory_database: str | None = None, log_level: str = "info") -> None:
    """Serve until interrupted; migrates the store first."""
    if (tls_cert is None) != (tls_key is None):
        raise ValueError("give both a TLS certificate and its key, or neither")
    for path in (tls_cert, tls_key):
        if path is not None and not os.path.isfile(path):
            raise ValueError(f"TLS file {path!r} not found; pass the path of a PEM file")
    host, port = parse_address(address)
    engine = open_engine(store_url)
    migrate(engine)
    app = create_admin_app(Store(engine), inventory_database)
    config = uvicorn.Config(app, host=host, port=port, ssl_certfile=tls_cert,
                            ssl_keyfile=tls_key, log_level=log_level, access_log=True)
    log.info("admin API listening on %s://%s", "https" if tls_cert else "http", address)
    try:
        uvicorn.Server(config).run()
    finally:
        engine.dispose()
