"""WSAA: the login ticket (token + sign) that every AFIP web service call carries.

The ticket request (TRA) is signed as CMS SignedData (PKCS#7, SHA-256, content embedded)
with the taxpayer's certificate and key. AFIP refuses a new ticket while one is valid, so
the ticket is cached durably (database, per CUIT, environment and service) and reused
until it expires; losing it would mean hours without invoices.

Clock skew: the TRA is back-dated (AFIP rejects a generationTime in its future), and the
expiry AFIP returns is trusted, with a margin; if AFIP still says "already authenticated"
we keep using the cached ticket.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from barberpro.adapters.invoicing import soap
from barberpro.application.payment_ports import LoginTicket, NumberingLock, PaymentsUnitOfWorkFactory

WSAA_URLS = {
    "homologacion": "https://wsaahomo.afip.gov.ar/ws/services/LoginCms",
    "produccion": "https://wsaa.afip.gov.ar/ws/services/LoginCms",
}
WSAA_NS = "http://wsaa.view.sua.dvadac.desein.afip.gov"
BACKDATE = timedelta(minutes=10)
VALIDITY = timedelta(minutes=10)  # of the request itself, not of the ticket
EXPIRY_MARGIN = timedelta(minutes=2)


class WsaaError(Exception):
    pass


class WsaaUnreachable(WsaaError):
    """WSAA gave no answer (a network failure, a 5xx page): no ticket, so nothing reached WSFE."""


def login_ticket_request(service: str, now: datetime, unique_id: int) -> bytes:
    generation = (now - BACKDATE).astimezone(UTC).replace(microsecond=0).isoformat()
    expiration = (now + VALIDITY).astimezone(UTC).replace(microsecond=0).isoformat()
    return (
        '<?xml version="1.0" encoding="UTF-8"?><loginTicketRequest version="1.0"><header>'
        f"<uniqueId>{unique_id}</uniqueId><generationTime>{generation}</generationTime>"
        f"<expirationTime>{expiration}</expirationTime></header>"
        f"{soap.element('service', service)}</loginTicketRequest>"
    ).encode()


def sign_cms(content: bytes, certificate_pem: bytes, key_pem: bytes) -> bytes:
    """CMS SignedData, DER, with the content embedded and signed attributes (as WSAA expects)."""
    certificate = x509.load_pem_x509_certificate(certificate_pem)
    key: Any = serialization.load_pem_private_key(key_pem, password=None)
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(content)
        .add_signer(certificate, key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )


def parse_login_response(payload: bytes) -> LoginTicket:
    root = soap.parse(payload)
    soap.raise_fault(root)
    inner = soap.text(root, "loginCmsReturn")
    if not inner:
        raise WsaaError("WSAA answered without a ticket")
    ticket = soap.parse(unescape(inner) if inner.lstrip().startswith("&lt;") else inner)
    return LoginTicket(
        token=soap.text(ticket, "token"),
        sign=soap.text(ticket, "sign"),
        generated_at=datetime.fromisoformat(soap.text(ticket, "generationTime")).astimezone(UTC),
        expires_at=datetime.fromisoformat(soap.text(ticket, "expirationTime")).astimezone(UTC),
    )


class WsaaClient:
    """Fetches and caches tickets for one taxpayer (certificate + key) in one environment."""

    def __init__(
        self,
        *,
        tenant_id: str,
        cuit: str,
        environment: str,
        certificate_pem: bytes,
        key_pem: bytes,
        uows: PaymentsUnitOfWorkFactory,
        lock: NumberingLock,
        clock: Callable[[], datetime],
        url: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._tenant_id = tenant_id
        self._cuit = cuit
        self._environment = environment
        self._certificate = certificate_pem
        self._key = key_pem
        self._uows = uows
        self._lock = lock
        self._clock = clock
        self._url = url or WSAA_URLS[environment]
        self._http = httpx.Client(transport=transport, timeout=30.0)
        self._memo: dict[str, LoginTicket] = {}
        self._memo_lock = threading.Lock()
        self.logins = 0  # calls actually made to WSAA (observable in tests and metrics)

    def _usable(self, ticket: LoginTicket | None) -> bool:
        return ticket is not None and self._clock() < ticket.expires_at - EXPIRY_MARGIN

    def _cached(self, service: str) -> LoginTicket | None:
        with self._uows(self._tenant_id, write=False) as uow:
            return uow.tickets.get(self._cuit, self._environment, service)

    def ticket(self, service: str = "wsfe") -> LoginTicket:
        with self._memo_lock:
            memo = self._memo.get(service)
        if memo is not None and self._usable(memo):
            return memo
        # One login per taxpayer and service at a time, across processes: WSAA would refuse the second.
        with self._lock.hold(f"wsaa:{self._cuit}:{self._environment}:{service}"):
            cached = self._cached(service)
            if cached is None or not self._usable(cached):
                cached = self._login(service, cached)
        with self._memo_lock:
            self._memo[service] = cached
        return cached

    def _login(self, service: str, previous: LoginTicket | None) -> LoginTicket:
        now = self._clock()
        tra = login_ticket_request(service, now, int(now.timestamp()))
        cms = base64.b64encode(sign_cms(tra, self._certificate, self._key)).decode()
        body = soap.envelope(f"<wsaa:loginCms>{soap.element('wsaa:in0', cms)}</wsaa:loginCms>", {"wsaa": WSAA_NS})
        try:
            response = self._http.post(
                self._url, content=body, headers={"SOAPAction": '""', "Content-Type": "text/xml; charset=utf-8"}
            )
        except httpx.TransportError as error:
            raise WsaaUnreachable(f"WSAA did not answer: {type(error).__name__}") from error
        if response.status_code >= 500 and b"Fault" not in response.content:
            raise WsaaUnreachable(f"WSAA answered {response.status_code}")
        self.logins += 1
        try:
            ticket = parse_login_response(response.content)
        except soap.SoapFault as fault:
            if "alreadyAuthenticated" in fault.code and previous is not None and now < previous.expires_at:
                return previous  # our clock runs ahead of AFIP's: the cached ticket is still good there
            raise WsaaError(f"WSAA refused the login: {fault.code}: {fault.message}") from fault
        with self._uows(self._tenant_id) as uow:
            uow.tickets.put(self._cuit, self._environment, service, ticket)
            uow.commit()
        return ticket
