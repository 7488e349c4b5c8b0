"""A protocol-faithful fake of AFIP's WSAA and WSFEv1 (homologation), in memory.

Faithful where BarberPro depends on it: SOAP shapes, CMS signature check against a trusted
CA, "already authenticated" while a ticket is valid, token/sign/CUIT validation, strict
numbering ("last authorised + 1", error 10016, also for dates earlier than the last
voucher's), service dates, VAT rules per voucher class, receiver identification, and
FECompConsultar (602 when unknown), and credit notes (3, 8, 13): each must name, in
CbtesAsoc, an authorised invoice of its own class (A, B, C) and issuer, with the same
receiver, and credit notes may not add up to more than that invoice. Codes other than
10016/600/602 follow AFIP's numbering style but are not an exhaustive copy of its
validation table.

Test hooks: `lose_answers` processes the next N FECAESolicitar calls and then drops the
answer (the caller sees a timeout); `observe_next` attaches observations to the next
approval; `refuse_next` rejects the next request with its observations (as AFIP does for a
cause outside the voucher, e.g. a point of sale not enabled for the class yet).
"""

from __future__ import annotations

import base64
import itertools
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

import httpx
from cryptography import x509

from barberpro.adapters.invoicing import soap
from barberpro.adapters.invoicing.certificates import cuit_of
from barberpro.adapters.invoicing.fake_afip.cms_check import CmsRejected, verified_content
from barberpro.application.payment_ports import Message

WSAA_PATH = "/ws/services/LoginCms"
WSFE_PATH = "/wsfev1/service.asmx"
TICKET_LIFETIME = timedelta(hours=12)
IDENTIFY_FROM = Decimal("10000000.00")  # consumidor final must be identified from this total on
RI, MONOTRIBUTO, CONSUMIDOR_FINAL, EXENTO = 1, 6, 5, 4
INVOICE_OF_CREDIT_NOTE = {3: 1, 8: 6, 13: 11}  # Nota de Crédito A, B, C -> Factura A, B, C
INVOICE_OF_DEBIT_NOTE = {2: 1, 7: 6, 12: 11}  # Nota de Débito A, B, C -> Factura A, B, C
INVOICE_OF_CORRECTION = INVOICE_OF_CREDIT_NOTE | INVOICE_OF_DEBIT_NOTE
CLASS_A, CLASS_B, CLASS_C = (1, 2, 3), (6, 7, 8), (11, 12, 13)


@dataclass
class Voucher:
    number: int
    issue_date: date
    doc_type: int
    doc_number: str
    total: Decimal
    cae: str
    cae_due: date
    concept: int
    processed: date
    credits: tuple[int, int, int] | None = None  # a credit note: (point of sale, type, number) it corrects


@dataclass
class Ticket:
    token: str
    sign: str
    cuit: str
    service: str
    expires_at: datetime


@dataclass
class FakeAfip:
    trusted_ca: x509.Certificate
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    lose_answers: int = 0
    observe_next: list[Message] = field(default_factory=list)
    refuse_next: list[Message] = field(default_factory=list)
    logins: int = 0
    vouchers: dict[tuple[str, int, int], list[Voucher]] = field(default_factory=dict)
    _tickets: dict[tuple[str, str], Ticket] = field(default_factory=dict)
    _by_token: dict[str, Ticket] = field(default_factory=dict)
    _cae: itertools.count[int] = field(default_factory=lambda: itertools.count(76_000_000_000_001))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- transport ---------------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        status, body = self.respond(request.url.path, request.headers.get("soapaction", ""), request.content)
        if status == -1:
            raise httpx.ReadTimeout("the answer was lost on the way back", request=request)
        return httpx.Response(status, content=body, headers={"content-type": "text/xml; charset=utf-8"})

    def respond(self, path: str, action: str, body: bytes) -> tuple[int, bytes]:
        """(HTTP status, body); status -1 means "processed, but the answer never arrives"."""
        try:
            root = soap.parse(body)
        except Exception:
            return 500, soap.fault_envelope("soap:Client", "XML mal formado")
        if path.endswith(WSAA_PATH):
            return self._login(root)
        if path.endswith(WSFE_PATH):
            operation = action.strip('"').rsplit("/", 1)[-1]
            handler = {
                "FEDummy": self._dummy,
                "FECompUltimoAutorizado": self._last,
                "FECAESolicitar": self._authorize,
                "FECompConsultar": self._consult,
            }.get(operation)
            if handler is None:
                return 500, soap.fault_envelope("soap:Client", f"operacion desconocida {operation}")
            return handler(root)
        return 404, b"not found"

    # --- WSAA --------------------------------------------------------------------------------

    def _login(self, root: Element) -> tuple[int, bytes]:
        now = self.clock()
        try:
            content, signer = verified_content(base64.b64decode(soap.text(root, "in0")), self.trusted_ca, now)
        except (CmsRejected, ValueError) as error:
            return 500, soap.fault_envelope("ns1:cms.sign.invalid", f"Firma inválida o algoritmo no soportado: {error}")
        tra = soap.parse(content)
        service = soap.text(tra, "service")
        try:
            generated = datetime.fromisoformat(soap.text(tra, "generationTime"))
            expires = datetime.fromisoformat(soap.text(tra, "expirationTime"))
        except ValueError:
            return 500, soap.fault_envelope("ns1:xml.bad", "generationTime o expirationTime inválidos")
        if generated > now:
            return 500, soap.fault_envelope("ns1:coe.badRequest", "generationTime posterior a la hora actual")
        if expires < now or expires - generated > timedelta(hours=24):
            return 500, soap.fault_envelope("ns1:coe.badRequest", "expirationTime vencido o demasiado lejano")
        if service != "wsfe":
            return 500, soap.fault_envelope("ns1:coe.notAuthorized", f"Servicio {service} no autorizado")
        cuit = cuit_of(signer)
        if cuit is None:
            return 500, soap.fault_envelope("ns1:cms.cert.invalid", "El certificado no tiene CUIT")
        key = (signer.subject.rfc4514_string(), service)
        with self._lock:
            current = self._tickets.get(key)
            if current is not None and current.expires_at > now:
                return 500, soap.fault_envelope(
                    "ns1:coe.alreadyAuthenticated", "El CEE ya posee un TA valido para el acceso al WSN solicitado"
                )
            ticket = Ticket(secrets.token_urlsafe(48), secrets.token_urlsafe(24), cuit, service, now + TICKET_LIFETIME)
            self._tickets[key] = ticket
            self._by_token[ticket.token] = ticket
            self.logins += 1
        inner = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><loginTicketResponse version="1.0"><header>'
            f"<source>CN=wsaahomo, O=AFIP, C=AR</source><destination>{escape(key[0])}</destination>"
            f"<uniqueId>{secrets.randbelow(2**31)}</uniqueId>"
            f"<generationTime>{now.isoformat()}</generationTime>"
            f"<expirationTime>{ticket.expires_at.isoformat()}</expirationTime></header>"
            f"<credentials><token>{ticket.token}</token><sign>{ticket.sign}</sign></credentials>"
            "</loginTicketResponse>"
        )
        body = (
            f'<loginCmsResponse xmlns="{"http://wsaa.view.sua.dvadac.desein.afip.gov"}">'
            + soap.element("loginCmsReturn", inner)
            + "</loginCmsResponse>"
        )
        return 200, soap.envelope(body, {})

    # --- WSFEv1 ------------------------------------------------------------------------------

    def _auth(self, root: Element) -> tuple[str | None, list[Message]]:
        token, sign, cuit = soap.text(root, "Token"), soap.text(root, "Sign"), soap.text(root, "Cuit")
        with self._lock:
            ticket = self._by_token.get(token)
        if ticket is None or not secrets.compare_digest(ticket.sign, sign):
            return None, [Message(600, "ValidacionDeToken: No validaron las credenciales (token/sign)")]
        if ticket.expires_at <= self.clock():
            return None, [Message(600, "ValidacionDeToken: el Token expiró")]
        if ticket.cuit != cuit:
            return None, [Message(600, f"ValidacionDeToken: No aparecio CUIT en lista de relaciones: {cuit}")]
        return cuit, []

    @staticmethod
    def _result(operation: str, inner: str) -> tuple[int, bytes]:
        body = (
            f'<{operation}Response xmlns="http://ar.gov.afip.dif.FEV1/"><{operation}Result>{inner}'
            f"</{operation}Result></{operation}Response>"
        )
        return 200, soap.envelope(body, {})

    @staticmethod
    def _errors(messages: list[Message], group: str = "Errors", item: str = "Err") -> str:
        if not messages:
            return ""
        rows = "".join(f"<{item}><Code>{m.code}</Code><Msg>{escape(m.text)}</Msg></{item}>" for m in messages)
        return f"<{group}>{rows}</{group}>"

    def _dummy(self, root: Element) -> tuple[int, bytes]:
        return self._result("FEDummy", "<AppServer>OK</AppServer><DbServer>OK</DbServer><AuthServer>OK</AuthServer>")

    def _last(self, root: Element) -> tuple[int, bytes]:
        cuit, errors = self._auth(root)
        pos, kind = int(soap.text(root, "PtoVta") or 0), int(soap.text(root, "CbteTipo") or 0)
        if cuit is None:
            return self._result("FECompUltimoAutorizado", self._errors(errors))
        with self._lock:
            issued = self.vouchers.get((cuit, pos, kind), [])
            last = issued[-1].number if issued else 0
        return self._result(
            "FECompUltimoAutorizado", f"<PtoVta>{pos}</PtoVta><CbteTipo>{kind}</CbteTipo><CbteNro>{last}</CbteNro>"
        )

    def _consult(self, root: Element) -> tuple[int, bytes]:
        cuit, errors = self._auth(root)
        if cuit is None:
            return self._result("FECompConsultar", self._errors(errors))
        pos, kind = int(soap.text(root, "PtoVta") or 0), int(soap.text(root, "CbteTipo") or 0)
        number = int(soap.text(root, "CbteNro") or 0)
        with self._lock:
            found = next((v for v in self.vouchers.get((cuit, pos, kind), []) if v.number == number), None)
        if found is None:
            return self._result(
                "FECompConsultar",
                self._errors([Message(602, "No existen datos en nuestros registros para los parametros ingresados.")]),
            )
        d = found
        return self._result(
            "FECompConsultar",
            f"<ResultGet><Concepto>{d.concept}</Concepto><DocTipo>{d.doc_type}</DocTipo><DocNro>{d.doc_number}</DocNro>"
            f"<CbteDesde>{d.number}</CbteDesde><CbteHasta>{d.number}</CbteHasta>"
            f"<CbteFch>{d.issue_date:%Y%m%d}</CbteFch><ImpTotal>{d.total:.2f}</ImpTotal><Resultado>A</Resultado>"
            f"<CodAutorizacion>{d.cae}</CodAutorizacion><EmisionTipo>CAE</EmisionTipo><FchVto>{d.cae_due:%Y%m%d}</FchVto>"
            f"<FchProceso>{d.processed:%Y%m%d}</FchProceso><PtoVta>{pos}</PtoVta><CbteTipo>{kind}</CbteTipo></ResultGet>",
        )

    def _authorize(self, root: Element) -> tuple[int, bytes]:
        cuit, errors = self._auth(root)
        pos, kind = int(soap.text(root, "PtoVta") or 0), int(soap.text(root, "CbteTipo") or 0)
        if cuit is None:
            return self._result("FECAESolicitar", self._header(cuit or "", pos, kind, "R") + self._errors(errors))
        detail = soap.find(root, "FECAEDetRequest")
        today = self.clock().astimezone(UTC).date()
        with self._lock:
            issued = self.vouchers.setdefault((cuit, pos, kind), [])
            observations = self._validate(detail, kind, issued, today)
            credits, problems = self._association(detail, cuit, kind)
            observations += problems
            observations, self.refuse_next = observations + self.refuse_next, []
            number = int(soap.text(detail, "CbteDesde") or 0)
            if observations:
                result, cae_xml = "R", ""
            else:
                issue_date = datetime.strptime(soap.text(detail, "CbteFch"), "%Y%m%d").date()
                voucher = Voucher(
                    number=number,
                    issue_date=issue_date,
                    doc_type=int(soap.text(detail, "DocTipo")),
                    doc_number=soap.text(detail, "DocNro"),
                    total=Decimal(soap.text(detail, "ImpTotal")),
                    cae=str(next(self._cae)),
                    cae_due=issue_date + timedelta(days=10),
                    concept=int(soap.text(detail, "Concepto")),
                    processed=today,
                    credits=credits,
                )
                issued.append(voucher)
                observations, self.observe_next = list(self.observe_next), []
                result = "A"
                cae_xml = f"<CAE>{voucher.cae}</CAE><CAEFchVto>{voucher.cae_due:%Y%m%d}</CAEFchVto>"
            lose = self.lose_answers > 0
            if lose:
                self.lose_answers -= 1
        if lose:
            return -1, b""
        obs = self._errors(observations, "Observaciones", "Obs")
        detail_xml = (
            f"<FeDetResp><FECAEDetResponse><Concepto>2</Concepto><DocTipo>{soap.text(detail, 'DocTipo')}</DocTipo>"
            f"<DocNro>{soap.text(detail, 'DocNro')}</DocNro><CbteDesde>{number}</CbteDesde><CbteHasta>{number}"
            f"</CbteHasta><CbteFch>{soap.text(detail, 'CbteFch')}</CbteFch><Resultado>{result}</Resultado>"
            f"{cae_xml}{obs}</FECAEDetResponse></FeDetResp>"
        )
        return self._result("FECAESolicitar", self._header(cuit, pos, kind, result) + detail_xml)

    def _header(self, cuit: str, pos: int, kind: int, result: str) -> str:
        return (
            f"<FeCabResp><Cuit>{cuit}</Cuit><PtoVta>{pos}</PtoVta><CbteTipo>{kind}</CbteTipo>"
            f"<FchProceso>{self.clock():%Y%m%d%H%M%S}</FchProceso><CantReg>1</CantReg>"
            f"<Resultado>{result}</Resultado><Reproceso>N</Reproceso></FeCabResp>"
        )

    def _association(
        self, detail: Element | None, cuit: str, kind: int
    ) -> tuple[tuple[int, int, int] | None, list[Message]]:
        """A credit or debit note's CbtesAsoc: which voucher it corrects, or why it cannot (call under
        the lock). Credit notes may not take off more than the invoice and its debit notes add up to."""
        associated = soap.children(detail, "CbteAsoc")
        if kind not in INVOICE_OF_CORRECTION:
            if associated:
                return None, [Message(10151, "CbtesAsoc solo corresponde a notas de crédito o débito")]
            return None, []
        if len(associated) != 1:
            return None, [Message(10152, "Las notas de crédito y débito deben informar un comprobante asociado")]
        a = associated[0]
        key = (int(soap.text(a, "PtoVta") or 0), int(soap.text(a, "Tipo") or 0), int(soap.text(a, "Nro") or 0))
        if key[1] != INVOICE_OF_CORRECTION[kind] or soap.text(a, "Cuit") not in ("", cuit):
            return None, [Message(10153, "El comprobante asociado debe ser una factura de la misma clase y emisor")]
        original = next((v for v in self.vouchers.get((cuit, key[0], key[1]), []) if v.number == key[2]), None)
        if original is None:
            return None, [Message(10154, "El comprobante asociado no existe o no fue autorizado")]
        if soap.text(a, "CbteFch") not in ("", f"{original.issue_date:%Y%m%d}"):
            return None, [Message(10155, "CbteFch del comprobante asociado no coincide con el autorizado")]
        if (int(soap.text(detail, "DocTipo") or 0), soap.text(detail, "DocNro").lstrip("0")) != (
            original.doc_type,
            original.doc_number.lstrip("0"),
        ):
            return None, [Message(10156, "La nota debe tener el mismo receptor que el comprobante asociado")]
        if kind in INVOICE_OF_DEBIT_NOTE:
            return key, []

        def noted(kinds: dict[int, int]) -> Decimal:
            return sum(
                (
                    v.total
                    for (issuer, _, note_kind), issued in self.vouchers.items()
                    if issuer == cuit and note_kind in kinds and kinds[note_kind] == key[1]
                    for v in issued
                    if v.credits == key
                ),
                Decimal("0"),
            )

        limit = original.total + noted(INVOICE_OF_DEBIT_NOTE)
        if noted(INVOICE_OF_CREDIT_NOTE) + Decimal(soap.text(detail, "ImpTotal") or 0) > limit:
            return None, [Message(10157, "Las notas de crédito superan el importe del comprobante asociado")]
        return key, []

    @staticmethod
    def _validate(detail: Element | None, kind: int, issued: list[Voucher], today: date) -> list[Message]:
        if detail is None:
            return [Message(10000, "Falta el detalle del comprobante")]

        def v(name: str) -> str:
            return soap.text(detail, name)

        problems: list[Message] = []
        number = int(v("CbteDesde") or 0)
        last = issued[-1] if issued else None
        expected = (last.number if last else 0) + 1
        try:
            issue_date = datetime.strptime(v("CbteFch"), "%Y%m%d").date()
        except ValueError:
            return [Message(10015, "CbteFch con formato inválido (yyyymmdd)")]
        if number != expected or int(v("CbteHasta") or 0) != number or (last and issue_date < last.issue_date):
            problems.append(
                Message(
                    10016,
                    "El numero o fecha del comprobante no se corresponde con el proximo a "
                    "autorizar. Consultar metodo FECompUltimoAutorizado.",
                )
            )
        concept = int(v("Concepto") or 0)
        window = 10 if concept in (2, 3) else 5
        if abs((issue_date - today).days) > window:
            problems.append(Message(10017, f"CbteFch debe estar dentro de los {window} días de la fecha de envío"))
        if concept in (2, 3):
            if not (v("FchServDesde") and v("FchServHasta") and v("FchVtoPago")):
                problems.append(
                    Message(10035, "Para Concepto 2 o 3 FchServDesde, FchServHasta y FchVtoPago son obligatorias")
                )
            elif v("FchServDesde") > v("FchServHasta"):
                problems.append(Message(10036, "FchServDesde no puede ser posterior a FchServHasta"))
            elif v("FchVtoPago") < v("CbteFch"):
                problems.append(Message(10037, "FchVtoPago no puede ser anterior a CbteFch"))
        total, net, vat = Decimal(v("ImpTotal") or 0), Decimal(v("ImpNeto") or 0), Decimal(v("ImpIVA") or 0)
        others = sum((Decimal(v(n) or 0) for n in ("ImpTotConc", "ImpOpEx", "ImpTrib")), Decimal(0))
        if total != net + vat + others:
            problems.append(
                Message(10048, "ImpTotal debe ser igual a la suma de ImpTotConc + ImpNeto + ImpOpEx + ImpTrib + ImpIVA")
            )
        has_vat = soap.find(detail, "AlicIva") is not None
        if kind in CLASS_C and (vat != 0 or has_vat):
            problems.append(Message(10071, "Para comprobantes tipo C el objeto IVA no debe informarse"))
        if kind in CLASS_A + CLASS_B:
            vat_sum = sum((Decimal(soap.text(a, "Importe") or 0) for a in soap.children(detail, "AlicIva")), Decimal(0))
            if not has_vat or vat_sum != vat:
                problems.append(
                    Message(10018, "Para comprobantes A y B el detalle de IVA es obligatorio y debe sumar ImpIVA")
                )
        doc_type, condition = int(v("DocTipo") or 0), int(v("CondicionIVAReceptorId") or 0)
        if not condition:
            problems.append(Message(10242, "El campo CondicionIVAReceptorId es obligatorio"))
        elif kind in CLASS_A and (doc_type != 80 or condition not in (RI, MONOTRIBUTO)):
            problems.append(
                Message(10243, "Clase A: el receptor debe ser IVA Responsable Inscripto o Monotributo con CUIT")
            )
        elif kind in CLASS_B and condition == RI:
            problems.append(Message(10243, "Factura B no corresponde a un receptor IVA Responsable Inscripto"))
        if doc_type == 99 and (v("DocNro") not in ("0", "") or condition != CONSUMIDOR_FINAL):
            problems.append(Message(10015, "DocTipo 99 solo para Consumidor Final con DocNro 0"))
        if doc_type == 99 and total >= IDENTIFY_FROM:
            problems.append(Message(10015, f"Desde $ {IDENTIFY_FROM} el receptor debe identificarse"))
        return problems
