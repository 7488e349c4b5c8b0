"""Money in Argentine pesos: `Decimal` with two places, never float."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from barberpro.domain.errors import InvalidValue

CURRENCY = "ARS"
_CENT = Decimal("0.01")


def ars(value: Decimal | int | str) -> Decimal:
    """Parse an amount in ARS: finite, non-negative, rounded to the cent (banker's rounding)."""
    if isinstance(value, float):
        raise InvalidValue("amounts must not be floats", field="price")
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError) as exc:
        raise InvalidValue(f"not an amount: {value!r}", field="price") from exc
    if not amount.is_finite() or amount < 0:
        raise InvalidValue("amount must be a finite, non-negative number", field="price")
    return amount.quantize(_CENT, rounding=ROUND_HALF_EVEN)


def format_ars(amount: Decimal) -> str:
    """Format as shown to customers in es-AR: `$ 12.345,50`."""
    quantized = amount.quantize(_CENT, rounding=ROUND_HALF_EVEN)
    sign = "-" if quantized < 0 else ""
    whole, _, cents = f"{abs(quantized):.2f}".partition(".")
    groups = []
    while whole:
        groups.append(whole[-3:])
        whole = whole[:-3]
    return f"{sign}$ {'.'.join(reversed(groups))},{cents}"
