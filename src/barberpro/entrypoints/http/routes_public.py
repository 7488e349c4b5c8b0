"""Public reads: shops, services, barbers, availability, reviews."""

from __future__ import annotations

from datetime import date as Date
from typing import Annotated

from fastapi import APIRouter, Query

from barberpro.application.availability import find_availability
from barberpro.application.reviews import list_reviews
from barberpro.domain.errors import NotFound
from barberpro.entrypoints.http.deps import CallerDep, PlatformDep
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
def list_shops(platform: PlatformDep, caller: CallerDep) -> JSON:
    with platform.uow(caller.tenant.id, write=False) as uow:
        shops = [s for s in uow.shops.list() if s.active or caller.staff]
        return JSON({"items": [shop_view(s, uow.reviews.summary(s.id)) for s in shops], "next_cursor": None})


@router.get("/shops/{shop_id}", summary="One shop, with its rating summary")
def get_shop(shop_id: str, platform: PlatformDep, caller: CallerDep) -> JSON:
    with platform.uow(caller.tenant.id, write=False) as uow:
        shop = uow.shops.get(shop_id)
        if shop is None:
            raise NotFound("shop not found", field="shop_id")
        return JSON(shop_view(shop, uow.reviews.summary(shop.id)))


@router.get("/shops/{shop_id}/services", summary="Services of a shop, with price in ARS and duration")
def list_services(shop_id: str, platform: PlatformDep, caller: CallerDep) -> JSON:
    with platform.uow(caller.tenant.id, write=False) as uow:
        if uow.shops.get(shop_id) is None:
            raise NotFound("shop not found", field="shop_id")
        services = [s for s in uow.services.list(shop_id) if s.active or caller.staff]
        return JSON({"items": [service_view(s) for s in services], "next_cursor": None})


@router.get("/shops/{shop_id}/barbers", summary="Barbers of a shop")
def list_barbers(shop_id: str, platform: PlatformDep, caller: CallerDep) -> JSON:
    with platform.uow(caller.tenant.id, write=False) as uow:
        if uow.shops.get(shop_id) is None:
            raise NotFound("shop not found", field="shop_id")
        barbers = [b for b in uow.barbers.list(shop_id) if b.active or caller.staff]
        return JSON({"items": [barber_view(b) for b in barbers], "next_cursor": None})


@router.get(
    "/shops/{shop_id}/availability",
    summary="Free slots for a service on a date (in the shop's zone), for one barber or any",
)
def availability(
    shop_id: str,
    platform: PlatformDep,
    caller: CallerDep,
    service_id: IdParam,
    date: Annotated[Date, Query(description="Local date in the shop's zone, YYYY-MM-DD")],
    barber_id: Annotated[str | None, Query(max_length=36)] = None,
) -> JSON:
    slots = find_availability(
        platform.uow(caller.tenant.id, write=False),
        shop_id=shop_id,
        service_id=service_id,
        day=date,
        barber_id=barber_id,
        now_utc=platform.clock.now(),
    )
    return JSON(
        {
            "shop_id": shop_id,
            "service_id": service_id,
            "date": date.isoformat(),
            "barber_id": barber_id,
            "slots": [slot_view(s) for s in slots],
        }
    )


@router.get("/shops/{shop_id}/reviews", summary="Reviews of a shop, newest first (cursor pagination)")
def reviews(
    shop_id: str,
    platform: PlatformDep,
    caller: CallerDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> JSON:
    page = list_reviews(
        platform.uow(caller.tenant.id, write=False), shop_id=shop_id, cursor=cursor, limit=limit
    )
    return JSON({"items": [review_view(r) for r in page.items], "next_cursor": page.next_cursor})
