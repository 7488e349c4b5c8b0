"""WSFEv1 client: FEDummy, FECompUltimoAutorizado, FECAESolicitar, FECompConsultar."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from xml.etree.ElementTree import Element

import httpx

from barberpro.adapters.invoicing import soap
from barberpro.adapters.invoicing.wsaa import WsaaUnreachable
from barberpro.application.payment_ports import (
    Authorization,
    AuthorizedVoucher,
    LoginTicket,
    Message,
    TaxAuthorityUnreachable,
    VoucherRequest,
)

WSFE_URLS = {
    "homologacion": "https://wswhomo.afip.gov.ar/wsfev1/service.asmx",
    "produccion": "https://servicios1.afip.gov.ar/wsfev1/service.asmx",
}
FE_NS = "http://ar.gov.afip.dif.FEV1/"
SERVICE_CONCEPT = 2  # "Servicios": needs service dates and a payment due date
VAT_21_ID = 5
NOT_FOUND = 602


class WsfeError(Exception):
    def __init__(self, errors: tuple[Message, ...]) -> None:
        super().__init__("; ".join(f"{m.code}: {m.text}" for m in errors))
        self.errors = errors


def _day(value: date) -> str:
    return value.strftime("%Y%m%d")


def _parse_day(raw: str) -> date:
    return datetime.strptime(raw, "%Y%m%d").date()


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _messages(node: Element | None, group: str, item: str, code: str = "Code", msg: str = "Msg") -> tuple[Message, ...]:
    holder = soap.find(node, group) if node is not None else None
    return tuple(Message(int(soap.text(m, code) or 0), soap.text(m, msg)) for m in soap.children(holder, item))


def associated_vouchers(request: VoucherRequest) -> str:
    """CbtesAsoc (a credit note's invoice), in the schema's place: after CondicionIVAReceptorId, before Iva."""
    if not request.associated:
        return ""
    e = soap.element
    items = "".join(
        "<ar:CbteAsoc>"
        f"{e('ar:Tipo', a.voucher_type)}{e('ar:PtoVta', a.point_of_sale)}{e('ar:Nro', a.number)}"
        f"{e('ar:Cuit', a.cuit)}{e('ar:CbteFch', _day(a.issue_date))}"
        "</ar:CbteAsoc>"
        for a in request.associated
    )
    return f"<ar:CbtesAsoc>{items}</ar:CbtesAsoc>"


def voucher_detail(request: VoucherRequest) -> str:
    e = soap.element
    vat = ""
    if request.vat > 0:
        vat = (
            "<ar:Iva><ar:AlicIva>"
            f"{e('ar:Id', VAT_21_ID)}{e('ar:BaseImp', _money(request.net))}{e('ar:Importe', _money(request.vat))}"
            "</ar:AlicIva></ar:Iva>"
        )
    return (
        "<ar:FECAEDetRequest>"
        f"{e('ar:Concepto', SERVICE_CONCEPT)}{e('ar:DocTipo', request.doc_type)}{e('ar:DocNro', request.doc_number)}"
        f"{e('ar:CbteDesde', request.number)}{e('ar:CbteHasta', request.number)}"
        f"{e('ar:CbteFch', _day(request.issue_date))}"
        f"{e('ar:ImpTotal', _money(request.total))}{e('ar:ImpTotConc', '0.00')}{e('ar:ImpNeto', _money(request.net))}"
        f"{e('ar:ImpOpEx', '0.00')}{e('ar:ImpTrib', '0.00')}{e('ar:ImpIVA', _money(request.vat))}"
        f"{e('ar:FchServDesde', _day(request.service_from))}{e('ar:FchServHasta', _day(request.service_to))}"
        f"{e('ar:FchVtoPago', _day(request.payment_due))}{e('ar:MonId', 'PES')}{e('ar:MonCotiz', '1')}"
        f"{e('ar:CondicionIVAReceptorId', request.receiver_iva_condition)}{associated_vouchers(request)}{vat}"
        "</ar:FECAEDetRequest>"
    )


class WsfeClient:
    """The TaxAuthority port for one taxpayer; `ticket` supplies WSAA credentials."""

    def __init__(
        self,
        *,
        cuit: str,
        ticket: Callable[[], LoginTicket],
        url: str,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self._cuit = cuit
        self._ticket = ticket
        self._url = url
        self._http = httpx.Client(transport=transport, timeout=timeout)

    def _auth(self) -> str:
        try:
            ticket = self._ticket()
        except WsaaUnreachable as error:  # AFIP is down: retried like any unanswered call
            raise TaxAuthorityUnreachable(str(error)) from error
        e = soap.element
        return f"<ar:Auth>{e('ar:Token', ticket.token)}{e('ar:Sign', ticket.sign)}{e('ar:Cuit', self._cuit)}</ar:Auth>"

    def _call(self, operation: str, inner: str) -> Element:
        body = soap.envelope(f"<ar:{operation}>{inner}</ar:{operation}>", {"ar": FE_NS})
        try:
            response = self._http.post(
                self._url,
                content=body,
                headers={"SOAPAction": f'"{FE_NS}{operation}"', "Content-Type": "text/xml; charset=utf-8"},
            )
        except httpx.TransportError as error:
            raise TaxAuthorityUnreachable(f"WSFE did not answer {operation}: {type(error).__name__}") from error
        if response.status_code >= 500 and b"Fault" not in response.content:
            raise TaxAuthorityUnreachable(f"WSFE answered {response.status_code} to {operation}")
        root = soap.parse(response.content)
        soap.raise_fault(root)
        result = soap.find(root, f"{operation}Result")
        if result is None:
            raise TaxAuthorityUnreachable(f"WSFE answered {operation} without a result")
        return result

    def dummy(self) -> dict[str, str]:
        result = self._call("FEDummy", "")
        return {name: soap.text(result, name) for name in ("AppServer", "DbServer", "AuthServer")}

    def last_authorized(self, point_of_sale: int, voucher_type: int) -> int:
        e = soap.element
        result = self._call(
            "FECompUltimoAutorizado", f"{self._auth()}{e('ar:PtoVta', point_of_sale)}{e('ar:CbteTipo', voucher_type)}"
        )
        errors = _messages(result, "Errors", "Err")
        if errors:
            raise WsfeError(errors)
        return int(soap.text(result, "CbteNro") or 0)

    def authorize(self, request: VoucherRequest) -> Authorization:
        e = soap.element
        header = (
            f"<ar:FeCabReq>{e('ar:CantReg', 1)}{e('ar:PtoVta', request.point_of_sale)}"
            f"{e('ar:CbteTipo', request.voucher_type)}</ar:FeCabReq>"
        )
        result = self._call(
            "FECAESolicitar",
            f"{self._auth()}<ar:FeCAEReq>{header}<ar:FeDetReq>{voucher_detail(request)}</ar:FeDetReq></ar:FeCAEReq>",
        )
        errors = _messages(result, "Errors", "Err")
        detail = soap.find(result, "FECAEDetResponse")
        observations = _messages(detail, "Observaciones", "Obs")
        approved = soap.text(detail, "Resultado") == "A" and not errors
        cae = soap.text(detail, "CAE") or None
        due = soap.text(detail, "CAEFchVto")
        return Authorization(
            approved=approved and cae is not None,
            cae=cae if approved else None,
            cae_due=_parse_day(due) if approved and due else None,
            observations=observations,
            errors=errors,
        )

    def lookup(self, point_of_sale: int, voucher_type: int, number: int) -> AuthorizedVoucher | None:
        e = soap.element
        result = self._call(
            "FECompConsultar",
            f"{self._auth()}<ar:FeCompConsReq>{e('ar:CbteTipo', voucher_type)}{e('ar:CbteNro', number)}"
            f"{e('ar:PtoVta', point_of_sale)}</ar:FeCompConsReq>",
        )
        errors = _messages(result, "Errors", "Err")
        if any(m.code == NOT_FOUND for m in errors):
            return None
        if errors:
            raise WsfeError(errors)
        got: Any = soap.find(result, "ResultGet")
        return AuthorizedVoucher(
            number=int(soap.text(got, "CbteDesde")),
            issue_date=_parse_day(soap.text(got, "CbteFch")),
            doc_type=int(soap.text(got, "DocTipo")),
            doc_number=soap.text(got, "DocNro"),
            total=Decimal(soap.text(got, "ImpTotal")).quantize(Decimal("0.01")),
            cae=soap.text(got, "CodAutorizacion"),
            cae_due=_parse_day(soap.text(got, "FchVto")),
        )
