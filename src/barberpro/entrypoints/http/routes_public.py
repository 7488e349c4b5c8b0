"""Public reads: shops, services, barbers, availability, reviews."""

from __future__ import annotations

from datetime import date as Date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from barberpro.application.availability import find_availability
from barberpro.application.reviews import list_reviews
from barberpro.domain.errors import NotFound
from barberpro.entrypoints.http.deps import CallerDep, PlatformDep
from barberpro.entrypoints.http.gateway_cache import AVAILABILITY_TTL, CATALOG_TTL, cached_json
from barberpro.entrypoints.http.views import (
    JSON,
    barber_view,
    review_view,
    service_view,
    shop_view,
    slot_view,
    tenant_view,
)

router = APIRouter(prefix="/api/v1", tags=["public"])
IdParam = Annotated[str, Query(max_length=36)]


@router.get("/tenant", summary="The tenant (brand) this address serves")
def get_tenant(caller: CallerDep) -> JSON:
    return JSON(tenant_view(caller.tenant))


@router.get("/shops", summary="Shops of the tenant")
def list_shops(request: Request, platform: PlatformDep, caller: CallerDep) -> Response:
    def compute() -> dict[str, object]:
        with platform.uow(caller.tenant.id, write=False) as uow:
            shops = [s for s in uow.shops.list() if s.active or caller.staff]
            return {"items": [shop_view(s, uow.reviews.summary(s.id)) for s in shops], "next_cursor": None}

    return cached_json(request, caller.tenant.id, caller.staff is None, "shops", CATALOG_TTL, compute)


@router.get("/shops/{shop_id}", summary="One shop, with its rating summary")
def get_shop(request: Request, shop_id: str, platform: PlatformDep, caller: CallerDep) -> Response:
    def compute() -> dict[str, object]:
        with platform.uow(caller.tenant.id, write=False) as uow:
            shop = uow.shops.get(shop_id)
            if shop is None:
                raise NotFound("shop not found", field="shop_id")
            return shop_view(shop, uow.reviews.summary(shop.id))

    return cached_json(request, caller.tenant.id, caller.staff is None, f"shop:{shop_id}", CATALOG_TTL, compute)


@router.get("/shops/{shop_id}/services", summary="Services of a shop, with price in ARS and duration")
def list_services(request: Request, shop_id: str, platform: PlatformDep, caller: CallerDep) -> Response:
    def compute() -> dict[str, object]:
        with platform.uow(caller.tenant.id, write=False) as uow:
            if uow.shops.get(shop_id) is None:
                raise NotFound("shop not found", field="shop_id")
            services = [s for s in uow.services.list(shop_id) if s.active or caller.staff]
            return {"items": [service_view(s) for s in services], "next_cursor": None}

    key = f"services:{shop_id}"
    return cached_json(request, caller.tenant.id, caller.staff is None, key, CATALOG_TTL, compute)


@router.get("/shops/{shop_id}/barbers", summary="Barbers of a shop")
def list_barbers(request: Request, shop_id: str, platform: PlatformDep, caller: CallerDep) -> Response:
    def compute() -> dict[str, object]:
        with platform.uow(caller.tenant.id, write=False) as uow:
            if uow.shops.get(shop_id) is None:
                raise NotFound("shop not found", field="shop_id")
            barbers = [b for b in uow.barbers.list(shop_id) if b.active or caller.staff]
            return {"items": [barber_view(b) for b in barbers], "next_cursor": None}

    return cached_json(request, caller.tenant.id, caller.staff is None, f"barbers:{shop_id}", CATALOG_TTL, compute)


@router.get(
    "/shops/{shop_id}/availability",
    summary="Free slots for a service on a date (in the shop's zone), for one barber or any",
)
def availability(
    request: Request,
    shop_id: str,
    platform: PlatformDep,
    caller: CallerDep,
    service_id: IdParam,
    date: Annotated[Date, Query(description="Local date in the shop's zone, YYYY-MM-DD")],
    barber_id: Annotated[str | None, Query(max_length=36)] = None,
) -> Response:
    def compute() -> dict[str, object]:
        slots = find_availability(
            platform.uow(caller.tenant.id, write=False),
            shop_id=shop_id,
            service_id=service_id,
            day=date,
            barber_id=barber_id,
            now_utc=platform.clock.now(),
        )
        return {
            "shop_id": shop_id,
            "service_id": service_id,
            "date": date.isoformat(),
            "barber_id": barber_id,
            "slots": [slot_view(s) for s in slots],
        }

    # Staff see the same slots; caching them too is safe (availability hides nothing).
    key = f"availability:{shop_id}:{service_id}:{date.isoformat()}:{barber_id or '*'}"
    return cached_json(request, caller.tenant.id, True, key, AVAILABILITY_TTL, compute)


@router.get("/shops/{shop_id}/reviews", summary="Reviews of a shop, newest first (cursor pagination)")
def reviews(
    shop_id: str,
    platform: PlatformDep,
    caller: CallerDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> JSON:
    page = list_reviews(platform.uow(caller.tenant.id, write=False), shop_id=shop_id, cursor=cursor, limit=limit)
    return JSON({"items": [review_view(r) for r in page.items], "next_cursor": page.next_cursor})
