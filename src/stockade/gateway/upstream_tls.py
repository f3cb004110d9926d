"""TLS from the gateway to upstream targets: verification, client certificates, pins.

Contexts are built once per config load and rebuilt when a client
certificate or key file changes on disk. Load-time checks reject a client
certificate that has expired or does not match its key; one that expires
soon is logged as a warning.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import logging
import os
import ssl
import time
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from stockade.config.models import UpstreamTls

log = logging.getLogger(__name__)

FILE_CHECK_INTERVAL = 5.0
"""Seconds between checks of the client certificate files for changes."""


class UpstreamTlsError(ValueError):
    """The TLS settings of a service cannot be used; the message names the service and file."""


@dataclass(frozen=True, slots=True)
class PinMismatch(Exception):
    """The target's public key matches none of the configured pins."""

    presented: str

    def __str__(self) -> str:
        return f"certificate public key {self.presented} matches no configured pin"


def spki_pin(certificate_der: bytes) -> str:
    """Return the 'sha256/BASE64' hash of a DER certificate's SubjectPublicKeyInfo."""
    certificate = x509.load_der_x509_certificate(certificate_der)
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256/" + base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


class UpstreamTlsContext:
    """The client-side TLS context of one service, with its pins."""

    def __init__(self, service: str, settings: UpstreamTls) -> None:
        self.service = service
        self.settings = settings
        self.pins = frozenset(settings.pins)
        self._files = [path for path in (settings.client_cert, settings.client_key) if path]
        self._stamps = self._file_stamps()
        self._checked = time.monotonic()
        self.context = build_context(service, settings)

    def current(self) -> ssl.SSLContext:
        """Return the context, rebuilt first when a client certificate file has changed."""
        now = time.monotonic()
        if self._files and now - self._checked >= FILE_CHECK_INTERVAL:
            self._checked = now
            stamps = self._file_stamps()
            if stamps != self._stamps:
                self._stamps = stamps
                try:
                    self.context = build_context(self.service, self.settings)
                    log.info("service %s: reloaded the upstream client certificate", self.service)
                except UpstreamTlsError as exc:
                    log.error(
                        "service %s: keeping the previous client certificate: %s", self.service, exc
                    )
        return self.context

    def check_pin(self, certificate_der: bytes | None) -> None:
        """Raise PinMismatch when pins are set and the presented key matches none."""
        if not self.pins:
            return
        presented = spki_pin(certificate_der) if certificate_der else "(none)"
        if presented not in self.pins:
            raise PinMismatch(presented)

    def _file_stamps(self) -> list[tuple[float, int]]:
        stamps = []
        for path in self._files:
            try:
                info = os.stat(path)
                stamps.append((info.st_mtime, info.st_size))
            except OSError:
                stamps.append((0.0, 0))
        return stamps


def build_context(service: str, settings: UpstreamTls) -> ssl.SSLContext:
    """Build the client context for ``service``; raise UpstreamTlsError naming what is wrong."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = (
        ssl.TLSVersion.TLSv1_3 if settings.min_version == "1.3" else ssl.TLSVersion.TLSv1_2
    )
    context.set_alpn_protocols(["http/1.1"])
    if settings.ciphers:
        try:
            context.set_ciphers(settings.ciphers)
        except ssl.SSLError as exc:
            raise UpstreamTlsError(
                f"service {service}: invalid cipher list {settings.ciphers!r}: {exc}"
            ) from exc
    if settings.verify:
        context.verify_mode = ssl.CERT_REQUIRED
        context.check_hostname = True
        _load_trust(service, settings, context)
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        log.warning(
            "service %s: upstream certificate verification is OFF; anyone on the path "
            "to the upstream can read and change its traffic",
            service,
        )
    if settings.client_cert and settings.client_key:
        _load_client_certificate(service, settings, context)
    return context


def _load_trust(service: str, settings: UpstreamTls, context: ssl.SSLContext) -> None:
    if settings.ca_file is None:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
        return
    try:
        context.load_verify_locations(cafile=settings.ca_file)
    except OSError as exc:  # ssl.SSLError included
        raise UpstreamTlsError(
            f"service {service}: cannot load the CA bundle {settings.ca_file}: {exc}"
        ) from exc


def _load_client_certificate(service: str, settings: UpstreamTls, context: ssl.SSLContext) -> None:
    cert_path, key_path = settings.client_cert, settings.client_key
    assert cert_path is not None and key_path is not None
    try:
        context.load_cert_chain(cert_path, key_path)
    except ssl.SSLError as exc:  # a subclass of OSError, so it is caught first
        raise UpstreamTlsError(
            f"service {service}: client certificate {cert_path} does not match key {key_path} "
            f"or is not PEM: {exc.reason or exc}"
        ) from exc
    except OSError as exc:
        raise UpstreamTlsError(
            f"service {service}: cannot read the client certificate or key: {exc}"
        ) from exc
    try:
        with open(cert_path, "rb") as file:
            certificate = x509.load_pem_x509_certificate(file.read())
    except (OSError, ValueError) as exc:
        raise UpstreamTlsError(
            f"service {service}: cannot parse the client certificate {cert_path}: {exc}"
        ) from exc
    expires = certificate.not_valid_after_utc
    now = datetime.datetime.now(datetime.UTC)
    if expires <= now:
        raise UpstreamTlsError(
            f"service {service}: client certificate {cert_path} expired on "
            f"{expires:%Y-%m-%d %H:%M} UTC; install a renewed certificate"
        )
    if expires - now <= datetime.timedelta(days=settings.expiry_warning_days):
        log.warning(
            "service %s: client certificate %s expires on %s UTC",
            service,
            cert_path,
            f"{expires:%Y-%m-%d %H:%M}",
        )


def describe_tls_failure(exc: BaseException) -> str:
    """Return the reason of a failed upstream handshake, for events and logs (no secrets)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verification failed: {exc.verify_message or exc.reason}"
    if isinstance(exc, PinMismatch):
        return str(exc)
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake failed: {exc.reason or exc}"
    return str(exc)
