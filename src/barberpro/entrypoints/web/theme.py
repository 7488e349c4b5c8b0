"""White-label theme: a tenant's colours as CSS custom properties, checked against WCAG 2.x contrast."""

from __future__ import annotations

from collections.abc import Mapping

from barberpro.domain.tenancy import DEFAULT_THEME

AA_NORMAL_TEXT = 4.5
_BLACK = "#000000"
_WHITE = "#ffffff"


def _channel(value: int) -> float:
    srgb = value / 255
    return srgb / 12.92 if srgb <= 0.04045 else ((srgb + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """WCAG relative luminance of a `#rrggbb` colour."""
    text = colour.lstrip("#")
    red, green, blue = (int(text[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(red) + 0.7152 * _channel(green) + 0.0722 * _channel(blue)


def contrast_ratio(first: str, second: str) -> float:
    """(L1 + 0.05) / (L2 + 0.05) with L1 the lighter colour: 1.0 to 21.0."""
    a, b = relative_luminance(first), relative_luminance(second)
    lighter, darker = max(a, b), min(a, b)
    return (lighter + 0.05) / (darker + 0.05)


def readable_on(background: str) -> str:
    """Black or white, whichever reads better on `background` (button labels on the brand colour)."""
    return _WHITE if contrast_ratio(_WHITE, background) >= contrast_ratio(_BLACK, background) else _BLACK


def contrast_problems(theme: Mapping[str, str]) -> list[str]:
    """Spanish descriptions of the colour pairs a page would draw below WCAG AA (4.5:1)."""
    merged = {**DEFAULT_THEME, **theme}
    pairs = [
        ("text", "background", "el texto sobre el fondo"),
        ("primary", "background", "los enlaces (color principal) sobre el fondo"),
    ]
    problems = []
    for fore, back, label in pairs:
        ratio = contrast_ratio(merged[fore], merged[back])
        if ratio < AA_NORMAL_TEXT:
            problems.append(f"El contraste de {label} es {ratio:.1f}:1; hace falta al menos 4,5:1.")
    return problems


def css_variables(theme: Mapping[str, str]) -> str:
    """The `:root` rule every page carries: the brand is data, the stylesheet is shared."""
    merged = {**DEFAULT_THEME, **theme}
    values = {
        "--bp-primary": merged["primary"],
        "--bp-on-primary": readable_on(merged["primary"]),
        "--bp-accent": merged["accent"],
        "--bp-bg": merged["background"],
        "--bp-text": merged["text"],
    }
    return ":root{" + ";".join(f"{k}:{v}" for k, v in values.items()) + "}"
