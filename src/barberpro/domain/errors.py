"""Domain errors. Each carries a stable code that the HTTP edge maps to a problem type."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain or application raises on purpose."""

    code = "domain-error"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class InvalidValue(DomainError):
    """A value breaks a rule of the domain (a bad phone, a negative price...)."""

    code = "invalid-value"


class NotFound(DomainError):
    """The entity does not exist, or belongs to another tenant (indistinguishable on purpose)."""

    code = "not-found"


class SlotUnavailable(DomainError):
    """The requested time is no longer free."""

    code = "slot-unavailable"


class InvalidTransition(DomainError):
    """The booking's status does not allow this change."""

    code = "invalid-transition"


class PolicyViolation(DomainError):
    """The shop's policy forbids this action now (too late to cancel, outside the horizon...)."""

    code = "policy-violation"


class PermissionDenied(DomainError):
    """The actor may not do this."""

    code = "permission-denied"


class Unauthenticated(DomainError):
    """No valid credentials."""

    code = "unauthenticated"


class IdempotencyConflict(DomainError):
    """The idempotency key was already used with a different request."""

    code = "idempotency-key-reused"


class AccountLocked(DomainError):
    """Too many failed log-ins; the account is locked for a while."""

    code = "account-locked"


class ConcurrentRequest(DomainError):
    """Another request with the same idempotency key is being processed."""

    code = "concurrent-request"
