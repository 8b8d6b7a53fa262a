"""The MSP's own look in the report: logo, accent colour and a contact line ([report] in integoreport.toml).

`logo_url` (an https image) shows in the header with the MSP's name as its alt text; without it the
header is text only. `accent_color` (#RRGGBB, validated by utils.core.settings) colours the header and
the bars; the header's text turns dark on a light accent so it keeps a 4.5:1 contrast. `contact`
is one line in the footer. Without any of them the report keeps its stock look.
"""

from __future__ import annotations

import re
from typing import Any

DEFAULT_HEADER = "#243b53"
DEFAULT_BAR = "#2b6cb0"
SLA_COLOUR = "#b7791f"  # the trend's on-time line: apart from the new (accent) and resolved (teal) bars
LIGHT_TEXT = ("#ffffff", "#d9e2ec")  # heading, then the quieter lines, on a dark header
DARK_TEXT = ("#102a43", "#243b53")  # the same on a light header
MIN_CONTRAST = 4.5

_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def luminance(colour: str) -> float:
    """Relative luminance of #RRGGBB (WCAG 2)."""
    channels = []
    for i in (1, 3, 5):
        c = int(colour[i:i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def header_text(background: str) -> tuple[str, str]:
    """The heading and quieter text colours that read on `background` (light text when it can, else dark)."""
    heading, quiet = LIGHT_TEXT
    if contrast(heading, background) >= MIN_CONTRAST:
        return heading, quiet if contrast(quiet, background) >= MIN_CONTRAST else heading
    heading, quiet = DARK_TEXT
    return heading, quiet if contrast(quiet, background) >= MIN_CONTRAST else heading


def brand_context(msp_name: str, logo_url: str | None, accent_color: str | None, contact: str | None) -> dict[str, Any]:
    """What the templates need for the MSP's look: colours, logo and contact line."""
    accent = accent_color.lower() if accent_color and _COLOUR.match(accent_color) else None
    header = accent or DEFAULT_HEADER
    heading, quiet = header_text(header)
    return {
        "header": header,
        "heading": heading,
        "quiet": quiet,
        "bar": accent or DEFAULT_BAR,
        "sla": SLA_COLOUR,
        "logo_url": logo_url or None,
        "logo_alt": msp_name,
        "contact": " ".join(contact.split()) if contact else "",
    }
