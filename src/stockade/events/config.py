"""The ``events`` section of the config: sinks, spool, queue size and alert rules.

Secrets (webhook keys, HEC tokens) are never written in the config. Each
sink names the environment variable that contains its secret, so the YAML file
and the store can be exported and shared without leaking them.
"""

from __future__ import annotations

import os
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from stockade.config.base import MIB, ConfigPath, Identifier, StrictModel
from stockade.events.model import Severity

SeverityName = Literal["info", "low", "medium", "high", "critical"]

DEFAULT_QUEUE_SIZE = 10_000
"""Events held in memory between the data plane and the sinks; about 10 MB at 1 KB each."""


def severity_of(name: SeverityName) -> Severity:
    return Severity[name.upper()]


class SinkBase(StrictModel):
    name: Identifier
    tenants: list[Identifier] | None = Field(
        None, description="Only events of these tenants reach the sink; unset means every tenant.")
    min_severity: SeverityName = Field(
        "info", description="Events below this severity are skipped.")
    batch_size: int = Field(100, ge=1, le=10_000, description="Most events sent in one delivery.")
    retry_initial_seconds: float = Field(
        0.5, gt=0, le=60, description="Seconds before the first retry of a failed delivery.")
    retry_max_seconds: float = Field(
        60.0, gt=0, le=3600,
        description="Maximum wait between retries, in seconds; the wait doubles up to it.")
    spool_max_bytes: int = Field(
        256 * MIB, ge=1 * MIB,
        description="Disk space for events waiting for this sink; new events past it are "
                    "counted as dropped.")


class StoreSinkConfig(SinkBase):
    type: Literal["store"]
    url: str | None = Field(None, description="Database URL; unset uses the 'store' section's.")


class JsonLinesSinkConfig(SinkBase):
    type: Literal["jsonl"]
    path: ConfigPath = Field(
        description="File that events are appended to, one JSON object a line.")


class WebhookSinkConfig(SinkBase):
    type: Literal["webhook"]
    url: str = Field(description="http:// or https:// URL that receives a POST per batch.")
    secret_env: str = Field(
        description="Environment variable holding the HMAC-SHA256 signing key.")
    timeout_seconds: float = Field(10.0, gt=0, le=300, description="Time limit of one POST.")
    ca_file: ConfigPath | None = Field(
        None, description="PEM CA bundle to verify an https URL against.")

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return check_http_url(value)


class SyslogSinkConfig(SinkBase):
    type: Literal["syslog"]
    address: str = Field(description="host:port of the syslog receiver.")
    transport: Literal["udp", "tcp", "tls"] = "udp"
    facility: int = Field(13, ge=0, le=23, description="Syslog facility number; 13 is log audit.")
    app_name: str = Field("stockade", min_length=1, max_length=48)
    hostname: str | None = Field(None, description="HOSTNAME field; unset uses this host's name.")
    ca_file: ConfigPath | None = Field(
        None, description="PEM CA bundle that verifies a TLS receiver.")
    server_name: str | None = Field(
        None, description="Name expected in the receiver's certificate.")
    timeout_seconds: float = Field(
        10.0, gt=0, le=300, description="Time limit to connect and send.")

    @field_validator("address")
    @classmethod
    def _check_address(cls, value: str) -> str:
        from stockade.config.models import parse_address

        parse_address(value)
        return value


class HecSinkConfig(SinkBase):
    type: Literal["hec"]
    url: str = Field(description="Base URL of the HTTP Event Collector, e.g. https://127.0.0.1:8088.")
    token_env: str = Field(description="Environment variable holding the HEC token.")
    index: str | None = None
    source: str = "stockade"
    sourcetype: str = "stockade:security"
    timeout_seconds: float = Field(10.0, gt=0, le=300, description="Time limit of one POST.")
    ca_file: ConfigPath | None = Field(
        None, description="PEM CA bundle to verify an https URL against.")

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return check_http_url(value)


SinkConfig = Annotated[
    StoreSinkConfig | JsonLinesSinkConfig | WebhookSinkConfig | SyslogSinkConfig | HecSinkConfig,
    Field(discriminator="type"),
]


class AlertRule(StrictModel):
    """Notify a sink once per window when a tenant has more than ``threshold`` events."""

    id: Identifier
    tenant: Identifier
    threshold: int = Field(ge=0, description="Alert when more than this many events match.")
    window_minutes: float = Field(gt=0, le=7 * 24 * 60, description="Length of the window.")
    min_severity: SeverityName = "critical"
    layer: str | None = Field(None, description="Count only events of this layer.")
    kind: str | None = Field(None, description="Count only events of this kind.")
    sink: Identifier = Field(description="Name of the sink that receives the alert.")


class EventsConfig(StrictModel):
    queue_size: int = Field(DEFAULT_QUEUE_SIZE, ge=1, le=10_000_000,
                            description="Events held in memory before new ones are dropped.")
    spool_dir: ConfigPath = Field(
        "spool", validate_default=True,
        description="Directory of the per-sink disk spools; relative to the config file.")
    sinks: list[SinkConfig] = Field(default_factory=list)
    alert_rules: list[AlertRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_names(self) -> EventsConfig:
        names = [sink.name for sink in self.sinks]
        if len(set(names)) != len(names):
            raise ValueError(f"sink names must be unique, got {names}")
        rule_keys = [(rule.tenant, rule.id) for rule in self.alert_rules]
        if len(set(rule_keys)) != len(rule_keys):
            raise ValueError("alert rule ids must be unique per tenant")
        for rule in self.alert_rules:
            if rule.sink not in names:
                raise ValueError(f"alert rule {rule.id!r} names sink {rule.sink!r}, which is not "
                                 f"configured; use one of {names}")
        return self


def check_http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"URL {value!r} must start with http:// or https://")
    return value


def read_secret(variable: str, sink: str) -> str:
    """Return the secret a sink names by environment variable; raise if it is unset."""
    value = os.environ.get(variable)
    if not value:
        raise ValueError(f"sink {sink!r}: environment variable {variable!r} is unset or empty; "
                         "set it to the secret before starting")
    return value
