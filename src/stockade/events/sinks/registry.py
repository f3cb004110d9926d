"""Build a sink from its config section, one builder per sink type."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stockade.config.models import parse_address
from stockade.events.config import (
    HecSinkConfig,
    JsonLinesSinkConfig,
    SinkConfig,
    StoreSinkConfig,
    SyslogSinkConfig,
    WebhookSinkConfig,
    read_secret,
)
from stockade.events.sinks.base import Sink
from stockade.events.sinks.hec import HecSink
from stockade.events.sinks.jsonl import JsonLinesSink
from stockade.events.sinks.store import StoreSink
from stockade.events.sinks.syslog import SyslogSink
from stockade.events.sinks.webhook import WebhookSink
from stockade.store.database import migrate, open_engine
from stockade.store.scope import Store


def _tls_context(ca_file: str | None) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_file)


def _build_store(config: StoreSinkConfig, store_url: str) -> Sink:
    engine = open_engine(config.url or store_url)
    migrate(engine)
    return StoreSink(config.name, Store(engine))


def _build_jsonl(config: JsonLinesSinkConfig, _store_url: str) -> Sink:
    return JsonLinesSink(config.name, Path(config.path))


def _build_webhook(config: WebhookSinkConfig, _store_url: str) -> Sink:
    key = read_secret(config.secret_env, config.name).encode()
    return WebhookSink(config.name, config.url, key, config.timeout_seconds,
                       verify=_tls_context(config.ca_file) if config.ca_file else True)


def _build_syslog(config: SyslogSinkConfig, _store_url: str) -> Sink:
    host, port = parse_address(config.address)
    return SyslogSink(
        config.name, host, port, config.transport, facility=config.facility,
        app_name=config.app_name, hostname=config.hostname,
        timeout_seconds=config.timeout_seconds,
        ssl_context=_tls_context(config.ca_file) if config.transport == "tls" else None,
        server_name=config.server_name)


def _build_hec(config: HecSinkConfig, _store_url: str) -> Sink:
    token = read_secret(config.token_env, config.name)
    return HecSink(config.name, config.url, token, source=config.source,
                   sourcetype=config.sourcetype, index=config.index,
                   timeout_seconds=config.timeout_seconds,
                   verify=_tls_context(config.ca_file) if config.ca_file else True)


BUILDERS: dict[type[Any], Callable[[Any, str], Sink]] = {
    StoreSinkConfig: _build_store,
    JsonLinesSinkConfig: _build_jsonl,
    WebhookSinkConfig: _build_webhook,
    SyslogSinkConfig: _build_syslog,
    HecSinkConfig: _build_hec,
}


def build_sink(config: SinkConfig, store_url: str) -> Sink:
    """Create the sink ``config`` describes; ``store_url`` serves store sinks without a URL."""
    return BUILDERS[type(config)](config, store_url)
