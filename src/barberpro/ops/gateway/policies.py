"""Rate-limit policies: who is limited (client IP, tenant, API token), per route class and plan."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from barberpro.adapters.kv.gcra import RatePolicy


class RouteClass(enum.StrEnum):
    PUBLIC = "public"  # anonymous browsing: shops, services, availability, reviews
    BOOKING = "booking"  # booking creation and changes by customers
    LOGIN = "login"  # staff log-in
    WEBHOOK = "webhook"  # payment provider callbacks
    STAFF = "staff"  # authenticated staff API
    OPS = "ops"  # health, metrics, docs: never limited


def classify(method: str, path: str, has_credentials: bool) -> RouteClass:
    if not path.startswith("/api/"):
        return RouteClass.OPS
    if "/webhooks/" in path:
        return RouteClass.WEBHOOK
    if path.startswith("/api/v1/auth/") and method == "POST":
        return RouteClass.LOGIN
    if has_credentials:
        return RouteClass.STAFF
    if method != "GET" and path.startswith("/api/v1/bookings"):
        return RouteClass.BOOKING
    return RouteClass.PUBLIC


@dataclass(frozen=True)
class ClassPolicies:
    per_ip: RatePolicy | None
    per_tenant: RatePolicy | None
    per_token: RatePolicy | None = None


def _plan(scale: float) -> dict[RouteClass, ClassPolicies]:
    def p(name: str, limit: float, period: float, burst: float | None = None) -> RatePolicy:
        scaled_burst = None if burst is None else max(1, round(burst * scale))
        return RatePolicy(name, max(1, round(limit * scale)), period, scaled_burst)

    return {
        RouteClass.PUBLIC: ClassPolicies(p("public-ip", 600, 60, 120), p("public-tenant", 30_000, 60)),
        RouteClass.BOOKING: ClassPolicies(p("booking-ip", 20, 600, 10), p("booking-tenant", 600, 60)),
        # Per client address; the per-account lock-out lives in the application.
        RouteClass.LOGIN: ClassPolicies(p("login-ip", 30, 600, 10), p("login-tenant", 600, 60)),
        RouteClass.WEBHOOK: ClassPolicies(None, p("webhook-tenant", 6_000, 60)),
        RouteClass.STAFF: ClassPolicies(None, p("staff-tenant", 12_000, 60), p("staff-token", 1_200, 60, 200)),
    }


# Plans scale every quota; a tenant without a configured plan is on "standard".
PLANS: dict[str, dict[RouteClass, ClassPolicies]] = {
    "standard": _plan(1.0),
    "pro": _plan(4.0),
}


def parse_policy(name: str, spec: str) -> RatePolicy:
    """ "100/60" (100 per 60 s) or "100/60/20" (with a burst of 20)."""
    parts = [p.strip() for p in spec.split("/")]
    if len(parts) not in (2, 3):
        raise ValueError(f"rate policy {name!r}: expected LIMIT/SECONDS[/BURST], got {spec!r}")
    burst = int(parts[2]) if len(parts) == 3 else None
    return RatePolicy(name, int(parts[0]), float(parts[1]), burst)


def _override(policy: RatePolicy | None, overrides: dict[str, RatePolicy]) -> RatePolicy | None:
    return overrides.get(policy.name, policy) if policy is not None else None


@dataclass
class PolicyBook:
    tenant_plans: dict[str, str] = field(default_factory=dict)  # tenant slug or host -> plan
    plans: dict[str, dict[RouteClass, ClassPolicies]] = field(default_factory=lambda: dict(PLANS))
    overrides: dict[str, str] = field(default_factory=dict)  # policy name -> "LIMIT/SECONDS[/BURST]"

    def __post_init__(self) -> None:
        if not self.overrides:
            return
        parsed = {name: parse_policy(name, spec) for name, spec in self.overrides.items()}
        self.plans = {
            plan: {
                cls: ClassPolicies(
                    _override(p.per_ip, parsed), _override(p.per_tenant, parsed), _override(p.per_token, parsed)
                )
                for cls, p in classes.items()
            }
            for plan, classes in self.plans.items()
        }

    def for_request(self, tenant_key: str, route_class: RouteClass) -> ClassPolicies | None:
        if route_class is RouteClass.OPS:
            return None
        name = self.tenant_plans.get(tenant_key) or self.tenant_plans.get(tenant_key.split(".", 1)[0], "standard")
        plan = self.plans.get(name, self.plans["standard"])
        return plan.get(route_class)


# Failed log-ins per client address: past this, the address is refused for a while.
LOGIN_FAILURES = RatePolicy("login-failures-ip", 20, 900, 20)
