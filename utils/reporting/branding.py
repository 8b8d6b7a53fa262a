"""The MSP's own look in the report: logo, accent colour and a contact line ([report] in integoreport.toml).

`logo_url` (an https image) shows in the header with the MSP's name as its alt text; without it the
header is text only. `accent_color` (#RRGGBB, validated by utils.core.settings) colours the header and
the bars; the header's text turns dark on a light accent so it keeps a 4.5:1 contrast. `contact`
is one line in the footer. Without any of them the report keeps its stock look.

The colours themselves live in templates/parts/palette.html (a restyled copy's own parts/palette.html
wins); this module only chooses among them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
PALETTE_TEMPLATE = "parts/palette.html"
MIN_CONTRAST = 4.5

_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def read_palette(environment: jinja2.Environment | None = None) -> dict[str, Any]:
    """The colours parts/palette.html sets ({name: "#rrggbb" or {tone: colour}}), as `environment` finds it."""
    environment = environment or jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)))
    module = environment.get_template(PALETTE_TEMPLATE).make_module()
    return {name: value for name, value in vars(module).items() if not name.startswith("_") and isinstance(value, (str, dict))}


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


def header_text(background: str, palette: Mapping[str, Any]) -> tuple[str, str]:
    """The heading and quieter text colours that read on `background` (light text when it can, else dark)."""
    heading, quiet = palette["light_heading"], palette["light_quiet"]
    if contrast(heading, background) >= MIN_CONTRAST:
        return heading, quiet if contrast(quiet, background) >= MIN_CONTRAST else heading
    heading, quiet = palette["dark_heading"], palette["dark_quiet"]
    return heading, quiet if contrast(quiet, background) >= MIN_CONTRAST else heading


def brand_context(msp_name: str, logo_url: str | None, accent_color: str | None, contact: str | None,
                  palette: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What the templates need for the MSP's look: the accent (or the palette's stock colours), logo and contact line."""
    palette = palette if palette is not None else read_palette()
    accent = accent_color.lower() if accent_color and _COLOUR.match(accent_color) else None
    header = accent or palette["header"]
    heading, quiet = header_text(header, palette)
    return {
        "accent": accent,  # None without one: a template then keeps its own stock colour
        "header": header,
        "heading": heading,
        "quiet": quiet,
        "bar": accent or palette["bar"],
        "logo_url": logo_url or None,
        "logo_alt": msp_name,
        "contact": " ".join(contact.split()) if contact else "",
    }
