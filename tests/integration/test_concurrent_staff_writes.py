"""Races between staff: answering one personal-data request, and owners removing each other.

Each decision reads, checks, then writes; the unit of work's lock makes the second caller read
after the first one's commit. The read is slowed down on purpose so that, without the lock, every
caller would pass the check before any of them commits (the tests fail on such code).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from barberpro.adapters.db.repositories import SqlAuditLog, SqlStaffRepository
from barberpro.application.context import Context
from barberpro.application.data_requests import answer_personal_data_request, request_personal_data
from barberpro.application.staff_auth import create_staff_user, login
from barberpro.application.staff_users import change_staff_role, set_staff_active
from barberpro.bootstrap import Platform
from barberpro.domain.booking import SYSTEM, Actor, ActorKind, Role
from barberpro.domain.errors import InvalidTransition, PolicyViolation, Unauthenticated
from platform_fixtures import PASSWORD, TenantFixture

ANSWERING = 8
ROUNDS = 6
WINDOW = 0.15  # seconds between reading and writing: room for every racer to read first


def _slow_reads(monkeypatch: pytest.MonkeyPatch, cls: type, name: str) -> None:
    original = getattr(cls, name)

    def slow(self: Any, *args: Any, **kwargs: Any) -> Any:
        found = original(self, *args, **kwargs)
        time.sleep(WINDOW)
        return found

    monkeypatch.setattr(cls, name, slow)


def _all_at_once(calls: list[Callable[[], object]]) -> list[BaseException | None]:
    """Run the calls on their own threads, released together; the error each raised, or None."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], object]) -> BaseException | None:
        barrier.wait()
        try:
            call()
        except Exception as exc:  # the test inspects what each racer got
            return exc
        return None

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _staff(tenant: TenantFixture, user_id: str, role: Role, platform: Platform) -> Context:
    return Context(tenant.tenant_id, Actor(ActorKind.STAFF, user_id, role), "race", platform.clock.now())


def test_many_staff_answering_one_request_record_one_answer(
    platform: Platform, alpha: TenantFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = Context(alpha.tenant_id, Actor(ActorKind.CUSTOMER, None), "race", platform.clock.now())
    filed = request_personal_data(platform.uow(alpha.tenant_id), customer, kind="access",
                                  phone="+54 9 11 5555-0000", email="c@example.com")  # fmt: skip
    owner = _staff(alpha, alpha.owner_id, Role.OWNER, platform)
    _slow_reads(monkeypatch, SqlAuditLog, "list")
    outcomes = _all_at_once(
        [
            lambda n=n: answer_personal_data_request(platform.uow(alpha.tenant_id), owner, filed.id, note=f"#{n}")
            for n in range(ANSWERING)
        ]
    )
    assert Counter(type(o).__name__ for o in outcomes) == {"NoneType": 1, "InvalidTransition": ANSWERING - 1}
    assert all(o is None or isinstance(o, InvalidTransition) for o in outcomes)
    with platform.uow(alpha.tenant_id, write=False) as uow:
        answers = uow.audit.list(action="PersonalDataRequestAnswered")
    assert [a.entity_id for a in answers] == [filed.id]


def test_two_owners_removing_each_other_at_once_always_leave_one(
    platform: Platform, alpha: TenantFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = alpha.owner_id
    owner_ctx = _staff(alpha, first, Role.OWNER, platform)
    second = create_staff_user(platform.uow(alpha.tenant_id), owner_ctx, platform.hasher, email="socia@example.com",
                               name="Socia", password=PASSWORD, role=Role.OWNER).id  # fmt: skip
    system = Context(alpha.tenant_id, SYSTEM, "race", platform.clock.now())
    _slow_reads(monkeypatch, SqlStaffRepository, "list")

    def remove(actor: str, target: str, *, demote: bool) -> Callable[[], object]:
        ctx = _staff(alpha, actor, Role.OWNER, platform)
        if demote:
            return lambda: change_staff_role(platform.uow(alpha.tenant_id), ctx, target, role=Role.MANAGER)
        return lambda: set_staff_active(platform.uow(alpha.tenant_id), ctx, target, active=False)

    for round_ in range(ROUNDS):
        demote = round_ % 2 == 1  # alternate: deactivating each other, demoting each other
        outcomes = _all_at_once([remove(first, second, demote=demote), remove(second, first, demote=demote)])
        with platform.uow(alpha.tenant_id, write=False) as uow:
            owners = [u for u in uow.staff.list() if u.role is Role.OWNER and u.active]
        assert len(owners) == 1, (round_, outcomes)
        failed = [o for o in outcomes if o is not None]
        assert len(failed) == 1 and isinstance(failed[0], PolicyViolation), (round_, outcomes)
        # Put both back as active owners for the next round.
        for user_id in (first, second):
            set_staff_active(platform.uow(alpha.tenant_id), system, user_id, active=True)
            change_staff_role(platform.uow(alpha.tenant_id), system, user_id, role=Role.OWNER)


def test_a_login_racing_a_deactivation_does_not_bring_the_user_back(
    platform: Platform, alpha: TenantFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner_ctx = _staff(alpha, alpha.owner_id, Role.OWNER, platform)
    barber = create_staff_user(platform.uow(alpha.tenant_id), owner_ctx, platform.hasher, email="turno@example.com",
                               name="Turno", password=PASSWORD, role=Role.MANAGER).id  # fmt: skip
    guest = Context(alpha.tenant_id, Actor(ActorKind.CUSTOMER, None), "race", platform.clock.now())
    # A failed attempt leaves a counter, so the successful login below rewrites the user's row.
    with pytest.raises(Unauthenticated):
        login(platform.uow(alpha.tenant_id), guest, platform.hasher, email="turno@example.com", password="wrong")
    _slow_reads(monkeypatch, SqlStaffRepository, "by_email")

    def log_in() -> object:
        return login(platform.uow(alpha.tenant_id), guest, platform.hasher, email="turno@example.com",
                     password=PASSWORD)  # fmt: skip

    def deactivate_while_logging_in() -> object:
        time.sleep(WINDOW / 3)  # after the login has read the user, before it writes
        return set_staff_active(platform.uow(alpha.tenant_id), owner_ctx, barber, active=False)

    outcomes = _all_at_once([log_in, deactivate_while_logging_in])
    assert outcomes[1] is None, outcomes
    with platform.uow(alpha.tenant_id, write=False) as uow:
        user = uow.staff.get(barber)
        assert user is not None and not user.active
        assert uow.tokens.unrevoked_for_user(barber) == []
