"""The schema, as SQLAlchemy Core tables. Migrations under migrations/ create it."""

from __future__ import annotations

import secrets

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from barberpro.adapters.db.types import UTCDateTime

# The audit leaf format every new audit row is written in (`ops/audit/entries.py`): 2 commits
# each personal value with the row's own random salt, so a redacted value cannot be found
# again by hashing guesses (a phone number or DNI has few enough candidates to try them all).
# Rows from before migration 0007 are format 1 (unsalted commitments) and verify as they were.
AUDIT_LEAF_VERSION = 2


def new_audit_salt() -> str:
    """128 random bits, hex; erased when the row's personal values are redacted."""
    return secrets.token_hex(16)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)


def _id() -> Column[str]:
    return Column("id", String(36), primary_key=True)


def _tenant() -> Column[str]:
    return Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False, index=True)


tenants = Table(
    "tenants",
    metadata,
    _id(),
    Column("slug", String(40), nullable=False, unique=True),
    Column("name", String(120), nullable=False),
    Column("theme", JSON, nullable=False),
    Column("locale", String(10), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

tenant_domains = Table(
    "tenant_domains",
    metadata,
    Column("domain", String(253), primary_key=True),
    _tenant(),
)

shops = Table(
    "shops",
    metadata,
    _id(),
    _tenant(),
    Column("name", String(120), nullable=False),
    Column("address", String(300), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("min_notice_s", Integer, nullable=False),
    Column("horizon_s", Integer, nullable=False),
    Column("cutoff_s", Integer, nullable=False),
    Column("slot_step_s", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
)

barbers = Table(
    "barbers",
    metadata,
    _id(),
    _tenant(),
    Column("shop_id", String(36), ForeignKey("shops.id"), nullable=False, index=True),
    Column("name", String(120), nullable=False),
    Column("bio", Text, nullable=False),
    Column("active", Boolean, nullable=False),
)

services = Table(
    "services",
    metadata,
    _id(),
    _tenant(),
    Column("shop_id", String(36), ForeignKey("shops.id"), nullable=False, index=True),
    Column("name", String(120), nullable=False),
    Column("description", Text, nullable=False),
    Column("duration_s", Integer, nullable=False),
    Column("buffer_s", Integer, nullable=False),
    Column("price", Numeric(12, 2), nullable=False),
    Column("active", Boolean, nullable=False),
)

working_hours = Table(
    "working_hours",
    metadata,
    _id(),
    _tenant(),
    Column("barber_id", String(36), ForeignKey("barbers.id"), nullable=False),
    Column("weekday", Integer, nullable=False),
    Column("intervals", JSON, nullable=False),  # [["09:00", "13:00"], ...] local time
    Column("breaks", JSON, nullable=False),
    UniqueConstraint("barber_id", "weekday"),
)

date_exceptions = Table(
    "date_exceptions",
    metadata,
    _id(),
    _tenant(),
    Column("shop_id", String(36), ForeignKey("shops.id"), nullable=False),
    Column("barber_id", String(36), ForeignKey("barbers.id"), nullable=True),
    Column("day", Date, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("intervals", JSON, nullable=False),
    Column("note", String(300), nullable=False),
    Index("ix_date_exceptions_shop_day", "shop_id", "day"),
)

customers = Table(
    "customers",
    metadata,
    _id(),
    _tenant(),
    Column("name", String(120), nullable=False),
    Column("phone", String(20), nullable=False),
    Column("email", String(254), nullable=False),
    Column("dni", String(8), nullable=True),
    UniqueConstraint("tenant_id", "phone"),
)

bookings = Table(
    "bookings",
    metadata,
    _id(),
    _tenant(),
    Column("shop_id", String(36), ForeignKey("shops.id"), nullable=False),
    Column("barber_id", String(36), ForeignKey("barbers.id"), nullable=False),
    Column("service_id", String(36), ForeignKey("services.id"), nullable=True),
    Column("customer_id", String(36), ForeignKey("customers.id"), nullable=True),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("blocks_until", UTCDateTime, nullable=False),
    Column("status", String(20), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("price", Numeric(12, 2), nullable=False),
    Column("notes", String(500), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_bookings_shop_start", "shop_id", "starts_at"),
    Index("ix_bookings_barber_start", "barber_id", "starts_at"),
    Index("ix_bookings_tenant_customer", "tenant_id", "customer_id"),  # migration 0005
)

reviews = Table(
    "reviews",
    metadata,
    _id(),
    _tenant(),
    Column("shop_id", String(36), ForeignKey("shops.id"), nullable=False),
    Column("booking_id", String(36), ForeignKey("bookings.id"), nullable=False, unique=True),
    Column("barber_id", String(36), ForeignKey("barbers.id"), nullable=False),
    Column("rating", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_reviews_shop_created", "shop_id", "created_at"),
)

privacy_consents = Table(  # migration 0006
    "privacy_consents",
    metadata,
    _id(),
    # No index of its own: ix_privacy_consents_tenant_customer starts with tenant_id.
    Column("tenant_id", String(36), ForeignKey("tenants.id"), nullable=False),
    Column("customer_id", String(36), ForeignKey("customers.id"), nullable=False),
    # One consent per booking: a replayed request cannot record a second one.
    Column("booking_id", String(36), ForeignKey("bookings.id"), nullable=False, unique=True),
    Column("notice_version", String(64), nullable=False),
    Column("granted_at", UTCDateTime, nullable=False),
    Column("channel", String(10), nullable=False),
    Index("ix_privacy_consents_tenant_customer", "tenant_id", "customer_id"),
)

staff_users = Table(
    "staff_users",
    metadata,
    _id(),
    _tenant(),
    Column("email", String(254), nullable=False),
    Column("name", String(120), nullable=False),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("barber_id", String(36), ForeignKey("barbers.id"), nullable=True),
    Column("failed_logins", Integer, nullable=False),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("active", Boolean, nullable=False),
    UniqueConstraint("tenant_id", "email"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    _id(),
    _tenant(),
    Column("user_id", String(36), ForeignKey("staff_users.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("kind", String(10), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("csrf_hash", String(64), nullable=True),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("tenant_id", String(36), ForeignKey("tenants.id"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("booking_id", String(36), ForeignKey("bookings.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    _tenant(),
    Column("actor", String(100), nullable=False),
    Column("action", String(60), nullable=False),
    Column("entity_type", String(40), nullable=False),
    Column("entity_id", String(36), nullable=False, index=True),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Column("request_id", String(64), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    # Migration 0007: filled by every insert through these defaults, so no writer can forget them.
    Column("leaf_version", SmallInteger, nullable=False, default=AUDIT_LEAF_VERSION, server_default=text("1")),
    Column("field_salt", String(32), nullable=True, default=new_audit_salt),
)

outbox = Table(
    "outbox",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    _tenant(),
    Column("name", String(60), nullable=False),
    Column("entity_id", String(36), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("data", JSON, nullable=False),
    Column("published_at", UTCDateTime, nullable=True, index=True),
)

TENANT_SCOPED_TABLES = (
    "tenant_domains",
    "shops",
    "barbers",
    "services",
    "working_hours",
    "date_exceptions",
    "customers",
    "bookings",
    "reviews",
    "staff_users",
    "api_tokens",
    "idempotency_keys",
    "audit_log",
    "outbox",
)


# --- Payments (MercadoPago) and electronic invoices (AFIP/ARCA): migration 0002_payments ---------

shop_payment_settings = Table(
    "shop_payment_settings",
    metadata,
    Column("shop_id", String(36), ForeignKey("shops.id"), primary_key=True),
    _tenant(),
    Column("mode", String(10), nullable=False),  # none | deposit | full
    Column("deposit_percent", Integer, nullable=False),
    Column("hold_minutes", Integer, nullable=False),
    Column("late_refund_percent", Integer, nullable=False),
)

payments = Table(
    "payments",
    metadata,
    _id(),
    _tenant(),
    Column("booking_id", String(36), ForeignKey("bookings.id"), nullable=False, index=True),
    Column("provider", String(20), nullable=False),
    Column("preference_id", String(64), nullable=True),
    Column("checkout_url", String(500), nullable=True),
    Column("provider_payment_id", String(64), nullable=True),
    Column("status", String(20), nullable=False),
    Column("amount", Numeric(12, 2), nullable=False),
    Column("paid_amount", Numeric(12, 2), nullable=False),
    Column("refunded_amount", Numeric(12, 2), nullable=False),
    Column("hold_until", UTCDateTime, nullable=False),
    Column("provider_updated_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    # Migration 0009: the shop's MercadoPago user id whose account took it; NULL, the platform's.
    Column("collector_id", String(40), nullable=True),
    # Migration 0010: where a chargeback stands (in_process, settled, reimbursed); NULL without one.
    Column("chargeback", String(20), nullable=True),
    UniqueConstraint("tenant_id", "provider_payment_id"),
)

refunds = Table(
    "refunds",
    metadata,
    _id(),
    _tenant(),
    Column("payment_id", String(36), ForeignKey("payments.id"), nullable=False, index=True),
    Column("idempotency_key", String(100), nullable=False),
    Column("amount", Numeric(12, 2), nullable=False),
    Column("status", String(20), nullable=False),  # requested | done
    Column("reason", String(200), nullable=False),
    Column("provider_refund_id", String(64), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant_id", "idempotency_key"),
)

webhook_receipts = Table(
    "webhook_receipts",
    metadata,
    Column("tenant_id", String(36), ForeignKey("tenants.id"), primary_key=True),
    Column("receipt_key", String(200), primary_key=True),
    Column("topic", String(40), nullable=False),
    Column("data_id", String(64), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
)

tax_profiles = Table(
    "tax_profiles",
    metadata,
    Column("tenant_id", String(36), ForeignKey("tenants.id"), primary_key=True),
    Column("cuit", String(11), nullable=False),
    Column("legal_name", String(200), nullable=False),
    Column("address", String(300), nullable=False),
    Column("iva_condition", String(30), nullable=False),  # monotributo | responsable_inscripto
    Column("point_of_sale", Integer, nullable=False),
    Column("environment", String(12), nullable=False),  # homologacion | produccion
    Column("gross_income_id", String(30), nullable=False),
    Column("activity_start", Date, nullable=False),
    Column("certificate_pem", Text, nullable=False),
    Column("key_path", String(500), nullable=False),
    # Migration 0012: when invoicing through the platform began (payments since are invoiced by the job).
    Column("invoicing_since", UTCDateTime, nullable=True),
)

invoices = Table(
    "invoices",
    metadata,
    _id(),
    _tenant(),
    Column("booking_id", String(36), ForeignKey("bookings.id"), nullable=False),
    Column("payment_id", String(36), ForeignKey("payments.id"), nullable=True),
    Column("cuit", String(11), nullable=False),
    Column("point_of_sale", Integer, nullable=False),
    Column("voucher_type", Integer, nullable=False),
    Column("number", Integer, nullable=True),
    Column("status", String(20), nullable=False),  # draft | sending | authorized | rejected
    Column("issue_date", Date, nullable=False),
    Column("service_from", Date, nullable=False),
    Column("service_to", Date, nullable=False),
    Column("doc_type", Integer, nullable=False),
    Column("doc_number", String(11), nullable=False),
    Column("receiver_iva_condition", Integer, nullable=False),
    Column("receiver_name", String(200), nullable=False),
    Column("description", String(300), nullable=False),
    Column("total", Numeric(12, 2), nullable=False),
    Column("net", Numeric(12, 2), nullable=False),
    Column("vat", Numeric(12, 2), nullable=False),
    Column("cae", String(14), nullable=True),
    Column("cae_due", Date, nullable=True),
    Column("observations", JSON, nullable=False),
    Column("errors", JSON, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Migration 0008: a credit note is a row of its own naming the invoice it corrects.
    Column("credits_invoice_id", String(36), ForeignKey("invoices.id"), nullable=True, index=True),
    UniqueConstraint("cuit", "point_of_sale", "voucher_type", "number"),
    # One invoice per booking; credit notes against it are not counted.
    Index(
        "uq_invoices_one_per_booking",
        "tenant_id",
        "booking_id",
        unique=True,
        sqlite_where=text("credits_invoice_id IS NULL"),
        postgresql_where=text("credits_invoice_id IS NULL"),
    ),
)

mercadopago_accounts = Table(  # migration 0009: a shop's own MercadoPago account
    "mercadopago_accounts",
    metadata,
    Column("tenant_id", String(36), ForeignKey("tenants.id"), primary_key=True),
    Column("user_id", String(40), nullable=False),
    # Sealed with BARBERPRO_SECRETS_KEY (adapters/security/secret_box.py), never in clear.
    Column("access_token_sealed", Text, nullable=False),
    Column("webhook_secret_sealed", Text, nullable=False),
    Column("live_mode", Boolean, nullable=False),
    Column("connected_at", UTCDateTime, nullable=False),
    # Migration 0011: connected by OAuth ("oauth": refresh token sealed, access token expiry) or
    # with the shop's own application's credentials ("credentials").
    Column("via", String(20), nullable=False, server_default="credentials"),
    Column("refresh_token_sealed", Text, nullable=True),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("renewal_refused_at", UTCDateTime, nullable=True),
)

invoice_counters = Table(
    "invoice_counters",
    metadata,
    Column("tenant_id", String(36), ForeignKey("tenants.id"), primary_key=True),
    Column("point_of_sale", Integer, primary_key=True),
    Column("voucher_type", Integer, primary_key=True),
    Column("last_number", Integer, nullable=False),
)

wsaa_tickets = Table(
    "wsaa_tickets",
    metadata,
    Column("tenant_id", String(36), ForeignKey("tenants.id"), primary_key=True),
    Column("cuit", String(11), primary_key=True),
    Column("environment", String(12), primary_key=True),
    Column("service", String(30), primary_key=True),
    Column("token", Text, nullable=False),
    Column("sign", Text, nullable=False),
    Column("generated_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

PAYMENT_TABLES = (
    "shop_payment_settings",
    "payments",
    "refunds",
    "webhook_receipts",
    "tax_profiles",
    "invoices",
    "invoice_counters",
    "wsaa_tickets",
)

# --- API gateway: security events (migration 0004_security_events) ---------------------
# Written through the platform path (cross-tenant, like the outbox relay); tenant_id is
# empty for requests that named no tenant. Repeated events are aggregated per minute.
security_events = Table(
    "security_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("tenant_id", String(36), nullable=False, index=True),
    Column("kind", String(40), nullable=False),
    Column("subject", String(80), nullable=False),
    Column("count", Integer, nullable=False),
    Column("detail", JSON, nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False, index=True),
)
