"""The `afip` commands: key and CSR onboarding, the fake AFIP's CA certifying that CSR."""

from __future__ import annotations

from pathlib import Path

import typer
from cryptography import x509
from typer.testing import CliRunner

from barberpro.adapters.invoicing.certificates import cuit_of
from barberpro.entrypoints.cli import payments


def cli() -> typer.Typer:
    app = typer.Typer()
    payments.register(app)
    return app


def test_keygen_then_fake_ca_certifies_the_csr(tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(
        cli(), ["afip", "keygen", "--cuit", "20-12345678-6", "--organization", "Alpha SRL", "--out", str(tmp_path)]
    )
    assert made.exit_code == 0, made.output
    key, csr = tmp_path / "20123456786.key", tmp_path / "20123456786.csr"
    assert key.stat().st_mode & 0o777 == 0o600
    again = runner.invoke(
        cli(), ["afip", "keygen", "--cuit", "20123456786", "--organization", "X", "--out", str(tmp_path)]
    )
    assert again.exit_code != 0  # never overwrite a key
    signed = runner.invoke(cli(), ["afip", "fake-ca", "--directory", str(tmp_path / "ca"), "--sign-csr", str(csr)])
    assert signed.exit_code == 0, signed.output
    certificate = x509.load_pem_x509_certificate(csr.with_suffix(".crt").read_bytes())
    assert cuit_of(certificate) == "20123456786"
    ca = x509.load_pem_x509_certificate((tmp_path / "ca" / "ca.crt").read_bytes())
    certificate.verify_directly_issued_by(ca)


def test_bad_cuit_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli(), ["afip", "keygen", "--cuit", "20123456780", "--organization", "X", "--out", str(tmp_path)]
    )
    assert result.exit_code != 0 and not list(tmp_path.iterdir())
