"""The email-safety checks that read the rendered, inlined HTML: size, forbidden CSS and markup, markup, contrast.

utils/reporting/email_checks.py runs them on a template; the tests call the same code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from lxml import html as lxml_html  # type: ignore[import-untyped]

from utils.reporting.branding import MIN_CONTRAST, contrast

SIZE_BUDGET = 90_000  # bytes; Gmail clips at about 102 KB
ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Finding:
    """One problem: which check found it, how bad it is, what it is and where."""

    check: str
    severity: str  # ERROR or WARNING
    message: str
    where: str = ""

    def line(self) -> str:
        return f"{self.severity}: [{self.check}] {self.message}" + (f" ({self.where})" if self.where else "")


# ---------------------------------------------------------------------------------------------
# Where a finding comes from


class Locator:
    """Finds a pattern in the template's own text (and the stock parts it includes), else in the rendered HTML."""

    def __init__(self, html: str, sources: Iterable[tuple[str, str]] = ()):
        self.html = html
        self.sources = list(sources)  # (label, text), the template itself first

    def where(self, pattern: str, element: Any = None) -> str:
        regex = re.compile(pattern, re.IGNORECASE)
        for label, text in self.sources:
            match = regex.search(text)
            if match:
                return f"{label} line {text.count(chr(10), 0, match.start()) + 1}"
        if element is not None and getattr(element, "sourceline", None):
            return f"rendered sample line {element.sourceline}"
        match = regex.search(self.html)
        return f"rendered sample line {self.html.count(chr(10), 0, match.start()) + 1}" if match else ""


# ---------------------------------------------------------------------------------------------
# Size, forbidden patterns, markup


def check_size(html: str, budget: int = SIZE_BUDGET) -> list[Finding]:
    size = len(html.encode("utf-8"))
    if size < budget:
        return []
    return [Finding("size", ERROR, f"the sample month's report is {size / 1000:.1f} KB, over the {budget / 1000:.0f} KB budget "
                                   "(Gmail clips a message past about 102 KB)", "rendered sample")]


# (name, pattern, why): what Gmail or Outlook for Windows break on, searched in the whole inlined HTML.
FORBIDDEN = (
    ("inline <svg>", r"<svg", "Gmail and Outlook show no inline SVG"),
    ("data: image", r"src=\"data:", "Gmail shows no data: images"),
    ("url()", r"url\(", "background images and remote CSS: Outlook ignores them"),
    ("display:flex", r"display:\s*flex", "Outlook for Windows has no flexbox; use tables"),
    ("display:grid", r"display:\s*grid", "Gmail and Outlook have no grid; use tables"),
    ("position", r"position:", "Gmail and Outlook ignore position"),
    ("CSS variable", r"var\(--", "only Apple Mail knows CSS variables"),
    ("@font-face", r"@font-face", "web fonts: Gmail and Outlook ignore them"),
    ("@import", r"@import", "remote CSS is not loaded"),
    ("rgb() with a slash", r"rgba?\([^)]*/", "Gmail drops the whole style that holds this colour syntax"),
    ("<link rel=stylesheet>", r"<link[^>]+stylesheet", "remote CSS is not loaded"),
    ("background-image", r"background-image", "Outlook for Windows shows no CSS background images"),
    ("em or rem unit", r"\d+(\.\d+)?r?em\b", "Outlook for Windows has no rem, and em sizes drift; use px"),
    ("<script>", r"<script", "mail clients strip scripts, and a script in an email marks it as spam"),
    ("event handler attribute", r"\bon\w+=\"", "mail clients strip on...= attributes"),
)


def check_forbidden(html: str, locator: Locator | None = None) -> list[Finding]:
    locator = locator or Locator(html)
    return [Finding("forbidden", ERROR, f"{name}: {why}", locator.where(pattern))
            for name, pattern, why in FORBIDDEN if re.search(pattern, html, re.IGNORECASE)]


def declarations(css: str) -> list[tuple[str, str]]:
    """`prop: value; ...` as [(property in lower case, value)], semicolons inside brackets or quotes kept."""
    parts: list[str] = []
    current: list[str] = []
    depth, quote = 0, ""
    for char in css:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char == ";" and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    pairs = []
    for part in parts:
        prop, colon, value = part.partition(":")
        if colon and prop.strip():
            pairs.append((prop.strip().lower(), value.strip()))
    return pairs


def style_of(element: Any) -> dict[str, str]:
    """An element's style attribute as {property: value}, both lower case."""
    return {prop: value.lower() for prop, value in declarations(element.get("style") or "")}


def check_markup(html: str, locator: Locator | None = None) -> list[Finding]:
    """What an email's markup needs: lang, a title, alt text, marked layout tables, px font sizes, no template leftovers."""
    locator = locator or Locator(html)
    doc = lxml_html.fromstring(html)
    findings = []
    if not doc.get("lang"):
        findings.append(Finding("markup", ERROR, "<html> has no lang attribute (screen readers guess the language)", locator.where(r"<html")))
    title = doc.find(".//title")
    if title is None or not (title.text or "").strip():
        findings.append(Finding("markup", ERROR, "no <title> (some clients show it as the preview's heading)", locator.where(r"<title|<head")))
    for img in doc.iter("img"):
        if img.get("alt") is None:
            findings.append(Finding("markup", ERROR, "an <img> has no alt text (images are often blocked)", locator.where(r"<img\b", img)))
            break
    for table in doc.iter("table"):
        if table.get("role") != "presentation" and not table.xpath("./tr/th | ./thead/tr/th | ./tbody/tr/th"):
            findings.append(Finding("markup", ERROR, 'a layout <table> has no role="presentation" and a data table no <th> headers',
                                    locator.where(r"$^", table)))
            break
    for th in doc.iter("th"):
        if not th.get("scope"):
            findings.append(Finding("markup", ERROR, "a <th> has no scope attribute", locator.where(r"<th(?![^>]*scope)[\s>]", th)))
            break
    body = doc.find("body")
    first = body[0] if body is not None and len(body) else None
    if first is None or first.tag != "div" or style_of(first).get("display") != "none":
        findings.append(Finding("markup", WARNING, "the body does not start with a hidden preheader <div> (the inbox preview shows the first text)",
                                locator.where(r"<body")))
    for size in re.findall(r"font-size:\s*([^;\"!]+)", html):
        if not (size.strip().endswith("px") or size.strip() == "0"):
            findings.append(Finding("markup", ERROR, f"font-size {size.strip()}: use px sizes (Outlook for Windows)",
                                    locator.where(r"font-size:\s*" + re.escape(size.strip()))))
            break
    for leftover in ("{{", "{%", "{#"):
        if leftover in html:
            findings.append(Finding("markup", ERROR, f"template syntax {leftover} left in the output", locator.where(re.escape(leftover))))
    return findings


# ---------------------------------------------------------------------------------------------
# Contrast

# The basic CSS colour names, as CSS defines them (written as rgb(): colours are never hex literals in Python).
_NAMED = {"white": "rgb(255, 255, 255)", "black": "rgb(0, 0, 0)", "red": "rgb(255, 0, 0)", "green": "rgb(0, 128, 0)",
          "blue": "rgb(0, 0, 255)", "gray": "rgb(128, 128, 128)", "grey": "rgb(128, 128, 128)", "silver": "rgb(192, 192, 192)",
          "yellow": "rgb(255, 255, 0)", "orange": "rgb(255, 165, 0)", "navy": "rgb(0, 0, 128)", "maroon": "rgb(128, 0, 0)"}
_NOT_A_COLOUR = ("inherit", "initial", "unset", "currentcolor", "transparent", "none", "")


def parse_colour(value: str) -> str | None:
    """#rgb, #rrggbb, rgb()/rgba() with commas, or a basic colour name as #rrggbb; None when it is none of these."""
    value = value.replace("!important", "").strip().lower()
    value = _NAMED.get(value, value)
    hex_match = re.fullmatch(r"#([0-9a-f]{3}|[0-9a-f]{6})", value)
    if hex_match:
        digits = hex_match.group(1)
        return "#" + ("".join(c * 2 for c in digits) if len(digits) == 3 else digits)
    rgb = re.fullmatch(r"rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*(?:,\s*[\d.]+\s*)?\)", value)
    if rgb:
        return "#" + "".join(f"{min(255, int(channel)):02x}" for channel in rgb.groups())
    return None


_BLACK, _WHITE = str(parse_colour("black")), str(parse_colour("white"))  # what a mail client draws without a colour


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2.x contrast of two colours (1 to 21), as the branding computes it; ValueError when either is not a colour."""
    parsed = parse_colour(foreground), parse_colour(background)
    if parsed[0] is None or parsed[1] is None:
        raise ValueError(f"not a colour: {foreground if parsed[0] is None else background}")
    return contrast(parsed[0], parsed[1])


def _first(chain: list[Any], read: Any, default: str) -> str:
    for element in chain:
        value = read(element)
        if value and value.replace("!important", "").strip().lower() not in _NOT_A_COLOUR:
            return str(value).replace("!important", "").strip().lower()
    return default


def text_colours(html: str) -> Iterator[tuple[Any, str, str]]:
    """(element, text colour, background colour) for every element with visible text of its own."""
    doc = lxml_html.fromstring(html)
    for element in doc.iter():
        if not isinstance(element.tag, str) or not (element.text or "").strip() or element.tag in ("style", "title", "script"):
            continue
        chain = [element, *element.iterancestors()]
        styles = [style_of(e) for e in chain]
        if any(s.get("display") == "none" or s.get("font-size") == "0" for s in styles):
            continue
        colour = _first(chain, lambda e: style_of(e).get("color"), _BLACK)
        background = _first(chain, lambda e: e.get("bgcolor") or style_of(e).get("background-color")
                            or _background_colour(style_of(e).get("background", "")), _WHITE)
        yield element, colour, background


def _background_colour(shorthand: str) -> str | None:
    return next((token for token in shorthand.split() if parse_colour(token)), None)


def check_contrast(html: str, locator: Locator | None = None, minimum: float = MIN_CONTRAST) -> list[Finding]:
    """One finding per pair of colours whose contrast is under `minimum`, with how many texts use it."""
    locator = locator or Locator(html)
    low: dict[tuple[str, str], list[Any]] = {}
    unreadable: dict[str, Any] = {}
    for element, colour, background in text_colours(html):
        try:
            if contrast_ratio(colour, background) < minimum:
                low.setdefault((colour, background), []).append(element)
        except ValueError:
            unreadable.setdefault(colour if parse_colour(colour) is None else background, element)
    findings = []
    for (colour, background), elements in low.items():
        text = " ".join((elements[0].text or "").split())[:40]
        findings.append(Finding("contrast", ERROR, f"text {colour} on {background} is {contrast_ratio(colour, background):.1f}:1, under "
                                                   f"{minimum}:1 ({len(elements)} text{'s' if len(elements) != 1 else ''}, first: {text!r})",
                                locator.where(re.escape(colour), elements[0])))
    for value, element in unreadable.items():
        findings.append(Finding("contrast", WARNING, f"cannot read the colour {value!r}, so its contrast was not checked",
                                locator.where(re.escape(value), element)))
    return findings
