"""Staff screen for Ley 25.326 personal-data requests: the list with due dates, marking one answered, and
downloading a matched customer's data for an access request."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from barberpro.adapters.holidays_ar import national_holidays
from barberpro.application.data_requests import answer_personal_data_request, list_personal_data_requests
from barberpro.bootstrap import Platform
from barberpro.domain.errors import InvalidTransition
from barberpro.entrypoints.http.customer_export import customer_data_download
from barberpro.entrypoints.web.rendering import WebRoute, redirect, render
from barberpro.entrypoints.web.session import PlatformDep, StaffSession, StaffSessionDep, require_csrf

router = APIRouter(prefix="/staff/pedidos-de-datos", route_class=WebRoute, include_in_schema=False)
# The law's terms are read by the shop in Buenos Aires whatever the server's zone.
BUENOS_AIRES = ZoneInfo("America/Argentina/Buenos_Aires")
ALREADY_ANSWERED = "Ese pedido ya estaba marcado como respondido."


def requests_page(
    request: Request, platform: Platform, session: StaffSession, *, status: int = 200, **extra: Any
) -> Response:
    filed = list_personal_data_requests(platform.uow(session.tenant.id, write=False), session.ctx, national_holidays())
    return render(request, "data_requests.html", tenant=session.tenant, status=status, session=session,
                  requests=filed, zone=BUENOS_AIRES, **extra)  # fmt: skip


@router.get("")
def data_requests(
    request: Request,
    platform: PlatformDep,
    session: StaffSessionDep,
    aviso: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    return requests_page(request, platform, session, notice=aviso)


@router.post("/{request_id}/respondida")
def mark_answered(
    request: Request,
    request_id: str,
    platform: PlatformDep,
    session: StaffSessionDep,
    csrf: Annotated[str, Form(max_length=200)],
    nota: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    require_csrf(session, csrf)
    try:
        answer_personal_data_request(platform.uow(session.tenant.id), session.ctx, request_id, note=nota)
    except InvalidTransition:
        return requests_page(request, platform, session, status=409, error=ALREADY_ANSWERED)
    return redirect("/staff/pedidos-de-datos?aviso=respondida")


# A POST with the session's CSRF token: producing the file writes an audit entry, so a link on
# another site must not be able to make a logged-in owner's browser do it.
@router.post("/clientes/{customer_id}/datos")
def download_customer_data(
    customer_id: str, platform: PlatformDep, session: StaffSessionDep, csrf: Annotated[str, Form(max_length=200)]
) -> Response:
    require_csrf(session, csrf)
    return customer_data_download(platform, session.ctx, customer_id)
