"""Which CSS and HTML features Gmail, Outlook and Apple Mail do not fully support (the caniemail.com table).

The table is email_client_support.json beside this module; `check_client_support` finds the features
the rendered HTML uses and names the clients that lack them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from lxml import html as lxml_html  # type: ignore[import-untyped]

from utils.reporting.email_rules import ERROR, WARNING, Finding, Locator, declarations

SUPPORT_FILE = Path(__file__).with_name("email_client_support.json")
# As the doiuse-email linter's usual options: Outlook ignores the phone layout's @media block and the
# hidden preheader's overflow:hidden without harm (mso-hide:all hides the preheader there). The
# preheader's max-height:0 is the same case; doiuse-email never matched it (its caniemail title is
# "max-height property"), and here it is ignored for the same reason as overflow.
DEFAULT_IGNORED = ("@media", "overflow", "max-height")


# ---------------------------------------------------------------------------------------------
# Client support (caniemail.com)


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
