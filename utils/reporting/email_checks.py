"""Is a report template safe to email? `check_template(path)` renders it and says what would break.

`python build_report.py --check-template PATH` prints these findings; the tests run the same checks
on the stock template. A template is rendered the way the monthly build renders it (its includes
from its own folder first, then from templates/), with a busy sample month (utils/reporting/sample_month.py:
366 tickets, both security sections, five months of history, branding), inlined by premailer, and
checked for:

- size: under 90 KB (Gmail clips a message past about 102 KB and hides the rest);
- forbidden: CSS and markup that Gmail or Outlook for Windows break on (flexbox, SVG, web fonts...);
- markup: `lang`, a title, `alt` on images, layout tables marked `role="presentation"`, px font sizes;
- contrast: every visible text at least 4.5:1 against its background (WCAG 2.x AA);
- escaping: a second sample whose client, people and ticket names hold `<script>` must show them as text;
- client-support: the CSS and HTML features Gmail (desktop, iOS, Android), Outlook (Windows) and Apple
  Mail (macOS, iOS) do not fully support, from the caniemail.com table in email_client_support.json.
  Not supported by one of them is an error, partly supported a warning; `@media` and `overflow` are
  ignored as the doiuse-email linter's usual options do, and so is `max-height` (the phone layout and
  the hidden preheader degrade harmlessly where they are not supported).

Each finding names its check, what was found and where: a line of the template (or of a stock part
it includes) when the text is found there, else a line of the rendered sample.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
from lxml import html as lxml_html  # type: ignore[import-untyped]

from utils.core.errors import ConfigError, DataError
from utils.reporting.branding import MIN_CONTRAST, contrast

SIZE_BUDGET = 90_000  # bytes; Gmail clips at about 102 KB
SUPPORT_FILE = Path(__file__).with_name("email_client_support.json")
# As the doiuse-email linter's usual options: Outlook ignores the phone layout's @media block and the
# hidden preheader's overflow:hidden without harm (mso-hide:all hides the preheader there). The
# preheader's max-height:0 is the same case; doiuse-email never matched it (its caniemail title is
# "max-height property"), and here it is ignored for the same reason as overflow.
DEFAULT_IGNORED = ("@media", "overflow", "max-height")

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


def template_sources(path: Path, label: str | None = None) -> list[tuple[str, str]]:
    """The template's text (labelled `label`) and that of every template it includes or imports, found as the build finds them."""
    from utils.reporting.report import TEMPLATES_DIR, template_environment
    from utils.reporting.sources import sources

    environment = template_environment(path.parent)
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    pending = [path.name] + [f"sections/{source.name}.html" for source in sources()]  # sections are included by a computed name
    while pending:
        name = pending.pop(0)
        if name in seen:
            continue
        seen.add(name)
        try:
            text, filename, _ = environment.loader.get_source(environment, name)  # type: ignore[union-attr]
            references = jinja2.meta.find_referenced_templates(environment.parse(text))
        except (jinja2.TemplateError, OSError, UnicodeDecodeError):
            continue
        file = Path(filename or name)
        shown = f"templates/{file.relative_to(TEMPLATES_DIR)}" if file.is_relative_to(TEMPLATES_DIR) else str(file)
        found.append((shown if name != path.name else label or str(path), text))
        pending.extend(reference for reference in references if reference)
    return found


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

_NAMED = {"white": "#ffffff", "black": "#000000", "red": "#ff0000", "green": "#008000", "blue": "#0000ff", "gray": "#808080",
          "grey": "#808080", "silver": "#c0c0c0", "yellow": "#ffff00", "orange": "#ffa500", "navy": "#000080", "maroon": "#800000"}
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
        colour = _first(chain, lambda e: style_of(e).get("color"), "#000000")
        background = _first(chain, lambda e: e.get("bgcolor") or style_of(e).get("background-color")
                            or _background_colour(style_of(e).get("background", "")), "#ffffff")
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


# ---------------------------------------------------------------------------------------------
# Client support (caniemail.com)


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


def top_level_rules(css: str) -> Iterator[tuple[str, str]]:
    """(prelude, body) of each top-level rule of a style sheet; a statement such as `@import ...;` has an empty body.

    Rules nested in an at-rule are not walked, as doiuse-email does not: the at-rule itself is the feature.
    """
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    depth, start, prelude = 0, 0, ""
    for index, char in enumerate(css):
        if char == "{":
            if depth == 0:
                prelude, start = css[start:index].strip(), index + 1
            depth += 1
        elif char == "}" and depth:
            depth -= 1
            if depth == 0:
                yield prelude, css[start:index]
                start = index + 1
        elif char == ";" and depth == 0:
            statement = css[start:index].strip()
            if statement.startswith("@"):
                yield statement, ""
            start = index + 1


@dataclass(frozen=True)
class Feature:
    title: str
    kind: str
    match: tuple[Any, ...]
    support: dict[str, str]  # client id: y, a (partly), u (unknown), n


@cache
def support_table() -> tuple[dict[str, str], tuple[Feature, ...]]:
    """({client id: client name}, the features) from the vendored caniemail table."""
    data = json.loads(SUPPORT_FILE.read_text(encoding="utf-8"))
    clients = data["clients"]
    features = tuple(Feature(item["title"], item["kind"], tuple(tuple(m) if isinstance(m, list) else m for m in item["match"]),
                             dict(zip(clients, item["support"], strict=True))) for item in data["features"])
    return clients, features


@dataclass
class _Used:
    """What a document uses, each with the first element it was seen on."""

    declarations: dict[tuple[str, str], Any]
    at_rules: dict[str, Any]
    media_features: dict[str, Any]
    selectors: dict[str, Any]
    tags: dict[str, Any]
    attributes: dict[str, Any]
    tag_attributes: dict[tuple[str, str, str], Any]


def _used(html: str) -> _Used:
    doc = lxml_html.fromstring(html)
    used = _Used({}, {}, {}, {}, {}, {}, {})
    for element in doc.iter():
        if not isinstance(element.tag, str):
            continue  # comments (the Outlook conditional blocks) are not markup a client renders
        tag = element.tag.lower()
        used.tags.setdefault(tag, element)
        for name, value in element.attrib.items():
            used.attributes.setdefault(name.lower(), element)
            used.tag_attributes.setdefault((tag, name.lower(), value.strip().lower()), element)
        for pair in declarations(element.get("style") or ""):
            used.declarations.setdefault(pair, element)
        if tag == "style":
            for prelude, body in top_level_rules(element.text or ""):
                at_rule = re.match(r"@([-\w]+)", prelude)
                if at_rule:
                    used.at_rules.setdefault(at_rule.group(1).lower(), element)
                    for feature in re.findall(r"\(\s*([-a-z]+)", prelude.lower()):
                        used.media_features.setdefault(feature, element)
                    continue
                used.selectors.setdefault(prelude.lower(), element)
                for pair in declarations(body):
                    used.declarations.setdefault(pair, element)
    return used


def _value_has(kind: str, wanted: str, value: str) -> bool:
    value = value.lower()
    if kind == "unit":
        return bool(re.search(r"\binitial\b" if wanted == "initial" else r"\d" + re.escape(wanted) + r"(?![a-z])", value))
    if kind == "function":
        return bool(re.search(r"(?<![\w-])" + re.escape(wanted) + r"\(", value))
    return wanted in value  # keyword


def _uses(feature: Feature, used: _Used) -> tuple[Any, str] | None:
    """The first element using the feature and a pattern to find it in the template's text, or None."""
    kind = feature.kind
    for wanted in feature.match:
        if kind == "property":
            hit = next((e for (prop, _), e in used.declarations.items() if prop == wanted), None)
            pattern = rf"(?<![\w-]){re.escape(wanted)}\s*:"
        elif kind == "value":
            prop, value = wanted
            hit = next((e for (p, v), e in used.declarations.items() if p == prop and re.match(re.escape(value) + r"(?![\w-])", v.lower())), None)
            pattern = rf"(?<![\w-]){re.escape(prop)}\s*:\s*{re.escape(value)}(?![\w-])"
        elif kind in ("unit", "function", "keyword"):
            hit = next((e for (_, v), e in used.declarations.items() if _value_has(kind, wanted, v)), None)
            pattern = {"unit": rf"\d{re.escape(wanted)}(?![a-z])", "function": rf"(?<![\w-]){re.escape(wanted)}\("}.get(kind, re.escape(wanted))
        elif kind == "at-rule":
            hit, pattern = used.at_rules.get(wanted), rf"@{re.escape(wanted)}\b"
        elif kind == "media-feature":
            hit, pattern = used.media_features.get(wanted), rf"@media[^{{]*\(\s*{re.escape(wanted)}"
        elif kind == "pseudo":
            hit = next((e for selector, e in used.selectors.items() if wanted in selector), None)
            pattern = re.escape(wanted)
        elif kind == "element":
            hit, pattern = used.tags.get(wanted), rf"<{re.escape(wanted)}\b"
        elif kind == "attribute":
            hit, pattern = used.attributes.get(wanted), rf"<[a-z][^>]*\s{re.escape(wanted)}(\s*=|[\s>])"
        elif kind == "element-attribute":
            tag, name, start = wanted
            hit = next((e for (t, n, v), e in used.tag_attributes.items() if t == tag and n == name and v.startswith(start)), None)
            pattern = rf"<{re.escape(tag)}\b[^>]*\s{re.escape(name)}\s*=\s*[\"']?{re.escape(start)}"
        else:
            continue
        if hit is not None:
            return hit, pattern
    return None


def check_client_support(html: str, locator: Locator | None = None, ignore: Iterable[str] = DEFAULT_IGNORED) -> list[Finding]:
    """Features of the document that a listed client does not support (error) or supports only in part (warning)."""
    locator = locator or Locator(html)
    ignored = tuple(ignore)
    clients, features = support_table()
    used = _used(html)
    findings = []
    for feature in features:
        if feature.title.startswith(ignored):
            continue
        hit = _uses(feature, used)
        if hit is None:
            continue
        where = locator.where(hit[1], hit[0])
        missing = [clients[c] for c, status in feature.support.items() if status == "n"]
        partial = [clients[c] for c, status in feature.support.items() if status in ("a", "u")]
        if missing:
            findings.append(Finding("client-support", ERROR, f"{feature.title} is not supported by {', '.join(missing)}", where))
        if partial:
            findings.append(Finding("client-support", WARNING, f"{feature.title} is only partly supported by {', '.join(partial)}", where))
    return findings


def check_html(html: str, locator: Locator | None = None) -> list[Finding]:
    """Every check that reads only the rendered, inlined HTML."""
    locator = locator or Locator(html)
    return [*check_size(html), *check_forbidden(html, locator), *check_markup(html, locator), *check_contrast(html, locator),
            *check_client_support(html, locator)]


# ---------------------------------------------------------------------------------------------
# Escaping, and the whole template


def check_escaping(template: Path | str, locator: Locator | None = None) -> list[Finding]:
    """Render a sample whose client, people and ticket names hold `<script>`: each must come out as text."""
    from utils.reporting.report import build_outputs
    from utils.reporting.sample_month import hostile_sample

    raw, extra_raw, settings, probes = hostile_sample()
    html, _, _ = build_outputs(raw, template=template, settings=settings, extra_raw=extra_raw)
    leaked = sorted({probes[code] for code in re.findall(r"<script>(p\d+)", html, re.IGNORECASE) if code in probes})
    if not leaked:
        return []
    where = (locator or Locator(html)).where(r"\|\s*safe\b|autoescape\s+false|Markup\(")
    return [Finding("escaping", ERROR, f"client text reached the HTML as markup, not text: {', '.join(leaked)} "
                                       "(never mark client data |safe)", where)]


def read_template(path: Path | str) -> Path:
    """The template's absolute path; a missing or unreadable file is a usage error (exit 2)."""
    file = Path(path).expanduser()
    try:
        file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"template not found: {file}") from None
    except IsADirectoryError:
        raise ConfigError(f"not a template file but a folder: {file}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the template {file}: {getattr(exc, 'strerror', None) or exc}") from None
    return file.resolve()


def check_template(path: Path | str) -> list[Finding]:
    """Render the template with the busy sample month as the monthly build does, and run every check on it."""
    from utils.reporting.report import build_outputs
    from utils.reporting.sample_month import busy_sample

    file = read_template(path)
    raw, extra_raw, settings, history = busy_sample()
    try:
        html, _, _ = build_outputs(raw, template=file, settings=settings, extra_raw=extra_raw, history=history)
    except DataError as exc:
        return [Finding("render", ERROR, str(exc))]
    locator = Locator(html, template_sources(file, str(path)))
    return [*check_html(html, locator), *check_escaping(file, locator)]


def print_findings(path: Path | str, findings: list[Finding], show_warnings: bool) -> int:
    """Print the findings (warnings only when asked) and a last line; 1 when there is an error, else 0."""
    errors = [f for f in findings if f.severity == ERROR]
    warnings = [f for f in findings if f.severity == WARNING]
    for finding in errors + (warnings if show_warnings else []):
        print(finding.line())
    hint = "" if show_warnings or not warnings else " (-v lists the warnings)"
    print(f"{path}: {len(errors)} error{'s' if len(errors) != 1 else ''}, {len(warnings)} warning{'s' if len(warnings) != 1 else ''}{hint}")
    return 1 if errors else 0
