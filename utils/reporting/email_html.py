"""Slimming premailer's output without changing what any email client renders.

Gmail clips a message past ~102 KB and issue 13 budgets 90 KB for a 300-ticket month, while
premailer writes every inlined declaration as `prop:value; prop:value` and leaves each `class`
attribute in place even when no remaining CSS rule can match it. `tidy_inlined_html` rewrites
only attributes inside start tags:

- `style`: no whitespace around `:`, `;` and `,`, no trailing `;` (the same declarations);
- `class`: keeps only the names that a `<style>` block still left in the document mentions (the
  phone layout's @media rules); the rest were inlined already and matter to no client.

Text is never touched: lxml writes `<` and `>` in text and attribute values as entities, so a
start tag is exactly `<name ...>` with no `<` or `>` inside, and attributes are read one by one
(a quoted value is skipped whole, whatever it contains).
"""

from __future__ import annotations

import re

_STYLE_BLOCK = re.compile(r"<style\b[^>]*>(.*?)</style>", re.IGNORECASE | re.DOTALL)
_CSS_CLASS = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
_START_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)(\s[^<>]*)>")
_ATTRIBUTE = re.compile(r"""(\s+)([^\s=/>"']+)(?:(\s*=\s*)("[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")
_AROUND_PUNCTUATION = re.compile(r"\s*([:;,])\s*")


def tidy_style(value: str) -> str:
    """One style attribute's declarations with no optional whitespace and no trailing `;`."""
    if "&quot;" in value or "'" in value or '"' in value:
        return value.strip()  # a quoted string (a font name) may hold a meaningful ": " or ", "
    return _AROUND_PUNCTUATION.sub(r"\1", value).strip().rstrip(";")


def used_classes(html: str) -> set[str]:
    """The class names that the document's remaining <style> blocks (conditional ones included) mention."""
    names: set[str] = set()
    for css in _STYLE_BLOCK.findall(html):
        names.update(_CSS_CLASS.findall(css))
    return names


def tidy_inlined_html(html: str) -> str:
    """premailer's output with tidied style attributes and without class names no CSS uses any more."""
    keep = used_classes(html)

    def attribute(match: re.Match[str]) -> str:
        _, name, equals, quoted = match.groups()
        if not equals or not quoted or quoted[0] not in "\"'":
            return match.group(0)
        value = quoted[1:-1]
        lowered = name.lower()
        if lowered == "style":
            value = tidy_style(value)
        elif lowered == "class":
            value = " ".join(word for word in value.split() if word in keep)
        else:
            return match.group(0)
        if not value:
            return ""
        return f" {name}={quoted[0]}{value}{quoted[0]}"

    def start_tag(match: re.Match[str]) -> str:
        name, attributes = match.groups()
        return f"<{name}{_ATTRIBUTE.sub(attribute, attributes)}>"

    return _START_TAG.sub(start_tag, html)
