"""The printed invoice (PDF) with the fields RG 1415 asks for and AFIP's QR code (RG 4892)."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import segno
from fpdf import FPDF

from barberpro.application.invoicing import LETTER, qr_payload
from barberpro.application.payment_ports import Invoice, IvaCondition, TaxProfile
from barberpro.domain.money import format_ars

QR_URL = "https://www.afip.gob.ar/fe/qr/?p="
IVA_LABEL = {
    IvaCondition.MONOTRIBUTO: "Responsable Monotributo",
    IvaCondition.RESPONSABLE_INSCRIPTO: "IVA Responsable Inscripto",
}
RECEIVER_LABEL = {
    1: "IVA Responsable Inscripto",
    4: "IVA Sujeto Exento",
    5: "Consumidor Final",
    6: "Responsable Monotributo",
}
DOC_LABEL = {80: "CUIT", 96: "DNI", 99: "Sin identificar"}


def qr_url(invoice: Invoice) -> str:
    payload = json.dumps(qr_payload(invoice), separators=(",", ":")).encode()
    return QR_URL + base64.b64encode(payload).decode()


def decode_qr_url(url: str) -> dict[str, Any]:
    if not url.startswith(QR_URL):
        raise ValueError("not an AFIP invoice QR")
    decoded: dict[str, Any] = json.loads(base64.b64decode(url[len(QR_URL) :]))
    return decoded


def qr_png(invoice: Invoice) -> bytes:
    buffer = io.BytesIO()
    segno.make(qr_url(invoice), error="m").save(buffer, kind="png", scale=6, border=4)
    return buffer.getvalue()


def _cuit(value: str) -> str:
    return f"{value[:2]}-{value[2:10]}-{value[10:]}" if len(value) == 11 else value


def render_pdf(invoice: Invoice, issuer: TaxProfile, *, shop_name: str = "", credited: Invoice | None = None) -> bytes:
    """The printed voucher; a credit or debit note names the invoice it corrects (`credited`)."""
    if invoice.cae is None or invoice.number is None or invoice.cae_due is None:
        raise ValueError("only authorised invoices are printed")
    if invoice.is_correction and (credited is None or credited.number is None):
        raise ValueError("a credit or debit note is printed with the authorised invoice it corrects")
    letter = LETTER.get(invoice.voucher_type, "?")
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(85, 8, issuer.legal_name[:40])
    pdf.set_font("Helvetica", "B", 28)
    pdf.cell(20, 16, letter, border=1, align="C")
    pdf.set_font("Helvetica", "B", 14)
    title = {"invoice": "FACTURA", "credit_note": "NOTA DE CRÉDITO", "debit_note": "NOTA DE DÉBITO"}[invoice.kind]
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT", align="R")
    pdf.set_font("Helvetica", "", 8)
    pdf.cell(85, 5, shop_name[:60])
    pdf.cell(20, 8, f"COD. {invoice.voucher_type:03d}", align="C")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(
        0,
        5,
        f"Punto de venta: {invoice.point_of_sale:05d}  Comp. Nro: {invoice.number:08d}",
        new_x="LMARGIN",
        new_y="NEXT",
        align="R",
    )
    pdf.cell(0, 5, f"Fecha de emisión: {invoice.issue_date:%d/%m/%Y}", new_x="LMARGIN", new_y="NEXT", align="R")
    lines = [
        f"Domicilio comercial: {issuer.address}",
        f"Condición frente al IVA: {IVA_LABEL[issuer.iva_condition]}",
        f"CUIT: {_cuit(issuer.cuit)}   Ingresos Brutos: {issuer.gross_income_id}",
        f"Fecha de inicio de actividades: {issuer.activity_start:%d/%m/%Y}",
    ]
    for line in lines:
        pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 6, "Receptor", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    doc = DOC_LABEL.get(invoice.doc_type, str(invoice.doc_type))
    number = _cuit(invoice.doc_number) if invoice.doc_type == 80 else invoice.doc_number
    pdf.cell(
        0,
        5,
        f"{invoice.receiver_name}   {doc}: {number if invoice.doc_type != 99 else '-'}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.cell(
        0,
        5,
        f"Condición frente al IVA: {RECEIVER_LABEL.get(invoice.receiver_iva_condition, '-')}   "
        "Condición de venta: Contado / MercadoPago",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.cell(
        0,
        5,
        f"Período facturado: {invoice.service_from:%d/%m/%Y} al {invoice.service_to:%d/%m/%Y}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if credited is not None and credited.formatted_number is not None:
        pdf.cell(
            0,
            5,
            f"Comprobante asociado: Factura {LETTER.get(credited.voucher_type, '?')} "
            f"{credited.formatted_number} del {credited.issue_date:%d/%m/%Y}",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(120, 7, "Descripción", border=1)
    pdf.cell(20, 7, "Cant.", border=1, align="R")
    pdf.cell(0, 7, "Importe", border=1, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    line_amount = invoice.net if letter == "A" else invoice.total
    pdf.cell(120, 7, invoice.description[:70], border=1)
    pdf.cell(20, 7, "1", border=1, align="R")
    pdf.cell(0, 7, format_ars(line_amount), border=1, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    if letter == "A":
        totals = [("Importe neto gravado", invoice.net), ("IVA 21 %", invoice.vat)]
    elif letter == "B":
        # Régimen de Transparencia Fiscal al Consumidor (Ley 27.743): IVA contenido.
        totals = [("IVA contenido", invoice.vat)]
    else:
        totals = []
    for label, amount in [*totals, ("Importe total", invoice.total)]:
        pdf.cell(140, 6, label, align="R")
        pdf.cell(0, 6, format_ars(amount), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    top = pdf.get_y()
    pdf.image(io.BytesIO(qr_png(invoice)), x=pdf.l_margin, y=top, w=35, h=35)
    pdf.set_xy(pdf.l_margin + 40, top + 8)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 6, f"CAE: {invoice.cae}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(pdf.l_margin + 40)
    pdf.cell(0, 6, f"Vencimiento del CAE: {invoice.cae_due:%d/%m/%Y}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(pdf.l_margin + 40)
    pdf.set_font("Helvetica", "", 8)
    pdf.cell(0, 6, "Comprobante autorizado por ARCA (ex AFIP)", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
