"""The authentication stage: find the consumer of the tenant, or reject with 401.

The first credential the request carries decides, in this order: API key,
bearer token, Basic. A request that carries a bad credential is rejected
even if another credential would pass, so a client cannot probe with one
and fall back to another. A verified client certificate names the consumer
only when no other credential is present; with ``mtls.required`` it must be
there in any case.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar, cast
from urllib.parse import quote

from stockade.auth.apikey import ApiKeyAuthenticator
from stockade.auth.basic import BasicAuthenticator
from stockade.auth.bearer import BearerAuthenticator
from stockade.auth.challenge import challenge, missing_credentials
from stockade.auth.config import AuthPolicy, IntrospectionAuth, JwtAuth, JwtIssuer, MtlsAuth
from stockade.auth.directory import ConsumerDirectory
from stockade.auth.http_client import JsonClient
from stockade.auth.introspection import Introspector
from stockade.auth.jwks import KeySource, RemoteJwks, StaticKeySource
from stockade.auth.jwt_keys import JwtKeyError, KeySet, key_from_jwk, key_from_pem, load_jwks_file
from stockade.auth.jwt_verify import JwtVerifier
from stockade.auth.mtls import CertificateAuthenticator, ClientCaSettings, client_ca_for
from stockade.auth.outcome import CERTIFICATE, Authenticator, AuthFailure
from stockade.events.model import Severity
from stockade.gateway.exchange import Consumer, Exchange
from stockade.gateway.pipeline import CONTINUE, Phase, StageRegistry, Verdict, reject
from stockade.gateway.routing import Resources, RouteContext

log = logging.getLogger(__name__)

T = TypeVar("T")

AUTH_STAGE_ORDER = 200
INTROSPECTION_RETRY_AFTER_SECONDS = (
    b"5"  # Retry-After on 503 while the authorization server is down
)

_HIGH_SEVERITY_REASONS = frozenset(
    {
        "jwt-algorithm-not-allowed",
        "jwt-bad-signature",
        "jwt-key-mismatch",
        "token-binding-mismatch",
        "certificate-wrong-ca",
        "api-key-revoked",
    }
)


class AuthStage:
    name = "auth"
    layer = "auth"
    phases = frozenset({Phase.REQUEST_HEADERS})

    def __init__(
        self,
        policy: AuthPolicy,
        authenticators: list[Authenticator],
        certificate: CertificateAuthenticator | None,
    ) -> None:
        self.policy = policy
        self._authenticators = authenticators
        self._certificate = certificate
        self._challenges = missing_credentials(policy)
        self._identity_fields = [
            name.encode("ascii") for name in (policy.consumer_header, policy.groups_header) if name
        ]

    def wants_request_body(self, exchange: Exchange) -> bool:
        return False

    def wants_response_body(self, exchange: Exchange) -> bool:
        return False

    async def check(self, exchange: Exchange, phase: Phase) -> Verdict:
        # Remove client copies first, so a rejected or anonymous request cannot carry an identity.
        for name in self._identity_fields:
            exchange.request.fields.remove(name)
        verdict = await self._authenticate(exchange)
        if exchange.consumer is not None and not verdict.reject:
            self._tell_upstream(exchange, exchange.consumer)
        return verdict

    def _tell_upstream(self, exchange: Exchange, consumer: Consumer) -> None:
        fields = exchange.request.fields
        if self.policy.consumer_header:
            fields.add(self.policy.consumer_header.encode("ascii"), _field_value(consumer.id))
        if self.policy.groups_header and consumer.groups:
            groups = ",".join(sorted(consumer.groups))
            fields.add(self.policy.groups_header.encode("ascii"), _field_value(groups))

    async def _authenticate(self, exchange: Exchange) -> Verdict:
        certificate = self._certificate
        mtls = self.policy.mtls
        if (
            certificate is not None
            and mtls is not None
            and mtls.required
            and not certificate.present(exchange)
        ):
            return self._reject(
                exchange,
                AuthFailure(
                    "certificate-missing", CERTIFICATE, "route requires a client certificate"
                ),
            )
        if len(exchange.request.fields.get_all(b"authorization")) > 1:
            # Authorization is a singleton field; with two, the upstream might read the other one.
            return self._reject(
                exchange, AuthFailure("authorization-repeated", "", "several Authorization fields")
            )
        for authenticator in self._authenticators:
            outcome = await authenticator.authenticate(exchange)
            if outcome is None:
                continue
            if isinstance(outcome, AuthFailure):
                return self._reject(exchange, outcome)
            if certificate is not None and certificate.present(exchange):
                wrong = certificate.wrong_handshake(exchange)
                if wrong is not None:
                    return self._reject(exchange, wrong)
            exchange.consumer = outcome
            return CONTINUE
        if certificate is not None:
            outcome = await certificate.authenticate(exchange)
            if isinstance(outcome, AuthFailure):
                return self._reject(exchange, outcome)
            if outcome is not None:
                exchange.consumer = outcome
                return CONTINUE
        if self.policy.required:
            return self._reject(
                exchange, AuthFailure("credentials-missing", "", "request carries no credential")
            )
        return CONTINUE

    def _reject(self, exchange: Exchange, failure: AuthFailure) -> Verdict:
        severity = Severity.HIGH if failure.reason in _HIGH_SEVERITY_REASONS else Severity.MEDIUM
        if failure.reason == "credentials-missing":
            severity = Severity.LOW
        event = exchange.event(
            "auth",
            failure.reason,
            failure.message or failure.reason,
            severity,
            evidence=dict(failure.evidence),
        )
        if failure.status == 503:
            return reject(
                503,
                failure.reason,
                "authentication is unavailable, retry later",
                severity=severity,
                fields=((b"Retry-After", INTROSPECTION_RETRY_AFTER_SECONDS),),
                events=(event,),
            )
        if failure.scheme == CERTIFICATE:
            return reject(403, failure.reason, "forbidden", severity=severity, events=(event,))
        if failure.scheme:
            fields: tuple[tuple[bytes, bytes], ...] = (
                challenge(failure.scheme, self.policy.realm, invalid=True),
            )
        else:
            fields = self._challenges
        return reject(
            401,
            failure.reason,
            "authentication required",
            severity=severity,
            fields=fields,
            events=(event,),
        )


def build_auth_stage(context: RouteContext) -> AuthStage | None:
    policy = context.policy.auth
    if policy is None or not policy.any_method():
        return None
    resources = context.resources
    tenant = context.tenant
    where = f"tenant {tenant.id}, service {context.service.id}, route {context.route.id}"
    directory: ConsumerDirectory = shared(
        resources,
        f"auth.directory:{tenant.id}",
        tenant.consumers,
        lambda: ConsumerDirectory.build(tenant.id, tenant.consumers),
    )

    hide = policy.hide_credentials
    authenticators: list[Authenticator] = []
    if policy.api_key is not None:
        authenticators.append(ApiKeyAuthenticator(policy.api_key, directory, hide=hide))
    if policy.jwt is not None or policy.introspection is not None:
        verifier = _jwt_verifier(policy.jwt, resources, where) if policy.jwt else None
        introspector = (
            _introspector(policy.introspection, tenant.id, resources)
            if policy.introspection
            else None
        )
        authenticators.append(BearerAuthenticator(directory, verifier, introspector))
    if policy.basic is not None:
        settings = policy.basic
        authenticators.append(
            shared(
                resources,
                f"auth.basic:{tenant.id}:{_digest(settings.model_dump_json())}:{hide}",
                directory,
                lambda: BasicAuthenticator(settings, directory, hide=hide),
            )
        )

    certificate = None
    if policy.mtls is not None:
        certificate = _certificate_authenticator(context, policy.mtls, directory, where)
    return AuthStage(policy, authenticators, certificate)


def _certificate_authenticator(
    context: RouteContext, settings: MtlsAuth, directory: ConsumerDirectory, where: str
) -> CertificateAuthenticator:
    config = context.config
    ca_by_host: dict[str, ClientCaSettings] = shared(
        context.resources, "auth.client-ca", config, lambda: client_ca_for(config)
    )
    service = (context.tenant.id, context.service.id)
    expected = next(
        (item.ca_bundle for item in ca_by_host.values() if (item.tenant, item.service) == service),
        None,
    )
    if settings.ca_bundle is not None and settings.ca_bundle != expected:
        raise ValueError(
            f"{where}: auth.mtls.ca_bundle {settings.ca_bundle!r} differs from the "
            f"service's {expected!r}; the TLS handshake happens before routing, so set "
            "ca_bundle on the tenant or service and only 'required' on routes"
        )
    return CertificateAuthenticator(settings, directory, expected, ca_by_host)


def shared(resources: Resources, key: str, source: object, create: Callable[[], T]) -> T:
    """Return the object built from ``source``, building it anew once ``source`` changes.

    Resources outlive config reloads, so an object built from config data is
    reused only while that data is the same object or an equal one.
    """
    entry = resources.items.get(key)
    if isinstance(entry, _Built) and (entry.source is source or entry.source == source):
        return cast(T, entry.value)
    value = create()
    resources.items[key] = _Built(source, value)
    return value


@dataclass(frozen=True, slots=True, eq=False)
class _Built:
    source: object
    value: object


def _jwt_verifier(settings: JwtAuth, resources: Resources, where: str) -> JwtVerifier:
    sources: dict[str, KeySource] = {}
    for issuer in settings.issuers:
        try:
            sources[issuer.issuer] = _key_source(issuer, resources)
        except JwtKeyError as error:
            raise ValueError(f"{where}: issuer {issuer.issuer!r}: {error}") from None
    return JwtVerifier(settings, sources)


def _key_source(issuer: JwtIssuer, resources: Resources) -> KeySource:
    if issuer.jwks_url is not None:
        client = _http_client(resources, issuer.tls_ca_bundle)
        url = issuer.jwks_url
        key = (
            f"auth.jwks:{url}:{issuer.jwks_refresh_seconds}:{issuer.jwks_refetch_cooldown_seconds}:"
            f"{issuer.jwks_max_refetches_per_hour}"
        )
        source: KeySource = resources.get_or_create(
            key,
            lambda: RemoteJwks(
                url,
                client,
                refresh_seconds=issuer.jwks_refresh_seconds,
                refetch_cooldown_seconds=issuer.jwks_refetch_cooldown_seconds,
                max_refetches_per_hour=issuer.jwks_max_refetches_per_hour,
            ),
        )
        return source
    if issuer.jwks_file is not None:
        return StaticKeySource(KeySet(load_jwks_file(issuer.jwks_file)))
    keys = [
        key_from_pem(item.pem, item.kid)
        if item.pem is not None
        else key_from_jwk(item.jwk or {}, item.kid)
        for item in issuer.keys
    ]
    return StaticKeySource(KeySet(keys))


def _introspector(settings: IntrospectionAuth, tenant: str, resources: Resources) -> Introspector:
    client = _http_client(resources, settings.tls_ca_bundle)
    introspector: Introspector = resources.get_or_create(
        f"auth.introspection:{tenant}:{_digest(settings.model_dump_json())}",
        lambda: Introspector(settings, client),
    )
    return introspector


def _field_value(text: str) -> bytes:
    """Encode an id for a request field, percent-encoding what a field value cannot carry."""
    return quote(text, safe=" !#$&'()*+,-./:;<=>?@[]^_`{|}~").encode("ascii")


def _http_client(resources: Resources, ca_bundle: str | None) -> JsonClient:
    client: JsonClient = resources.get_or_create(
        f"auth.http_client:{ca_bundle or ''}", lambda: JsonClient(ca_bundle)
    )
    return client


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def register(registry: StageRegistry) -> None:
    registry.register(AUTH_STAGE_ORDER, "auth", build_auth_stage)
