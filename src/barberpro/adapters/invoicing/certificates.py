"""Certificate onboarding: a key and CSR for a taxpayer's CUIT, and a test CA for the fake AFIP.

AFIP's certificate request wants the subject `C=AR, O=<name>, CN=<alias>, serialNumber=CUIT <cuit>`;
the CSR is uploaded in AFIP's "Administración de Certificados Digitales" and the
certificate it returns goes into the tenant's tax profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def new_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def certificate_request(key: rsa.RSAPrivateKey, *, cuit: str, organization: str, alias: str) -> bytes:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "AR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, alias),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, f"CUIT {cuit}"),
        ]
    )
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM)


def cuit_of(certificate: x509.Certificate) -> str | None:
    for attribute in certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER):
        value = str(attribute.value)
        if value.startswith("CUIT "):
            return value[5:].strip()
    return None


@dataclass(frozen=True)
class DevAuthority:
    """A certificate authority for development and tests (the fake AFIP trusts only it)."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @classmethod
    def create(cls, now: datetime, name: str = "BarberPro test AFIP CA") -> DevAuthority:
        key = new_key()
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256())
        )
        return cls(key, certificate)

    @classmethod
    def load(cls, key_data: bytes, certificate_data: bytes) -> DevAuthority:
        key = serialization.load_pem_private_key(key_data, password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return cls(key, x509.load_pem_x509_certificate(certificate_data))

    def issue(self, csr_pem: bytes, now: datetime, days: int = 730) -> bytes:
        csr = x509.load_pem_x509_csr(csr_pem)
        if not csr.is_signature_valid:
            raise ValueError("the certificate request's signature is not valid")
        certificate = (
            x509.CertificateBuilder()
            .subject_name(csr.subject)
            .issuer_name(self.certificate.subject)
            .public_key(csr.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=days))
            .sign(self.key, hashes.SHA256())
        )
        return certificate.public_bytes(serialization.Encoding.PEM)

    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)
