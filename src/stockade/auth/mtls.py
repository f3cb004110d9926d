"""Client certificates: which CA each hostname trusts, and which consumer a certificate names.

The TLS listener verifies the chain during the handshake: it calls
``client_ca_for`` to learn which CA bundle a hostname uses and calls
``configure_client_verification`` on that hostname's SSL context. The auth
stage then maps the verified certificate to a consumer by subject or SAN and
checks certificate-bound tokens (RFC 8705): a token whose ``cnf`` carries
``x5t#S256`` is accepted only over a connection with that very certificate.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ssl
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from stockade.auth.config import MtlsAuth
from stockade.auth.directory import ConsumerDirectory
from stockade.auth.outcome import CERTIFICATE, AuthFailure, AuthOutcome
from stockade.config.models import GatewayConfig, merge_policy
from stockade.gateway.exchange import Consumer, Exchange


@dataclass(frozen=True, slots=True)
class ClientCaSettings:
    """Client certificate settings of the TLS handshake for one hostname."""

    ca_bundle: str  # PEM file of the CAs that issue client certificates
    required: bool  # True: no certificate, no handshake; False: a certificate is verified if sent
    tenant: str
    service: str

    @property
    def ca_file(self) -> str:
        """The name the gateway's TLS listener reads."""
        return self.ca_bundle


def client_ca_for(config: GatewayConfig) -> dict[str, ClientCaSettings]:
    """Map each service hostname (``*.`` wildcards kept as written) to its client CA settings.

    Only tenant and service policies count, because the handshake happens
    before any route is known. A hostname shared by services with different
    settings raises ValueError, since one handshake cannot serve both.
    """
    result: dict[str, ClientCaSettings] = {}
    for tenant in config.tenants:
        tenant_policy = merge_policy(config.policy, tenant.policy)
        for service in tenant.services:
            policy = merge_policy(tenant_policy, service.policy)
            mtls = policy.auth.mtls if policy.auth else None
            if mtls is None or mtls.ca_bundle is None:
                continue
            settings = ClientCaSettings(
                mtls.ca_bundle,
                _handshake_requires(mtls, service.routes, policy),
                tenant.id,
                service.id,
            )
            for host in service.hosts:
                known = result.setdefault(host, settings)
                if (known.ca_bundle, known.required) != (settings.ca_bundle, settings.required):
                    raise ValueError(
                        f"host {host!r}: services {known.tenant}/{known.service} and "
                        f"{tenant.id}/{service.id} "
                        "set different client certificate settings; give them separate hostnames"
                    )
    return result


def _handshake_requires(mtls: MtlsAuth, routes: list[Any], service_policy: Any) -> bool:
    """Demand a certificate at the handshake only if every route of the service requires one."""
    if not mtls.required:
        return False
    for route in routes:
        policy = merge_policy(service_policy, route.policy)
        route_mtls = policy.auth.mtls if policy.auth else None
        if route_mtls is None or not route_mtls.required:
            return False
    return True


def configure_client_verification(context: ssl.SSLContext, settings: ClientCaSettings) -> None:
    """Make ``context`` verify client certificates against the hostname's CA bundle."""
    try:
        context.load_verify_locations(cafile=settings.ca_bundle)
    except (OSError, ssl.SSLError) as error:
        raise ValueError(
            f"cannot load client CA bundle {settings.ca_bundle} for "
            f"{settings.tenant}/{settings.service}: "
            f"{error}"
        ) from None
    context.verify_mode = ssl.CERT_REQUIRED if settings.required else ssl.CERT_OPTIONAL


def certificate_thumbprint(der: bytes) -> str:
    """Return the RFC 8705 ``x5t#S256`` value: unpadded base64url of SHA-256 over the DER."""
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).decode("ascii").rstrip("=")


def certificate_names(der: bytes) -> list[str]:
    """Return ``subject:<RFC 4514>`` and ``san:KIND:value`` for each name in the certificate."""
    certificate = x509.load_der_x509_certificate(der)
    names = ["subject:" + certificate.subject.rfc4514_string()]
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return names
    sans = extension.value
    names += [f"san:DNS:{value}" for value in sans.get_values_for_type(x509.DNSName)]
    names += [
        f"san:URI:{value}" for value in sans.get_values_for_type(x509.UniformResourceIdentifier)
    ]
    names += [f"san:email:{value}" for value in sans.get_values_for_type(x509.RFC822Name)]
    names += [f"san:IP:{value}" for value in sans.get_values_for_type(x509.IPAddress)]
    return names


def check_token_binding(claims: dict[str, Any], exchange: Exchange) -> AuthFailure | None:
    """Check RFC 8705 binding: a ``cnf`` ``x5t#S256`` must match the connection's certificate."""
    confirmation = claims.get("cnf")
    if confirmation is None:
        return None
    expected = confirmation.get("x5t#S256") if isinstance(confirmation, dict) else None
    if not isinstance(expected, str):
        return None
    der = exchange.client.peer_certificate_der
    if der is None:
        return AuthFailure(
            "token-binding-no-certificate",
            "Bearer",
            "token is bound to a client certificate but none was presented",
        )
    if not hmac.compare_digest(
        certificate_thumbprint(der).encode(), expected.encode("ascii", "replace")
    ):
        return AuthFailure(
            "token-binding-mismatch", "Bearer", "token is bound to another client certificate"
        )
    return None


class CertificateAuthenticator:
    scheme = CERTIFICATE

    def __init__(
        self,
        settings: MtlsAuth,
        directory: ConsumerDirectory,
        expected_ca: str | None,
        ca_by_host: dict[str, ClientCaSettings],
    ) -> None:
        self._settings = settings
        self._directory = directory
        self._expected_ca = expected_ca
        self._ca_by_host = ca_by_host

    def present(self, exchange: Exchange) -> bool:
        return exchange.client.peer_certificate_der is not None

    def wrong_handshake(self, exchange: Exchange) -> AuthFailure | None:
        """Reject a certificate checked by another host's CA: SNI of one tenant, Host of another."""
        sni = (exchange.client.sni or "").lower()
        settings = self._ca_by_host.get(sni)
        if settings is None and "." in sni:
            settings = self._ca_by_host.get("*." + sni.partition(".")[2])
        if settings is None or settings.ca_bundle != self._expected_ca:
            return AuthFailure(
                "certificate-wrong-ca",
                CERTIFICATE,
                "certificate was verified for a hostname with another CA bundle",
                evidence={"sni": sni[:255]},
            )
        return None

    async def authenticate(self, exchange: Exchange) -> AuthOutcome:
        der = exchange.client.peer_certificate_der
        if der is None:
            return None
        wrong = self.wrong_handshake(exchange)
        if wrong is not None:
            return wrong
        names = certificate_names(der)
        evidence = {"subject": names[0].removeprefix("subject:")[:512]}
        for name in names:
            consumer = self._directory.certificate_names.get(name)
            if consumer is None:
                continue
            if consumer.disabled:
                return AuthFailure(
                    "consumer-disabled", CERTIFICATE, "consumer is disabled", evidence=evidence
                )
            return self._directory.to_consumer(
                consumer, method="mtls", credential=f"certificate:{name}"
            )
        if self._settings.unknown_consumers == "accept":
            subject = evidence["subject"]
            return Consumer(
                id=subject,
                tenant=self._directory.tenant,
                credential="certificate:" + subject,
                auth_method="mtls",
            )
        return AuthFailure(
            "certificate-unknown-consumer",
            CERTIFICATE,
            "no consumer is mapped to this certificate",
            evidence=evidence,
        )
