"""Jinja2 rendering, the shared page context, and a route class that turns errors into pages."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Coroutine
from importlib import resources
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.responses import HTMLResponse, RedirectResponse, Response

from barberpro.domain import errors
from barberpro.domain.money import format_ars
from barberpro.domain.tenancy import DEFAULT_THEME, Tenant
from barberpro.entrypoints.web import es_ar
from barberpro.entrypoints.web.theme import css_variables

ASSET_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


@functools.cache
def environment() -> Any:
    """Built on first use (never at import): loading jinja2 and the templates costs ~50 ms."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("barberpro.entrypoints.web", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["ars"] = format_ars
    env.filters["status_es"] = lambda value: es_ar.STATUS.get(str(value), str(value))
    env.filters["kind_es"] = lambda value: es_ar.KIND.get(str(value), str(value))
    env.filters["role_es"] = lambda value: es_ar.ROLES.get(str(value), str(value))
    env.filters["day_es"] = es_ar.day_label
    env.filters["short_day_es"] = es_ar.short_day_label
    env.globals["asset"] = asset_url
    env.globals["exception_kinds"] = es_ar.EXCEPTION_KINDS
    env.globals["weekdays"] = es_ar.WEEKDAYS
    return env


@functools.cache
def asset(name: str) -> tuple[bytes, str] | None:
    """A file of static/ and its content digest (for the URL, so caches can keep it a year)."""
    if "/" in name or name.startswith(".") or not any(name.endswith(s) for s in ASSET_TYPES):
        return None
    try:
        body = resources.files("barberpro.entrypoints.web").joinpath("static", name).read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None
    return body, hashlib.sha256(body).hexdigest()[:12]


def asset_url(name: str) -> str:
    found = asset(name)
    return f"/assets/{name}?v={found[1]}" if found else f"/assets/{name}"


def render(request: Request, template: str, *, tenant: Tenant | None, status: int = 200, **values: Any) -> HTMLResponse:
    theme = tenant.theme if tenant else DEFAULT_THEME
    body = (
        environment()
        .get_template(template)
        .render(
            request=request,
            tenant=tenant,
            brand=tenant.name if tenant else "BarberPro",
            logo_url=theme.get("logo_url", ""),
            theme_css=css_variables(theme),
            **values,
        )
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def redirect(url: str) -> RedirectResponse:
    """303: after a POST the browser follows with a GET (no resubmission on reload)."""
    return RedirectResponse(url, status_code=303)


class LoginRequired(Exception):
    """No valid staff web session: send the browser to the log-in page."""


_ERROR_STATUS = {
    errors.NotFound: 404,
    errors.PermissionDenied: 403,
    errors.Unauthenticated: 401,
    errors.AccountLocked: 423,
    errors.InvalidValue: 422,
}


def error_page(request: Request, exc: errors.DomainError) -> HTMLResponse:
    status = next((s for k, s in _ERROR_STATUS.items() if isinstance(exc, k)), 409)
    tenant = getattr(request.state, "web_tenant", None)
    return render(
        request, "error.html", tenant=tenant, status=status, message=es_ar.error_message(exc), status_code=status
    )


class WebRoute(APIRoute):
    """Pages answer with HTML, never problem+json: errors become a page in Spanish."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def html_errors(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                target = request.url.path if request.method == "GET" else "/staff/agenda"
                return redirect("/staff/ingresar?siguiente=" + quote(target, safe="/"))
            except errors.DomainError as exc:
                return error_page(request, exc)

        return html_errors
