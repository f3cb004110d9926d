"""Keep a gateway node's config file in step with the store.

The MSSP edits tenants through the admin API. Every gateway node runs a
follower that writes the store's tenants, default policy and alert rules
into the node's config file. The follower merges them with the node's own
settings (listeners, workers, limits, sinks) from a base file. The gateway already reloads in
place when its config file changes, so a change reaches every node without
a restart. On PostgreSQL the follower waits on LISTEN for the NOTIFY each
change sends; on SQLite it polls the config version.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import yaml
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from stockade.config.models import GatewayConfig
from stockade.store.config_sync import config_to_yaml_data, export_config
from stockade.store.database import migrate, open_engine
from stockade.store.scope import CONFIG_CHANNEL, Store

log = logging.getLogger(__name__)

STORE_SECTIONS = ("tenants", "policy")
"""Top-level config sections the store provides; the base file provides the rest."""

DEFAULT_POLL_SECONDS = 2.0
"""How often the config version is checked without a notification (SQLite, or a lost one)."""

STOP_CHECK_SECONDS = 0.5
"""Maximum seconds a follower waits for a notification before it checks whether to stop."""

RECONNECT_MAX_SECONDS = 30.0
"""Maximum seconds between reconnection attempts after the database went away."""

FOLLOWER_ACTOR = "config-follower"


def merge_config(base: dict[str, Any], exported: GatewayConfig) -> dict[str, Any]:
    """Build the node's config: ``base`` with the store's sections in place of its own.

    Raises ValidationError when the result is invalid, for example when an
    alert rule names a sink this node does not configure.
    """
    store_data = config_to_yaml_data(exported)
    data = {key: value for key, value in base.items() if key not in STORE_SECTIONS}
    for key in STORE_SECTIONS:
        if key in store_data:
            data[key] = store_data[key]
    rules = store_data.get("events", {}).get("alert_rules")
    events = {key: value for key, value in dict(data.get("events") or {}).items()
              if key != "alert_rules"}
    if rules:
        events["alert_rules"] = rules
    if events:
        data["events"] = events
    GatewayConfig.model_validate(data)
    return data


def write_if_changed(path: Path, text: str) -> bool:
    """Replace the file atomically when its content differs; return True when written."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except FileNotFoundError:
        pass
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
    return True


class ConfigFollower:
    def __init__(self, store_url: str, base_path: Path, output_path: Path,
                 poll_seconds: float = DEFAULT_POLL_SECONDS) -> None:
        self.engine = open_engine(store_url)
        migrate(self.engine)
        self.store = Store(self.engine)
        self.base_path = base_path
        self.output_path = output_path
        self.poll_seconds = poll_seconds
        self.version: int | None = None

    def sync(self) -> bool:
        """Write the output file from the store now; return True when it changed."""
        version = self.store.config_version()
        base = yaml.safe_load(self.base_path.read_text(encoding="utf-8")) or {}
        if not isinstance(base, dict):
            raise ValueError(f"{self.base_path}: the base config must be a YAML mapping")
        with self.store.session(None, FOLLOWER_ACTOR) as scope:
            exported = export_config(scope)
        merged = merge_config(base, exported)
        changed = write_if_changed(self.output_path, yaml.safe_dump(merged, sort_keys=False))
        self.version = version
        if changed:
            log.info("config version %d written to %s", version, self.output_path)
        return changed

    def _sync_logged(self) -> None:
        try:
            self.sync()
        except (ValidationError, ValueError, OSError, yaml.YAMLError) as exc:
            log.error("config version from the store not applied, %s keeps its content: %s",
                      self.output_path, exc)

    def run(self, stop: threading.Event) -> None:
        """Follow the store until ``stop`` is set."""
        self._sync_logged()
        delay = self.poll_seconds
        while not stop.is_set():
            try:
                if self.store.dialect == "postgresql":
                    self._listen(stop)
                else:
                    self._poll(stop)
                delay = self.poll_seconds
            except (psycopg.Error, SQLAlchemyError, OSError) as exc:
                log.warning("config follower lost the database (%s); retrying in %.0f s",
                            exc, delay)
                stop.wait(delay)
                delay = min(delay * 2, RECONNECT_MAX_SECONDS)

    def _poll(self, stop: threading.Event) -> None:
        while not stop.wait(self.poll_seconds):
            if self.store.config_version() != self.version:
                self._sync_logged()

    def _listen(self, stop: threading.Event) -> None:
        url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f"LISTEN {CONFIG_CHANNEL}")
            # A change made before LISTEN took effect would otherwise go unseen.
            if self.store.config_version() != self.version:
                self._sync_logged()
            next_poll = time.monotonic() + self.poll_seconds
            while not stop.is_set():
                wait = min(STOP_CHECK_SECONDS, self.poll_seconds)
                notified = any(True for _ in connection.notifies(timeout=wait, stop_after=1))
                if notified:
                    self._sync_logged()
                elif time.monotonic() >= next_poll:
                    next_poll = time.monotonic() + self.poll_seconds
                    if self.store.config_version() != self.version:
                        self._sync_logged()

    def close(self) -> None:
        self.engine.dispose()


def follow(store_url: str, base_path: Path, output_path: Path,
           poll_seconds: float = DEFAULT_POLL_SECONDS) -> None:
    """Run a follower in this thread until SIGINT or SIGTERM."""
    import signal

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    follower = ConfigFollower(store_url, base_path, output_path, poll_seconds)
    log.info("following the config in %s into %s", follower.engine.url.render_as_string(),
             output_path)
    try:
        follower.run(stop)
    finally:
        follower.close()
        log.info("config follower stopped")
