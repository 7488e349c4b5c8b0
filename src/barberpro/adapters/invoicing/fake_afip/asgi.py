"""The fake AFIP as a small ASGI application, for `barberpro afip fake-server`."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from barberpro.adapters.invoicing.fake_afip.service import WSAA_PATH, WSFE_PATH, FakeAfip


def create_app(fake: FakeAfip) -> Starlette:
    async def soap_endpoint(request: Request) -> Response:
        status, body = fake.respond(request.url.path, request.headers.get("soapaction", ""), await request.body())
        if status == -1:  # a lost answer: the client sees a gateway timeout
            return Response(status_code=504)
        return Response(body, status_code=status, media_type="text/xml; charset=utf-8")

    return Starlette(
        routes=[Route(WSAA_PATH, soap_endpoint, methods=["POST"]), Route(WSFE_PATH, soap_endpoint, methods=["POST"])]
    )
