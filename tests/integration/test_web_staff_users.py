"""Changing staff users from the admin page: role, deactivation (tokens and sessions revoked), last owner kept."""

from __future__ import annotations

from fastapi.testclient import TestClient
from test_web_staff import log_in

from barberpro.application.context import Context
from barberpro.application.staff_auth import create_staff_user
from barberpro.bootstrap import Platform
from barberpro.domain.booking import Actor, ActorKind, Role
from conftest import staff_headers
from platform_fixtures import PASSWORD, TenantFixture

MANAGER = "encargada@example.com"


def _add_user(platform: Platform, tenant: TenantFixture, email: str, role: Role) -> str:
    owner = Context(tenant.tenant_id, Actor(ActorKind.STAFF, tenant.owner_id, Role.OWNER), "test",
                    platform.clock.now())  # fmt: skip
    user = create_staff_user(platform.uow(tenant.tenant_id), owner, platform.hasher, email=email, name="Encargada",
                             password=PASSWORD, role=role)  # fmt: skip
    return user.id


def _user(platform: Platform, tenant: TenantFixture, user_id: str):  # type: ignore[no-untyped-def]
    with platform.uow(tenant.tenant_id, write=False) as uow:
        return uow.staff.get(user_id)


def _actions(platform: Platform, tenant: TenantFixture, user_id: str) -> list[str]:
    with platform.uow(tenant.tenant_id, write=False) as uow:
        return [e.action for e in uow.audit.list(entity_id=user_id)]


def test_owner_changes_role_and_deactivation_ends_sessions_and_tokens(
    client: TestClient, alpha: TenantFixture, platform: Platform
) -> None:
    user_id = _add_user(platform, alpha, MANAGER, Role.MANAGER)
    api = staff_headers(client, MANAGER)
    assert client.get("/api/v1/staff/audit", headers=api).status_code == 200
    with TestClient(client.app, base_url="http://alpha.example.com") as other:
        log_in(other, MANAGER)
        assert other.get("/staff/admin").status_code == 200
        csrf = log_in(client, alpha.owner_email)
        url = f"/staff/admin/usuarios/{user_id}"
        assert client.post(f"{url}/rol", data={"csrf": "forged", "rol": "barber"}).status_code == 403
        assert _user(platform, alpha, user_id).role is Role.MANAGER
        changed = client.post(f"{url}/rol", data={"csrf": csrf, "rol": "barber"}, follow_redirects=True)
        assert changed.status_code == 200 and _user(platform, alpha, user_id).role is Role.BARBER
        assert other.get("/staff/admin").status_code == 403  # the new role applies to the open session
        off = client.post(f"{url}/estado", data={"csrf": csrf, "activo": "no"}, follow_redirects=True)
        assert off.status_code == 200 and "(inactivo)" in off.text
        assert other.get("/staff/agenda", follow_redirects=False).status_code == 303  # back to log-in
        assert client.get("/api/v1/staff/audit", headers=api).status_code == 401
    with platform.uow(alpha.tenant_id, write=False) as uow:
        assert uow.tokens.unrevoked_for_user(user_id) == []
    refused = client.post("/staff/ingresar", data={"email": MANAGER, "password": PASSWORD})
    assert refused.status_code == 401
    assert _actions(platform, alpha, user_id)[-2:] == ["StaffRoleChanged", "StaffUserDeactivated"]
    on = client.post(f"/staff/admin/usuarios/{user_id}/estado", data={"csrf": csrf, "activo": "si"})
    assert on.status_code in (200, 303) and _user(platform, alpha, user_id).active
    assert _actions(platform, alpha, user_id)[-1] == "StaffUserReactivated"


def test_last_active_owner_is_kept(client: TestClient, alpha: TenantFixture, platform: Platform) -> None:
    csrf = log_in(client, alpha.owner_email)
    url = f"/staff/admin/usuarios/{alpha.owner_id}"
    demoted = client.post(f"{url}/rol", data={"csrf": csrf, "rol": "manager"})
    assert demoted.status_code == 422 and "al menos un dueño/a activo" in demoted.text
    off = client.post(f"{url}/estado", data={"csrf": csrf, "activo": "no"})
    assert off.status_code == 422
    owner = _user(platform, alpha, alpha.owner_id)
    assert owner.role is Role.OWNER and owner.active
    # With a second active owner the first may step down.
    second = _add_user(platform, alpha, "socia@example.com", Role.OWNER)
    client.post(f"{url}/rol", data={"csrf": csrf, "rol": "manager"})
    assert _user(platform, alpha, alpha.owner_id).role is Role.MANAGER
    assert _user(platform, alpha, second).role is Role.OWNER


def test_only_owners_change_users_and_only_their_own_tenants(
    client: TestClient, alpha: TenantFixture, beta: TenantFixture, platform: Platform
) -> None:
    _add_user(platform, alpha, MANAGER, Role.MANAGER)
    beta_user = _add_user(platform, beta, "otra@example.com", Role.MANAGER)
    csrf = log_in(client, MANAGER)
    denied = client.post(f"/staff/admin/usuarios/{alpha.owner_id}/estado", data={"csrf": csrf, "activo": "no"})
    assert denied.status_code == 403 and _user(platform, alpha, alpha.owner_id).active
    client.cookies.clear()
    csrf = log_in(client, alpha.owner_email)
    cross = client.post(f"/staff/admin/usuarios/{beta_user}/estado", data={"csrf": csrf, "activo": "no"})
    assert cross.status_code == 404
    cross_role = client.post(f"/staff/admin/usuarios/{beta_user}/rol", data={"csrf": csrf, "rol": "barber"})
    assert cross_role.status_code == 404
    moved = _user(platform, beta, beta_user)
    assert moved.active and moved.role is Role.MANAGER
