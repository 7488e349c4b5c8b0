"""Verifying a WSAA login request the way WSAA does: CMS signature, signer chain, embedded TRA."""

from __future__ import annotations

import hashlib
from datetime import datetime

from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


class CmsRejected(Exception):
    pass


def verified_content(der: bytes, trusted: x509.Certificate, now: datetime) -> tuple[bytes, x509.Certificate]:
    """The signed TRA and the signer's certificate, or CmsRejected with the reason."""
    try:
        info = cms.ContentInfo.load(der)
        if info["content_type"].native != "signed_data":
            raise CmsRejected("not a CMS SignedData")
        signed = info["content"]
        content = signed["encap_content_info"]["content"].native
        signer = signed["signer_infos"][0]
        certificate = x509.load_der_x509_certificate(signed["certificates"][0].chosen.dump())
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise CmsRejected(f"malformed CMS: {error}") from error
    if not content:
        raise CmsRejected("the TRA is not embedded in the CMS")
    try:
        certificate.verify_directly_issued_by(trusted)
    except (ValueError, TypeError, InvalidSignature) as error:
        raise CmsRejected("certificate not issued by the trusted authority") from error
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise CmsRejected("certificate expired or not yet valid")
    if signer["digest_algorithm"]["algorithm"].native != "sha256":
        raise CmsRejected("digest must be SHA-256")
    attributes = signer["signed_attrs"]
    if not attributes:
        raise CmsRejected("signed attributes are required")
    digest = next((a["values"][0].native for a in attributes if a["type"].native == "message_digest"), None)
    if digest != hashlib.sha256(content).digest():
        raise CmsRejected("message digest does not match the content")
    # The signature covers the DER of the attributes as a SET OF (tag 0x31), not as [0].
    signed_bytes = b"\x31" + attributes.dump()[1:]
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise CmsRejected("only RSA signers are supported")
    try:
        public_key.verify(signer["signature"].native, signed_bytes, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as error:
        raise CmsRejected("signature does not verify") from error
    return content, certificate
