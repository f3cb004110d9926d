"""Run the admin API on its own listener, with TLS when a certificate is given."""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType

import uvicorn

from stockade.admin.app import create_admin_app
from stockade.config.models import parse_address
from stockade.scanner.queue import ScanRunner
from stockade.store.database import migrate, open_engine
from stockade.store.scope import Store

log = logging.getLogger(__name__)

DEFAULT_ADMIN_ADDRESS = "127.0.0.1:9902"


def _exit_cleanly(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def serve_admin(store_url: str, address: str = DEFAULT_ADMIN_ADDRESS, *,
                tls_cert: str | None = None, tls_key: str | None = None,
                inventory_database: str | None = None, log_level: str = "info",
                run_scans: bool = True) -> None:
    """Serve until interrupted; migrates the store first.

    With ``run_scans`` a scan runner in this process carries out the scans
    queued through the API, one at a time.
    """
    if (tls_cert is None) != (tls_key is None):
        raise ValueError("give both a TLS certificate and its key, or neither")
    for path in (tls_cert, tls_key):
        if path is not None and not os.path.isfile(path):
            raise ValueError(f"TLS file {path!r} not found; pass the path of a PEM file")
    host, port = parse_address(address)
    engine = open_engine(store_url)
    migrate(engine)
    store = Store(engine)
    app = create_admin_app(store, inventory_database)
    config = uvicorn.Config(app, host=host, port=port, ssl_certfile=tls_cert,
                            ssl_keyfile=tls_key, log_level=log_level, access_log=True)
    log.info("admin API listening on %s://%s", "https" if tls_cert else "http", address)
    runner = ScanRunner(store) if run_scans else None
    if runner is not None:
        runner.start()
    if threading.current_thread() is threading.main_thread():
        # uvicorn re-raises the stop signal after its shutdown; for SIGTERM the
        # default action would end the process before the runner is stopped.
        signal.signal(signal.SIGTERM, _exit_cleanly)
    try:
        uvicorn.Server(config).run()
    except KeyboardInterrupt:
        log.info("admin API stopped")
    finally:
        if runner is not None:
            runner.stop()
        engine.dispose()
