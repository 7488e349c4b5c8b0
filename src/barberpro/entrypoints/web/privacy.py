"""Ley 25.326 (personal data): the privacy notice, and the form to ask for one's data or its deletion."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from barberpro.application.data_requests import request_personal_data
from barberpro.domain.errors import DomainError
from barberpro.entrypoints.web import es_ar
from barberpro.entrypoints.web.rendering import WebRoute, render
from barberpro.entrypoints.web.session import PlatformDep, SiteDep, customer_context

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/privacidad")
def privacy(request: Request, tenant: SiteDep) -> Response:
    return render(request, "privacy.html", tenant=tenant, prefill={})


@router.post("/privacidad")
def data_request(
    request: Request,
    platform: PlatformDep,
    tenant: SiteDep,
    tipo: Annotated[str, Form(max_length=20)],
    telefono: Annotated[str, Form(max_length=40)],
    email: Annotated[str, Form(max_length=254)],
    mensaje: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    prefill = {"tipo": tipo, "telefono": telefono, "email": email, "mensaje": mensaje}
    try:
        request_personal_data(
            platform.uow(tenant.id), customer_context(request, platform, tenant),
            kind=tipo, phone=telefono, email=email, message=mensaje,
        )  # fmt: skip
    except DomainError as exc:
        return render(request, "privacy.html", tenant=tenant, status=422, error=es_ar.error_message(exc),
                      prefill=prefill)  # fmt: skip
    # The same answer whether or not the contact details match a customer (no enumeration).
    return render(request, "privacy.html", tenant=tenant, sent=tipo, prefill={})
