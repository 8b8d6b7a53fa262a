"""Is a report template safe to email? `check_template(path)` renders it and says what would break.

`python build_report.py --check-template PATH` prints these findings; the tests run the same checks
on the stock template. A template is rendered the way the monthly build renders it (its includes
from its own folder first, then from templates/), with a busy sample month (utils/reporting/sample_sources.py:
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

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import jinja2
import jinja2.meta

from utils.core.errors import ConfigError, DataError
from utils.core.period import period_from_key
from utils.reporting.email_client_support import (  # noqa: F401  (re-exported: the tests and the checks' users import them from here)
    DEFAULT_IGNORED,
    SUPPORT_FILE,
    check_client_support,
    support_table,
)
from utils.reporting.email_rules import (  # noqa: F401  (re-exported, as above)
    ERROR,
    SIZE_BUDGET,
    WARNING,
    Finding,
    Locator,
    check_contrast,
    check_forbidden,
    check_markup,
    check_size,
    contrast_ratio,
    parse_colour,
    style_of,
    text_colours,
)
from utils.reporting.report import TEMPLATES_DIR, build_outputs, template_environment
from utils.reporting.sample_quarter import busy_quarter_sample
from utils.reporting.sample_sources import busy_sample, hostile_sample
from utils.reporting.section import AttentionRule, ReportSection, section_template


def template_sources(path: Path, label: str | None = None, sections: Sequence[ReportSection] = ()) -> list[tuple[str, str]]:
    """The template's text (labelled `label`) and that of every template it includes or imports, found as the build finds them."""
    environment = template_environment(path.parent, sections=sections)
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    pending = [path.name] + [f"{section_template(section)}.html" for section in sections]  # included by a computed name
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


def check_html(html: str, locator: Locator | None = None) -> list[Finding]:
    """Every check that reads only the rendered, inlined HTML."""
    locator = locator or Locator(html)
    return [*check_size(html), *check_forbidden(html, locator), *check_markup(html, locator), *check_contrast(html, locator),
            *check_client_support(html, locator)]


# ---------------------------------------------------------------------------------------------
# Escaping, and the whole template


def check_escaping(template: Path | str, locator: Locator | None = None, sections: Sequence[ReportSection] = (),
                   attention: Sequence[AttentionRule] = ()) -> list[Finding]:
    """Render a sample whose client, people and ticket names hold `<script>`: each must come out as text."""
    raw, extra_raw, settings, probes = hostile_sample()
    if "review." in Path(template).read_text(encoding="utf-8"):  # the review shows a quarter: the one the hostile month is in
        raw["period"] = period_from_key("2026-Q4", raw["period"]["timezone"], now=datetime(9000, 1, 1, tzinfo=UTC)).as_dict()
    html, _, _ = build_outputs(raw, template=template, settings=settings, extra_raw=extra_raw, sections=sections, attention=attention)
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


def check_template(path: Path | str, sections: Sequence[ReportSection] = (), attention: Sequence[AttentionRule] = ()) -> list[Finding]:
    """Render the template with the busy sample month as the monthly build does, and run every check on it.

    `sections` and `attention`: the declared sources' (utils.sources), so that their section templates are checked too.
    """
    file = read_template(path)
    # A template that shows the review (templates/quarterly_review_template.html) is rendered with a quarter.
    review = "review." in file.read_text(encoding="utf-8")
    raw, extra_raw, settings, history = busy_quarter_sample() if review else busy_sample()
    try:
        html, _, _ = build_outputs(raw, template=file, settings=settings, extra_raw=extra_raw, history=history,
                                   sections=sections, attention=attention)
    except DataError as exc:
        return [Finding("render", ERROR, str(exc))]
    locator = Locator(html, template_sources(file, str(path), sections))
    return [*check_html(html, locator), *check_escaping(file, locator, sections, attention)]


def print_findings(path: Path | str, findings: list[Finding], show_warnings: bool) -> int:
    """Print the findings (warnings only when asked) and a last line; 1 when there is an error, else 0."""
    errors = [f for f in findings if f.severity == ERROR]
    warnings = [f for f in findings if f.severity == WARNING]
    for finding in errors + (warnings if show_warnings else []):
        print(finding.line())
    hint = "" if show_warnings or not warnings else " (-v lists the warnings)"
    print(f"{path}: {len(errors)} error{'s' if len(errors) != 1 else ''}, {len(warnings)} warning{'s' if len(warnings) != 1 else ''}{hint}")
    return 1 if errors else 0
