"""`barberpro audit ...`: signed tree heads, verification, proofs, export and redaction.

Configuration (environment): BARBERPRO_AUDIT_SIGNING_KEY (base64 Ed25519 seed, for
publishing), BARBERPRO_AUDIT_PUBLIC_KEY (base64, for verifying; derived from the signing
key when absent), BARBERPRO_AUDIT_DIR (where heads and the leaf log are published,
default ./var/audit: put it on storage the database's operators cannot rewrite).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic_settings import BaseSettings, SettingsConfigDict

app = typer.Typer(help="Tamper-evident audit trail (RFC 9162 Merkle log, Ed25519 heads).", no_args_is_help=True)


class AuditSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BARBERPRO_AUDIT_", extra="ignore")

    signing_key: str | None = None
    public_key: str | None = None
    dir: str = "./var/audit"


def _open() -> tuple[Any, Any, AuditSettings]:
    from barberpro.adapters.db.engine import open_database
    from barberpro.config import Settings
    from barberpro.ops.audit.heads import HeadStore

    settings = AuditSettings()
    return open_database(Settings().database_url), HeadStore(Path(settings.dir)), settings


@app.command()
def keygen() -> None:
    """Print a new signing key and its public key (store the private one as a secret)."""
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    from barberpro.ops.audit.heads import public_key_text

    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    typer.echo(f"BARBERPRO_AUDIT_SIGNING_KEY={base64.b64encode(seed).decode()}")
    typer.echo(f"BARBERPRO_AUDIT_PUBLIC_KEY={public_key_text(key)}")


@app.command()
def publish(
    every: Annotated[float, typer.Option(help="Seconds between heads; 0 publishes once")] = 0.0,
    count: Annotated[int, typer.Option(help="Stop after this many heads (0: run until stopped)")] = 0,
) -> None:
    """Append new audit entries to the tree and publish a signed tree head."""
    from barberpro.ops.audit import trail
    from barberpro.ops.audit.heads import load_private_key

    database, store, settings = _open()
    if not settings.signing_key:
        raise typer.BadParameter("set BARBERPRO_AUDIT_SIGNING_KEY (see `barberpro audit keygen`)")
    key = load_private_key(settings.signing_key)
    published = 0
    try:
        while True:
            signed = trail.publish(database, store, key)
            typer.echo(
                json.dumps(
                    {
                        "tree_size": signed.head.tree_size,
                        "root_hash": signed.head.root_hash,
                        "timestamp": signed.head.timestamp,
                    }
                )
            )
            published += 1
            if every <= 0 or (count and published >= count):
                break
            time.sleep(every)
    finally:
        database.dispose()


def _public_key(settings: AuditSettings) -> Any:
    from barberpro.ops.audit.heads import load_private_key, load_public_key

    if settings.public_key:
        return load_public_key(settings.public_key)
    if settings.signing_key:
        return load_private_key(settings.signing_key).public_key()
    raise typer.BadParameter("set BARBERPRO_AUDIT_PUBLIC_KEY (or the signing key)")


@app.command()
def verify() -> None:
    """Recompute the tree; check signatures, heads and consistency; name the first bad entry."""
    from barberpro.ops.audit import trail

    database, store, settings = _open()
    try:
        report = trail.verify(database, store, _public_key(settings))
    finally:
        database.dispose()
    typer.echo(json.dumps(report.as_dict(), indent=1, ensure_ascii=False))
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def prove(entry_id: str) -> None:
    """Print an inclusion proof of one entry in the latest signed head."""
    from barberpro.ops.audit import trail

    database, store, _ = _open()
    try:
        typer.echo(json.dumps(trail.inclusion(database, store, entry_id), indent=1))
    finally:
        database.dispose()


@app.command()
def export(
    tenant: Annotated[str, typer.Option(help="Tenant slug")],
    fmt: Annotated[str, typer.Option("--format", help="json or csv")] = "json",
    output: Annotated[Path | None, typer.Option(help="File to write (default: standard output)")] = None,
) -> None:
    """Export one tenant's trail (for AFIP or a customer's request)."""
    from barberpro.adapters.db.directory import SqlPlatformDirectory
    from barberpro.ops.audit import trail

    database, _, _ = _open()
    try:
        found = SqlPlatformDirectory(database).tenant_by_slug(tenant)
        if found is None:
            raise typer.BadParameter(f"no tenant {tenant!r}")
        text = trail.export(database, found.id, fmt)
    finally:
        database.dispose()
    if output:
        output.write_text(text)
    else:
        typer.echo(text)


@app.command()
def redact(
    older_than_days: Annotated[int | None, typer.Option(help="Retention: redact entries older than this")] = None,
    entity: Annotated[str | None, typer.Option(help="Redact every entry about this entity id")] = None,
) -> None:
    """Replace personal data by its hash (Ley 25.326); verification keeps passing."""
    from barberpro.ops.audit import trail

    cutoff = datetime.now(UTC) - timedelta(days=older_than_days) if older_than_days is not None else None
    database, _, _ = _open()
    try:
        changed = trail.redact(database, before=cutoff, entity_id=entity)
    finally:
        database.dispose()
    typer.echo(json.dumps({"redacted_entries": changed}))
