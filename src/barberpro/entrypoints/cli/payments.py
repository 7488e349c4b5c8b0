"""`barberpro payments ...` (reconciliation, shop settings, pending invoices) and `barberpro afip ...`
(certificate onboarding, tax profile, the fake AFIP for development, a WSFEv1 health check).

Register with `payments.register(app)` in cli/main.py. Heavy imports stay inside the commands.
"""

from __future__ import annotations

import functools
import json
import logging
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

payments_app = typer.Typer(help="MercadoPago payments: reconciliation, shop settings, invoices.", no_args_is_help=True)
log = logging.getLogger(__name__)
afip_app = typer.Typer(
    help="AFIP/ARCA electronic invoicing: certificates, tax profile, fake AFIP.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(payments_app, name="payments")
    app.add_typer(afip_app, name="afip")


def _platform() -> Any:
    from barberpro.bootstrap import build
    from barberpro.config import Settings

    return build(Settings())


def _tenant_id(platform: Any, slug: str) -> str:
    tenant = platform.directory.tenant_by_slug(slug)
    if tenant is None:
        raise typer.BadParameter(f"no tenant with slug {slug!r}", param_hint="--tenant")
    return str(tenant.id)


def _system(platform: Any, tenant_id: str) -> Any:
    from barberpro.application.context import Context
    from barberpro.domain.booking import SYSTEM

    return Context(tenant_id, SYSTEM, "cli", platform.clock.now())


def _services(platform: Any) -> Any:
    from barberpro.adapters.payments.services import PaymentServices

    return PaymentServices(platform.database, platform.settings.var_dir, platform.clock.now)


def _renew_authorisation(services: Any, ctx: Any) -> str:
    """Refresh the shop's OAuth access token when it expires within 30 days: "renewed", "not due",
    "refused" (the owner must connect again; the page says so) or "unreachable" (next run)."""
    from barberpro.application import mercadopago_accounts
    from barberpro.application.payment_ports import GatewayUnauthorized, GatewayUnavailable

    if services.authorization is None:
        return "not due"
    try:
        renewed = mercadopago_accounts.refresh_authorized_account(services.uows, ctx, services.authorization)
    except GatewayUnauthorized:
        return "refused"
    except GatewayUnavailable:
        return "unreachable"
    return "renewed" if renewed else "not due"


def reconcile_tenant(services: Any, ctx: Any, older_than: timedelta) -> dict[str, Any]:
    """One tenant's pass of `payments reconcile` (its summary)."""
    from barberpro.application import invoicing, payment_notifications
    from barberpro.application.payment_ports import TaxAuthorityUnreachable

    authorisation = _renew_authorisation(services, ctx)
    report, applied = payment_notifications.reconcile(
        services.uows, ctx, functools.partial(services.gateway_for_payment, ctx.tenant_id), older_than=older_than
    )
    afip_unreachable = False
    for result in applied:
        if result.booking_id:
            gateway = services.gateway_for_booking(ctx.tenant_id, result.booking_id)
            payment_notifications.settle_refund(services.uows, ctx, gateway, result)
            # Confirmed now: invoiced as the webhook does. Otherwise money moved: a note, or the
            # invoice a chargeback won back before invoicing calls for.
            bill = invoicing.invoice_booking if result.outcome == "confirmed" else invoicing.invoice_or_correct
            try:
                bill(services.uows, ctx, services.tax_authority, services.lock, result.booking_id)
            except TaxAuthorityUnreachable:  # drafted; the sweep of a later run sends it
                afip_unreachable = True
    vouchers = (
        invoicing.VoucherSweep([], [], [], [], afip_unreachable=True)
        if afip_unreachable
        else invoicing.sweep_vouchers(services.uows, ctx, services.tax_authority, services.lock)
    )
    return {
        "checked": report.checked,
        "applied": report.applied,
        "expired": report.expired,
        "vouchers_retried": len(vouchers.retried),
        "invoices_issued_late": len(vouchers.invoiced),
        "credit_and_debit_notes_issued": len(vouchers.corrected),
        "bookings_to_invoice_by_staff": vouchers.needs_staff,
        "afip": "unreachable" if vouchers.afip_unreachable else "ok",
        "mercadopago_authorisation": authorisation,
    }


def reconcile_tenants(services: Any, contexts: dict[str, Any], older_than: timedelta) -> dict[str, Any]:
    """Each tenant in turn; one that fails (a broken certificate, a bug) is reported with its error
    and the others still run."""
    from rich.progress import Progress

    summary: dict[str, Any] = {}
    with Progress(transient=True) as progress:
        task = progress.add_task("reconciling", total=len(contexts))
        for slug, ctx in contexts.items():
            try:
                summary[slug] = reconcile_tenant(services, ctx, older_than)
            except Exception as error:
                log.exception("reconciliation failed", extra={"tenant": slug})
                summary[slug] = {"error": f"{type(error).__name__}: {error}"}
            progress.advance(task)
    return summary


@payments_app.command("reconcile")
def reconcile(
    tenant: Annotated[list[str] | None, typer.Option(help="Tenant slug (repeat); default: every tenant")] = None,
    older_than_minutes: Annotated[int, typer.Option(help="Ask MercadoPago about checkouts older than this")] = 10,
) -> None:
    """Apply payments whose notification never came, release unpaid expired holds, retry invoices,
    invoice payments left without one, issue missing credit and debit notes, renew MercadoPago
    authorisations that expire within 30 days. Exits 1 when a tenant failed (the others ran)."""
    platform = _platform()
    services = _services(platform)
    contexts = {
        t.slug: _system(platform, t.id) for t in platform.directory.list_tenants() if not tenant or t.slug in tenant
    }
    summary = reconcile_tenants(services, contexts, timedelta(minutes=older_than_minutes))
    platform.close()
    typer.echo(json.dumps(summary, indent=2))
    if any("error" in item for item in summary.values()):
        raise typer.Exit(1)


@payments_app.command("settings")
def shop_settings(
    tenant: Annotated[str, typer.Option(help="Tenant slug")],
    shop_id: Annotated[str, typer.Option(help="Shop id")],
    mode: Annotated[str, typer.Option(help="none | deposit | full")] = "full",
    deposit_percent: int = 30,
    hold_minutes: int = 15,
    late_refund_percent: int = 0,
) -> None:
    """Set a shop's prepayment: a deposit or full payment, how long an unpaid booking holds its slot."""
    from barberpro.application.payment_ports import PaymentMode, ShopPaymentSettings
    from barberpro.application.payments import configure_shop_payments

    platform = _platform()
    tenant_id = _tenant_id(platform, tenant)
    settings = ShopPaymentSettings(shop_id, PaymentMode(mode), deposit_percent, hold_minutes, late_refund_percent)
    configure_shop_payments(_services(platform).uows(tenant_id), _system(platform, tenant_id), settings)
    platform.close()
    typer.echo(f"shop {shop_id}: {mode}, hold {hold_minutes} min")


@payments_app.command("secrets-key")
def secrets_key() -> None:
    """Print a new BARBERPRO_SECRETS_KEY (seals shops' own MercadoPago credentials; keep it out of backups)."""
    from barberpro.adapters.security.secret_box import new_secrets_key

    typer.echo(new_secrets_key())


@afip_app.command("keygen")
def keygen(
    cuit: Annotated[str, typer.Option(help="The taxpayer's CUIT (11 digits)")],
    organization: Annotated[str, typer.Option(help="Legal name, as registered at AFIP")],
    alias: Annotated[str, typer.Option(help="Certificate alias (CN)")] = "barberpro",
    out: Annotated[Path, typer.Option(help="Directory for the key and CSR")] = Path("var/afip"),
) -> None:
    """Generate the RSA key and the CSR to upload in AFIP's "Administración de Certificados Digitales"."""
    from barberpro.adapters.invoicing.certificates import certificate_request, key_pem, new_key
    from barberpro.application.invoicing import valid_cuit

    number = valid_cuit(cuit)
    out.mkdir(parents=True, exist_ok=True)
    key_path, csr_path = out / f"{number}.key", out / f"{number}.csr"
    if key_path.exists():
        raise typer.BadParameter(f"{key_path} exists; refusing to replace a key", param_hint="--out")
    key = new_key()
    key_path.write_bytes(key_pem(key))
    key_path.chmod(0o600)
    csr_path.write_bytes(certificate_request(key, cuit=number, organization=organization, alias=alias))
    typer.echo(f"key: {key_path} (keep it secret)\nCSR: {csr_path} (upload it to AFIP, then run `afip profile`)")


@afip_app.command("profile")
def profile(
    tenant: Annotated[str, typer.Option(help="Tenant slug")],
    cuit: Annotated[str, typer.Option()],
    legal_name: Annotated[str, typer.Option()],
    address: Annotated[str, typer.Option()],
    certificate: Annotated[Path, typer.Option(help="PEM certificate AFIP issued for the CSR")],
    key: Annotated[Path, typer.Option(help="The key from `afip keygen`")],
    iva_condition: Annotated[str, typer.Option(help="monotributo | responsable_inscripto")] = "monotributo",
    point_of_sale: Annotated[int, typer.Option(help="Web-service point of sale enabled at AFIP")] = 1,
    environment: Annotated[str, typer.Option(help="homologacion | produccion")] = "homologacion",
    gross_income_id: Annotated[str, typer.Option(help="Ingresos Brutos")] = "",
    activity_start: Annotated[str, typer.Option(help="Inicio de actividades, YYYY-MM-DD")] = "2020-01-01",
) -> None:
    """Store the tenant's tax profile (CUIT, IVA condition, point of sale, certificate)."""
    from barberpro.application.invoicing import configure_tax_profile
    from barberpro.application.payment_ports import IvaCondition, TaxProfile

    platform = _platform()
    tenant_id = _tenant_id(platform, tenant)
    stored = configure_tax_profile(
        _services(platform).uows(tenant_id),
        _system(platform, tenant_id),
        TaxProfile(
            tenant_id,
            cuit,
            legal_name,
            address,
            IvaCondition(iva_condition),
            point_of_sale,
            environment,
            gross_income_id or cuit,
            date.fromisoformat(activity_start),
            certificate.read_text(),
            str(key.resolve()),
        ),
    )
    platform.close()
    typer.echo(f"tax profile for {tenant}: CUIT {stored.cuit}, point of sale {point_of_sale}, {environment}")


@afip_app.command("dummy")
def dummy(tenant: Annotated[str, typer.Option(help="Tenant slug")]) -> None:
    """FEDummy and FECompUltimoAutorizado against the tenant's AFIP environment (or the fake)."""
    platform = _platform()
    tenant_id = _tenant_id(platform, tenant)
    services = _services(platform)
    with services.uows(tenant_id, write=False) as uow:
        stored = uow.tax_profiles.get()
    if stored is None:
        raise typer.BadParameter("this tenant has no tax profile; run `barberpro afip profile`")
    client = services.tax_authority(stored)
    status = client.dummy()
    last = {kind: client.last_authorized(stored.point_of_sale, kind) for kind in (1, 6, 11)}
    platform.close()
    typer.echo(json.dumps({"servers": status, "last_authorized": last}, indent=2))


@afip_app.command("fake-ca")
def fake_ca(
    directory: Annotated[Path, typer.Option(help="Where the fake AFIP keeps its CA")] = Path("var/fake_afip"),
    sign_csr: Annotated[Path | None, typer.Option(help="A CSR from `afip keygen` to certify")] = None,
) -> None:
    """Create the fake AFIP's certificate authority and, optionally, certify a CSR with it."""
    from datetime import UTC, datetime

    authority = _authority(directory)
    if sign_csr is not None:
        certificate = sign_csr.with_suffix(".crt")
        certificate.write_bytes(authority.issue(sign_csr.read_bytes(), datetime.now(UTC)))
        typer.echo(f"certificate: {certificate}")
    typer.echo(f"CA: {directory / 'ca.crt'}")


def _authority(directory: Path) -> Any:
    from datetime import UTC, datetime

    from barberpro.adapters.invoicing.certificates import DevAuthority, key_pem

    key_file, cert_file = directory / "ca.key", directory / "ca.crt"
    if key_file.exists() and cert_file.exists():
        return DevAuthority.load(key_file.read_bytes(), cert_file.read_bytes())
    directory.mkdir(parents=True, exist_ok=True)
    authority = DevAuthority.create(datetime.now(UTC))
    key_file.write_bytes(key_pem(authority.key))
    key_file.chmod(0o600)
    cert_file.write_bytes(authority.certificate_pem())
    return authority


@afip_app.command("fake-server")
def fake_server(
    host: str = "127.0.0.1",
    port: int = 8090,
    directory: Annotated[Path, typer.Option(help="The fake AFIP's CA directory")] = Path("var/fake_afip"),
) -> None:
    """Serve a fake AFIP (WSAA + WSFEv1) for development. Point BarberPro at it with
    BARBERPRO_AFIP_WSAA_URL=http://HOST:PORT/ws/services/LoginCms and
    BARBERPRO_AFIP_WSFE_URL=http://HOST:PORT/wsfev1/service.asmx."""
    import uvicorn

    from barberpro.adapters.invoicing.fake_afip.asgi import create_app
    from barberpro.adapters.invoicing.fake_afip.service import FakeAfip

    authority = _authority(directory)
    typer.echo(f"fake AFIP on http://{host}:{port} (trusts {directory / 'ca.crt'})")
    uvicorn.run(create_app(FakeAfip(authority.certificate)), host=host, port=port, log_level="warning")
