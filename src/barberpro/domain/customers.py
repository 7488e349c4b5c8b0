"""Customers and their contact data, normalised for Argentina."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from barberpro.domain.errors import InvalidValue
from barberpro.domain.tenancy import validate_name

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DNI = re.compile(r"^\d{7,8}$")


def normalise_phone(raw: str, region: str = "AR") -> str:
    """E.164, keeping the 9 of Argentine mobiles (+54 9 11 ...).

    Local habits are accepted: `011 15-1234-5678` (area code with 0, mobile prefix 15)
    becomes `+5491112345678`.
    """
    text = raw.strip()
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidValue("not a phone number", field="customer.phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidValue("not a valid phone number", field="customer.phone")
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if (
        number.country_code == 54
        and phonenumbers.number_type(number)
        in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )
        and not formatted.startswith("+549")
    ):
        # libphonenumber drops the 9 for some inputs with "15"; mobiles are dialled with it.
        candidate = "+549" + formatted[3:]
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
                formatted = candidate
        except phonenumbers.NumberParseException:
            pass
    return formatted


def normalise_email(raw: str) -> str:
    email = raw.strip()
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidValue("not a valid e-mail address", field="customer.email")
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def normalise_dni(raw: str) -> str:
    digits = raw.replace(".", "").replace(" ", "")
    if not _DNI.match(digits):
        raise InvalidValue("DNI must have 7 or 8 digits", field="customer.dni")
    return digits


@dataclass(frozen=True)
class Customer:
    id: str
    tenant_id: str
    name: str
    phone: str
    email: str
    dni: str | None = None

    @classmethod
    def create(cls, *, id: str, tenant_id: str, name: str, phone: str, email: str, dni: str | None = None) -> Customer:
        return cls(
            id=id,
            tenant_id=tenant_id,
            name=validate_name(name, "customer.name"),
            phone=normalise_phone(phone),
            email=normalise_email(email),
            dni=normalise_dni(dni) if dni else None,
        )
