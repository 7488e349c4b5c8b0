"""The web pages as one router for create_app(), plus the static assets they use."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from barberpro.entrypoints.web import (
    admin_pages,
    booking_flow,
    data_requests_pages,
    manage_booking,
    mercadopago_pages,
    privacy,
    staff_pages,
)
from barberpro.entrypoints.web.rendering import ASSET_TYPES, asset

router = APIRouter(include_in_schema=False)


@router.api_route("/assets/{name}", methods=["GET", "HEAD"])
def static_asset(name: str) -> Response:
    """Our own CSS and JS (nothing from a CDN); immutable under a content-digest URL."""
    found = asset(name)
    if found is None:
        return Response("no encontrado", status_code=404, media_type="text/plain; charset=utf-8")
    body, digest = found
    suffix = name[name.rfind(".") :]
    return Response(
        body,
        media_type=ASSET_TYPES[suffix],
        headers={"Cache-Control": "public, max-age=31536000, immutable", "ETag": f'"{digest}"'},
    )


for _module in (
    booking_flow,
    manage_booking,
    privacy,
    staff_pages,
    admin_pages,
    data_requests_pages,
    mercadopago_pages,
):
    router.include_router(_module.router)
router.include_router(mercadopago_pages.platform_router)
