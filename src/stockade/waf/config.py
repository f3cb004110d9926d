"""The ``waf`` section of a Policy: which Core Rule Set, how paranoid, what to exclude."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from stockade.config.base import StrictModel
from stockade.waf.actions.ctl import parse_id_ranges
from stockade.waf.seclang.variables import parse_variable

CRS_SEARCH_PATHS = ("/usr/share/modsecurity-crs", "/usr/local/share/modsecurity-crs",
                    "/etc/modsecurity/crs", "/opt/owasp-crs")
"""Directories searched for a packaged CRS when crs_path is not set (Debian, source installs)."""

API_ALLOWED_METHODS = ("GET", "HEAD", "POST", "OPTIONS", "PUT", "PATCH", "DELETE")
API_CONTENT_TYPES = (
    "application/x-www-form-urlencoded", "multipart/form-data", "multipart/related",
    "text/xml", "application/xml", "application/soap+xml", "application/json",
    "application/merge-patch+json", "application/json-patch+json", "application/problem+json",
    "application/vnd.api+json", "application/hal+json", "application/ld+json",
    "application/x-ndjson", "application/graphql", "application/grpc-web+json",
    "application/cloudevents+json", "application/cloudevents-batch+json", "text/plain",
    "application/octet-stream", "application/x-protobuf", "application/cbor",
    "application/csp-report",
)
"""Request media types an API commonly accepts; the CRS website default has only six."""


class TargetExclusion(StrictModel):
    rule_id: str = Field(description="Rule id or range, e.g. 942100 or 942100-942199.")
    target: str = Field(description="Variable to stop inspecting, e.g. ARGS:password.")

    @field_validator("rule_id")
    @classmethod
    def _check_ids(cls, value: str) -> str:
        parse_id_ranges(value)
        return value

    @field_validator("target")
    @classmethod
    def _check_target(cls, value: str) -> str:
        parse_variable(value)
        return value


class RuleExclusions(StrictModel):
    remove_by_id: list[str] = Field(default_factory=list,
                                    description="Rule ids or ranges never run for this policy.")
    remove_by_tag: list[str] = Field(default_factory=list,
                                     description="Rule tags, e.g. attack-sqli, never run.")
    remove_targets: list[TargetExclusion] = Field(
        default_factory=list, description="Variables that one rule (or range) skips.")

    @field_validator("remove_by_id")
    @classmethod
    def _check_ids(cls, value: list[str]) -> list[str]:
        for item in value:
            parse_id_ranges(item)
        return value


class WafPolicy(StrictModel):
    """Core Rule Set settings of a tenant, service or route."""

    crs_path: str | None = Field(
        None, description="CRS directory containing rules/; searched in the usual install "
                          "locations when unset.")
    paranoia_level: int = Field(1, ge=1, le=4, description="Blocking paranoia level (1-4).")
    detection_paranoia_level: int | None = Field(
        None, ge=1, le=4, description="Rules up to this level run and log without blocking; "
                                      "at least paranoia_level.")
    inbound_anomaly_threshold: int = Field(5, ge=1, description="Inbound score that blocks.")
    outbound_anomaly_threshold: int = Field(4, ge=1, description="Outbound score that blocks.")
    api_defaults: bool = Field(
        True, description="Allow REST methods and API content types (see docs/waf.md).")
    allowed_methods: list[str] | None = Field(None, description="Replaces the allowed methods.")
    allowed_content_types: list[str] | None = Field(
        None, description="Replaces the allowed request media types.")
    exclusions: RuleExclusions = RuleExclusions()
    extra_rule_files: list[str] = Field(
        default_factory=list, description="SecLang files loaded after the CRS, in order.")

    @model_validator(mode="after")
    def _check_levels(self) -> WafPolicy:
        detection = self.detection_paranoia_level
        if detection is not None and detection < self.paranoia_level:
            raise ValueError(f"detection_paranoia_level {detection} is below paranoia_level "
                             f"{self.paranoia_level}; set it equal or higher")
        return self

    @field_validator("allowed_methods")
    @classmethod
    def _check_methods(cls, value: list[str] | None) -> list[str] | None:
        for method in value or []:
            if not method.isalpha() or not method.isupper():
                raise ValueError(f"method {method!r} must be an upper-case token such as GET")
        return value

    @field_validator("allowed_content_types")
    @classmethod
    def _check_types(cls, value: list[str] | None) -> list[str] | None:
        for item in value or []:
            if "/" not in item or "|" in item or " " in item:
                raise ValueError(f"content type {item!r} must look like application/json")
        return value
