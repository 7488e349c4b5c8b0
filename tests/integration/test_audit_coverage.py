"""Every state change leaves an audit entry: the handlers and the route table are walked.

1. Every application function that commits must have recorded an audit entry (directly,
   or through a helper that does) on every path before each `commit()`.
2. Every POST/PUT/PATCH/DELETE route of create_app() must reach such a committing use case.
3. A real request through the HTTP stack writes the audit row in the same transaction.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import textwrap
from collections.abc import Callable
from types import ModuleType
from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import text

import barberpro.application
from barberpro.bootstrap import Platform
from barberpro.entrypoints.http.app import create_app
from platform_fixtures import TenantFixture

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Reviewed exceptions: a commit reached without an audit call on some path, and why that path
# changes no state. Adding to this list needs the same review.
NO_STATE_CHANGE = {
    "barberpro.application.invoicing.draft_invoice": (
        "the unaudited path is an ignored duplicate insert (another draft already exists)"
    ),
}


def booking_body(t: TenantFixture) -> dict[str, Any]:
    return {
        "shop_id": t.shop_id,
        "service_id": t.service_id,
        "barber_id": t.barber_ids[0],
        "start": "2026-03-03T10:00:00-03:00",
        "customer": {"name": "Ana Pérez", "phone": "+54 9 11 2345-6789", "email": "ana@example.com"},
    }


def _application_modules() -> list[ModuleType]:
    return [
        importlib.import_module(f"barberpro.application.{m.name}")
        for m in pkgutil.iter_modules(barberpro.application.__path__)
    ]


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _functions(module: ModuleType) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(inspect.getsource(module))
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def _auditing_functions(functions: dict[str, ast.FunctionDef]) -> set[str]:
    """Functions that call record(), directly or through another such function (fixpoint)."""
    auditing: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, node in functions.items():
            if name in auditing:
                continue
            calls = {_called_name(c) for c in ast.walk(node) if isinstance(c, ast.Call)}
            if "record" in calls or calls & auditing:
                auditing.add(name)
                changed = True
    return auditing


def _unaudited_commits(body: list[ast.stmt], audited: bool, auditing: set[str]) -> list[int]:
    """Line numbers of commit() calls reached on a path without an audit call before them."""
    missing: list[int] = []
    for statement in body:
        nested = [
            getattr(statement, attr)
            for attr in ("body", "orelse", "finalbody")
            if isinstance(getattr(statement, attr, None), list)
        ]
        handlers = [h.body for h in getattr(statement, "handlers", [])]
        if nested or handlers:
            for block in [*nested, *handlers]:
                missing += _unaudited_commits(block, audited, auditing)
            # A with-block runs its body unconditionally: what it audits counts afterwards.
            if isinstance(statement, ast.With) and not _unaudited_commits(statement.body, False, set()):
                audited = audited or any(
                    isinstance(c, ast.Call) and _called_name(c) in auditing | {"record"} for c in ast.walk(statement)
                )
            continue
        for call in (c for c in ast.walk(statement) if isinstance(c, ast.Call)):
            name = _called_name(call)
            if name in auditing or name == "record":
                audited = True
            elif name == "commit" and not audited:
                missing.append(call.lineno)
    return missing


def committing_use_cases() -> dict[Callable[..., Any], list[int]]:
    """Each application function that commits, with the lines where it commits unaudited."""
    found: dict[Callable[..., Any], list[int]] = {}
    for module in _application_modules():
        functions = _functions(module)
        auditing = _auditing_functions(functions)
        for name, node in functions.items():
            commits = [c for c in ast.walk(node) if isinstance(c, ast.Call) and _called_name(c) == "commit"]
            if commits:
                found[getattr(module, name)] = _unaudited_commits(node.body, False, auditing)
    return found


def test_every_committing_use_case_records_an_audit_entry_first() -> None:
    use_cases = committing_use_cases()
    assert len(use_cases) >= 15, "the walk found too few use cases to be trusted"
    unaudited = {f"{f.__module__}.{f.__name__}": lines for f, lines in use_cases.items() if lines}
    assert {name: lines for name, lines in unaudited.items() if name not in NO_STATE_CHANGE} == {}


def test_the_walk_would_catch_a_commit_without_audit() -> None:
    source = textwrap.dedent("""
        def sneaky(uow, ctx):
            with uow:
                uow.bookings.add(1)
                if ctx:
                    record(uow, ctx)
                    uow.commit()
                uow.commit()
    """)
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.FunctionDef)
    assert _unaudited_commits(node.body, False, set()) == [8]


def _reaches(endpoint: Callable[..., Any], targets: set[Callable[..., Any]], seen: set[Any]) -> bool:
    """Whether an endpoint calls one of `targets`, directly, through helpers of the entrypoints,
    or through an application function that orchestrates use cases (e.g. `resend_rejected`)."""
    if endpoint in seen:
        return False
    seen.add(endpoint)
    module = inspect.getmodule(endpoint)
    node = ast.parse(textwrap.dedent(inspect.getsource(endpoint)))
    for call in (c for c in ast.walk(node) if isinstance(c, ast.Call)):
        func: Any = None
        if isinstance(call.func, ast.Name):
            func = vars(module).get(call.func.id)
        elif isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
            owner = vars(module).get(call.func.value.id)
            func = getattr(owner, call.func.attr, None) if isinstance(owner, ModuleType) else None
        if func in targets:
            return True
        if (
            inspect.isfunction(func)
            and func.__module__.startswith(("barberpro.entrypoints", "barberpro.application"))
            and _reaches(func, targets, seen)
        ):
            return True
    return False


def _api_routes(routes: list[Any]) -> list[APIRoute]:
    """The route table, flattened through included routers."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += _api_routes(route.original_router.routes)
    return found


def test_every_write_route_reaches_an_audited_use_case(platform: Platform) -> None:
    targets = set(committing_use_cases())
    routes = [r for r in _api_routes(create_app(platform=platform).routes) if r.methods & WRITE_METHODS]
    assert len(routes) >= 10
    unaudited = [f"{sorted(r.methods)} {r.path}" for r in routes if not _reaches(r.endpoint, targets, set())]
    assert unaudited == []


def test_a_booking_over_http_writes_its_audit_row(client: TestClient, platform: Platform, alpha: TenantFixture) -> None:
    with platform.database.engine.connect() as connection:
        before = connection.execute(text("SELECT COUNT(*) FROM audit_log")).scalar_one()
    response = client.post("/api/v1/bookings", json=booking_body(alpha))
    assert response.status_code == 201, response.text
    booking_id = response.json()["id"]
    with platform.database.engine.connect() as connection:
        after = connection.execute(text("SELECT COUNT(*) FROM audit_log")).scalar_one()
        entity = connection.execute(
            text("SELECT COUNT(*) FROM audit_log WHERE entity_id = :b"), {"b": booking_id}
        ).scalar_one()
    assert after > before and entity == 1


def _endpoint_that_writes_nothing() -> dict[str, str]:
    return {"status": "ok"}


def test_the_route_walk_would_catch_an_unaudited_route() -> None:
    assert not _reaches(_endpoint_that_writes_nothing, set(committing_use_cases()), set())
