"""Consumers of a tenant and their credentials, as written in the config."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from cryptography import x509
from pydantic import AfterValidator, Field, field_validator

from stockade.auth.hashing import CredentialHashError, PasswordHash, parse_api_key_hash
from stockade.config.base import Identifier, StrictModel

SAN_KINDS = ("DNS", "URI", "email", "IP")


class ApiKeyCredential(StrictModel):
    id: Identifier = Field(
        description="Names the key in logs and events; the key itself never appears."
    )
    hash: str = Field(
        description="sha256:<hex> of the key, as 'stockade credentials new-api-key' prints it."
    )
    expires: dt.datetime | None = Field(
        None, description="Time the key stops working, with a time zone."
    )
    revoked: bool = False

    @field_validator("hash")
    @classmethod
    def _check_hash(cls, value: str) -> str:
        try:
            parse_api_key_hash(value)
        except CredentialHashError as error:
            raise ValueError(str(error)) from None
        return value.lower()

    @field_validator("expires")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError(
                f"expires {value.isoformat()} needs a time zone, e.g. 2027-01-31T00:00:00Z"
            )
        return value


class TokenSubject(StrictModel):
    issuer: str | None = Field(
        None, description="Token issuer; null matches any issuer of the tenant."
    )
    subject: str = Field(min_length=1, description="Value of the issuer's consumer_claim.")


class BasicCredential(StrictModel):
    username: str = Field(min_length=1, max_length=256, pattern=r"^[^:\x00-\x1f]+$")
    password_hash: str = Field(description="scrypt hash from 'stockade credentials hash-password'.")

    @field_validator("password_hash")
    @classmethod
    def _check_hash(cls, value: str) -> str:
        try:
            PasswordHash(value)
        except CredentialHashError as error:
            raise ValueError(str(error)) from None
        return value


class CertificateIdentity(StrictModel):
    subjects: list[str] = Field(
        default_factory=list,
        description="Subject distinguished names, RFC 4514, e.g. 'CN=app,O=Acme'.",
    )
    sans: list[str] = Field(
        default_factory=list,
        description="Subject alternative names as KIND:value, KIND one of DNS, URI, email, IP.",
    )

    @field_validator("subjects")
    @classmethod
    def _normalize_subjects(cls, value: list[str]) -> list[str]:
        return [normalize_subject(subject) for subject in value]

    @field_validator("sans")
    @classmethod
    def _check_sans(cls, value: list[str]) -> list[str]:
        for san in value:
            kind, sep, rest = san.partition(":")
            if not sep or kind not in SAN_KINDS or not rest:
                raise ValueError(
                    f"SAN {san!r} must be KIND:value with KIND one of {', '.join(SAN_KINDS)}"
                )
        return value


class ConsumerConfig(StrictModel):
    id: Identifier
    groups: list[str] = Field(default_factory=list)
    disabled: bool = Field(False, description="A disabled consumer's credentials are all rejected.")
    api_keys: list[ApiKeyCredential] = Field(default_factory=list)
    token_subjects: list[TokenSubject] = Field(default_factory=list)
    basic: BasicCredential | None = None
    certificate: CertificateIdentity | None = None


def normalize_subject(subject: str) -> str:
    """Return the RFC 4514 form cryptography prints, so equal names compare equal."""
    try:
        return x509.Name.from_rfc4514_string(subject).rfc4514_string()
    except ValueError as error:
        raise ValueError(
            f"certificate subject {subject!r} is not an RFC 4514 name: {error}"
        ) from None


def _check_unique(consumers: list[ConsumerConfig]) -> list[ConsumerConfig]:
    ids: set[str] = set()
    owners: dict[tuple[str, str], str] = {}

    def claim(kind: str, value: str, consumer: str) -> None:
        owner = owners.setdefault((kind, value), consumer)
        if owner != consumer:
            raise ValueError(
                f"{kind} {value!r} is given to both consumer {owner!r} and {consumer!r}"
            )

    for consumer in consumers:
        if consumer.id in ids:
            raise ValueError(
                f"duplicate consumer id {consumer.id!r}; ids must be unique in a tenant"
            )
        ids.add(consumer.id)
        for key in consumer.api_keys:
            claim("API key hash", key.hash, consumer.id)
        for token in consumer.token_subjects:
            claim("token subject", f"{token.issuer or '*'} {token.subject}", consumer.id)
        if consumer.basic is not None:
            claim("user name", consumer.basic.username, consumer.id)
        if consumer.certificate is not None:
            for subject in consumer.certificate.subjects:
                claim("certificate subject", subject, consumer.id)
            for san in consumer.certificate.sans:
                claim("certificate SAN", san, consumer.id)
    return consumers


Consumers = Annotated[list[ConsumerConfig], AfterValidator(_check_unique)]
"""A tenant's consumers; ids and every credential must be unique within the tenant."""
