"""Look-up tables from a credential to the consumer of one tenant, built once per config load."""

from __future__ import annotations

from dataclasses import dataclass, field

from stockade.auth.consumers import ConsumerConfig, normalize_subject
from stockade.auth.hashing import PasswordHash, parse_api_key_hash
from stockade.gateway.exchange import Consumer


@dataclass(frozen=True, slots=True)
class StoredApiKey:
    consumer: ConsumerConfig
    key_id: str
    digest: bytes
    expires_at: float | None  # Unix time
    revoked: bool


@dataclass(frozen=True, slots=True)
class StoredPassword:
    consumer: ConsumerConfig
    password: PasswordHash


@dataclass(slots=True)
class ConsumerDirectory:
    tenant: str
    consumers: dict[str, ConsumerConfig] = field(default_factory=dict)
    api_keys: dict[bytes, StoredApiKey] = field(default_factory=dict)
    passwords: dict[str, StoredPassword] = field(default_factory=dict)
    token_subjects: dict[tuple[str | None, str], ConsumerConfig] = field(default_factory=dict)
    certificate_names: dict[str, ConsumerConfig] = field(
        default_factory=dict
    )  # "subject:..." / "san:..."

    @classmethod
    def build(cls, tenant: str, consumers: list[ConsumerConfig]) -> ConsumerDirectory:
        directory = cls(tenant)
        for consumer in consumers:
            directory.consumers[consumer.id] = consumer
            for key in consumer.api_keys:
                digest = parse_api_key_hash(key.hash)
                expires = key.expires.timestamp() if key.expires else None
                directory.api_keys[digest] = StoredApiKey(
                    consumer, key.id, digest, expires, key.revoked
                )
            for token in consumer.token_subjects:
                directory.token_subjects[(token.issuer, token.subject)] = consumer
            if consumer.basic is not None:
                directory.passwords[consumer.basic.username] = StoredPassword(
                    consumer, PasswordHash(consumer.basic.password_hash)
                )
            if consumer.certificate is not None:
                for subject in consumer.certificate.subjects:
                    directory.certificate_names["subject:" + normalize_subject(subject)] = consumer
                for san in consumer.certificate.sans:
                    directory.certificate_names["san:" + san] = consumer
        return directory

    def by_token_subject(self, issuer: str | None, subject: str) -> ConsumerConfig | None:
        return self.token_subjects.get((issuer, subject)) or self.token_subjects.get(
            (None, subject)
        )

    def to_consumer(
        self,
        config: ConsumerConfig,
        *,
        method: str,
        credential: str,
        extra_groups: frozenset[str] = frozenset(),
        scopes: frozenset[str] = frozenset(),
        claims: dict[str, object] | None = None,
    ) -> Consumer:
        return Consumer(
            id=config.id,
            tenant=self.tenant,
            groups=frozenset(config.groups) | extra_groups,
            scopes=scopes,
            claims=dict(claims or {}),
            credential=credential,
            auth_method=method,
        )
