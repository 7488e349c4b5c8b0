"""Spanish (es-AR) copy: dates in the shop's zone, and domain errors told to a person."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from barberpro.domain import errors

WEEKDAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
MONTHS = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio",
    "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
)  # fmt: skip
STATUS = {
    "pending_payment": "Pendiente de pago",
    "confirmed": "Confirmado",
    "completed": "Completado",
    "no_show": "No vino",
    "cancelled": "Cancelado",
}
KIND = {"appointment": "Turno", "walk_in": "Sin turno", "block": "Bloqueo"}
ROLES = {"owner": "Dueño/a", "manager": "Encargado/a", "barber": "Barbero/a"}
EXCEPTION_KINDS = {"day_off": "Franco", "holiday": "Feriado / cerrado", "special_hours": "Horario especial"}

STAFF_SLOT_TAKEN = "Ese horario está ocupado o fuera del horario de trabajo de ese barbero/a."
FIELD_MESSAGES = {
    "customer.phone": "Revisá el teléfono: por ejemplo +54 9 11 2345-6789 o 011 15 2345-6789.",
    "customer.email": "Revisá el e-mail: por ejemplo nombre@correo.com.",
    "customer.name": "Escribí tu nombre.",
    "customer.dni": "El DNI tiene 7 u 8 dígitos.",
    "rating": "Elegí una puntuación de 1 a 5.",
    "password": "La contraseña debe tener al menos 10 caracteres.",
    "email": "Revisá el e-mail.",
}


def day_label(day: date) -> str:
    """`lunes 2 de marzo`."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} de {MONTHS[day.month - 1]}"


def short_day_label(day: date) -> str:
    """`lun 2/3`, for day buttons on a phone."""
    return f"{WEEKDAYS[day.weekday()][:3]} {day.day}/{day.month}"


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


def local_when(moment: datetime, zone: ZoneInfo) -> str:
    """`lunes 2 de marzo, 10:30` in the shop's zone."""
    local = moment.astimezone(zone)
    return f"{day_label(local.date())}, {local.strftime('%H:%M')}"


def _minutes_in(detail: str) -> str:
    found = re.search(r"(\d+)", detail)
    return found.group(1) if found else "unos"


def error_message(exc: errors.DomainError) -> str:
    """What a customer or staff member reads; the domain's English detail stays in logs and the API."""
    if exc.field in FIELD_MESSAGES and isinstance(exc, errors.InvalidValue):
        return FIELD_MESSAGES[exc.field]
    if isinstance(exc, errors.SlotUnavailable):
        if "notice" in exc.detail:
            return f"Ese horario ya no se puede reservar: hace falta {_minutes_in(exc.detail)} minutos de anticipación."
        if "ahead" in exc.detail:
            return f"Solo se puede reservar hasta {_minutes_in(exc.detail)} días antes."
        return "Ese horario se acaba de ocupar. Elegí otro de los horarios libres de abajo."
    if isinstance(exc, errors.AccountLocked):
        return (
            "Demasiados intentos fallidos: la cuenta quedó bloqueada por seguridad. "
            f"Probá de nuevo en {_minutes_in(exc.detail)} minutos."
        )
    if isinstance(exc, errors.Unauthenticated):
        return "E-mail o contraseña incorrectos."
    if isinstance(exc, errors.PolicyViolation):
        if "hours before" in exc.detail or "h before" in exc.detail:
            return (
                "Los cambios y cancelaciones se aceptan hasta "
                f"{_minutes_in(exc.detail)} h antes del turno. Por favor, llamá al local."
            )
        if "already has a review" in exc.detail:
            return "Esta visita ya tiene una reseña. ¡Gracias!"
        if "not started" in exc.detail:
            return "El turno todavía no empezó."
        if "last active owner" in exc.detail:
            return "Tiene que quedar al menos un dueño/a activo: no se puede cambiar su rol ni darlo de baja."
        return "La política del local no permite este cambio ahora."
    if isinstance(exc, errors.InvalidTransition):
        return "El turno ya no admite este cambio (fue cancelado, completado o marcado como ausente)."
    if isinstance(exc, errors.PermissionDenied):
        return "No tenés permiso para hacer esto."
    if isinstance(exc, errors.NotFound):
        return "No encontramos lo que buscabas. Revisá el enlace."
    return "Revisá los datos: " + exc.detail
