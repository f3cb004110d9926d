"""TLS termination: one certificate per hostname chosen by SNI, TLS 1.2 and newer only.

Each listener has a front context whose SNI callback swaps in the context of
the requested hostname. Client certificate verification (mTLS) is set per
hostname on those contexts, so it happens during the handshake.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass

from stockade.config.models import ListenerTls, TlsCertificate

log = logging.getLogger(__name__)

ALPN_PROTOCOLS = ["http/1.1"]
"""Only HTTP/1.1 is spoken; a client offering h2 falls back to it."""


@dataclass(frozen=True, slots=True)
class ClientCertificatePolicy:
    """How one hostname verifies client certificates."""

    ca_file: str
    required: bool = True


class TlsContexts:
    """The SNI-selected contexts of one listener; ``update`` swaps them on reload."""

    def __init__(
        self, settings: ListenerTls, client_auth: dict[str, ClientCertificatePolicy] | None = None
    ) -> None:
        self.front = _new_context(settings.min_version)
        self.front.sni_callback = self._select
        self._exact: dict[str, ssl.SSLContext] = {}
        self._wildcard: dict[str, ssl.SSLContext] = {}
        self._default: ssl.SSLContext | None = None
        self.update(settings, client_auth)

    def update(
        self, settings: ListenerTls, client_auth: dict[str, ClientCertificatePolicy] | None = None
    ) -> None:
        """Load every certificate of ``settings``; raise ssl.SSLError or OSError on a bad one."""
        client_auth = client_auth or {}
        exact: dict[str, ssl.SSLContext] = {}
        wildcard: dict[str, ssl.SSLContext] = {}
        default: ssl.SSLContext | None = None
        for certificate in settings.certificates:
            for hostname in certificate.hostnames:
                context = _new_context(settings.min_version)
                context.load_cert_chain(certificate.cert, certificate.key)
                policy = client_auth.get(hostname.lower())
                if policy is not None:
                    _verify_clients(context, policy)
                name = hostname.lower()
                if name.startswith("*."):
                    wildcard[name[2:]] = context
                else:
                    exact[name] = context
                if default is None or (settings.default_hostname or "").lower() == name:
                    default = context
        # A hostname with a client CA that a wildcard certificate covers gets a context of its own.
        for hostname, policy in client_auth.items():
            is_wildcard = hostname.startswith("*.")
            table, key = (wildcard, hostname[2:]) if is_wildcard else (exact, hostname)
            if key in table:
                continue
            covering = _covering_certificate(settings, hostname)
            if covering is not None:
                context = _new_context(settings.min_version)
                context.load_cert_chain(covering.cert, covering.key)
                _verify_clients(context, policy)
                table[key] = context
        # The front context must carry a certificate too, for clients that send no SNI.
        first = settings.certificates[0]
        default_cert = next(
            (
                c
                for c in settings.certificates
                if settings.default_hostname
                and settings.default_hostname.lower() in (h.lower() for h in c.hostnames)
            ),
            first,
        )
        self.front.load_cert_chain(default_cert.cert, default_cert.key)
        # OpenSSL keeps the verify mode of the context the handshake started with when the SNI
        # callback swaps contexts, and only the trust store follows the swap. So the front context
        # requests a certificate whenever a hostname of this listener verifies them. Each
        # hostname's context verifies against its own CA bundle, and the auth stage rejects
        # requests that lack a required certificate.
        # NOTE: every hostname of such a listener then requests a client certificate, and a client
        # that sends one to a hostname without a CA bundle fails the handshake.
        wants_certificates = any(
            context.verify_mode != ssl.CERT_NONE
            for context in (*exact.values(), *wildcard.values())
        )
        self.front.verify_mode = ssl.CERT_OPTIONAL if wants_certificates else ssl.CERT_NONE
        self._exact, self._wildcard, self._default = exact, wildcard, default

    def context_for(self, server_name: str | None) -> ssl.SSLContext | None:
        if server_name is None:
            return self._default
        name = server_name.lower()
        context = self._exact.get(name)
        if context is None:
            context = self._wildcard.get(name.partition(".")[2])
        return context

    def _select(
        self, ssl_object: ssl.SSLObject, server_name: str | None, _context: ssl.SSLContext
    ) -> int | None:
        context = self.context_for(server_name)
        if context is None:
            if server_name is not None:
                log.debug("TLS handshake for unknown server name %r", server_name)
            context = self._default
        if context is not None:
            ssl_object.context = context
        try:
            ssl_object.stockade_sni = server_name  # type: ignore[attr-defined]
        except AttributeError:
            pass
        return None


def _verify_clients(context: ssl.SSLContext, policy: ClientCertificatePolicy) -> None:
    context.load_verify_locations(cafile=policy.ca_file)
    context.verify_mode = ssl.CERT_REQUIRED if policy.required else ssl.CERT_OPTIONAL


def _covering_certificate(settings: ListenerTls, hostname: str) -> TlsCertificate | None:
    """Return the certificate whose names cover ``hostname``, exactly or by a '*.' wildcard."""
    parent = hostname.partition(".")[2]
    for certificate in settings.certificates:
        for name in (item.lower() for item in certificate.hostnames):
            if name == hostname or (name.startswith("*.") and name[2:] == parent):
                return certificate
    return None


def _new_context(min_version: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = (
        ssl.TLSVersion.TLSv1_3 if min_version == "1.3" else ssl.TLSVersion.TLSv1_2
    )
    context.set_alpn_protocols(ALPN_PROTOCOLS)
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
    return context
