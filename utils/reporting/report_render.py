"""Rendering: Jinja2 over templates/ (or a restyled copy), every string one clean line, CSS inlined for email."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from premailer import Premailer

from utils.core.cli import clean_text
from utils.core.errors import DataError
from utils.reporting.branding import PALETTE_TEMPLATE, TEMPLATES_DIR, read_palette
from utils.reporting.email_html import tidy_inlined_html
from utils.reporting.section import ReportSection, own_template_folders

_INDENT = re.compile(r"\n[ \t]+")


def template_environment(directory: Path, html: bool = True, sections: Sequence[ReportSection] = ()) -> jinja2.Environment:
    """Jinja2 with undefined variables as errors, and autoescaping on for HTML (whatever the file is called).

    Templates are found in `directory`, then in templates/ (so a restyled template kept elsewhere still
    finds the stock parts/ and sections/), and a section with its own folder under section-<name>/.
    One environment per folder and sections is kept for the process: compiling a template costs ten
    times its rendering, and a batch renders the same templates for every client. Jinja still reads an
    edited template anew (auto_reload compares the file's modification time on every lookup), so a
    restyle shows in the next report, in the web interface too.
    """
    own = tuple(sorted((prefix, str(folder)) for prefix, folder in own_template_folders(sections).items()))
    return _environment(str(directory), html, own)


@functools.lru_cache(maxsize=32)
def _environment(directory: str, html: bool, own: tuple[tuple[str, str], ...]) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(directory), jinja2.FileSystemLoader(str(TEMPLATES_DIR))]
    if own:
        loaders.append(jinja2.PrefixLoader({prefix: jinja2.FileSystemLoader(folder) for prefix, folder in own}))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=True,  # the default, relied on above: say so
    )


def locate_template(template: str | Path) -> tuple[Path, str]:
    """A template given by name (in templates/) or by path: its folder and its file name."""
    path = Path(template)
    if path.parent != Path(".") or path.is_absolute():
        return path.expanduser().resolve().parent, path.name
    local = TEMPLATES_DIR / path.name
    if not local.exists() and path.exists():
        return path.resolve().parent, path.name
    return TEMPLATES_DIR, path.name


# Beyond clean_text's controls: the Unicode line and paragraph separators, at which some mail clients break a line.
_LINE_SEPARATORS = str.maketrans({"\u2028": " ", "\u2029": " "})


def one_line_view(value: Any) -> Any:
    """The templates' context with every string (and dict key) made one clean line.

    Names come from the services as they are: an SKU, an endpoint or a threat name holding a line
    break would forge a line of the text part ("Nothing needs your attention"), and a control
    character (an escape sequence, a NUL) has no business in either part. Templates add line breaks
    of their own (wordwrap, indent) after this; the HTML part is escaped by Jinja as well.
    """
    if isinstance(value, Markup):
        return Markup(one_line_view(str(value)))
    if isinstance(value, str):
        return clean_text(value).translate(_LINE_SEPARATORS)
    if isinstance(value, Mapping):
        return {one_line_view(key): one_line_view(item) for key, item in value.items()}
    if isinstance(value, list):
        return [one_line_view(item) for item in value]
    if type(value) is tuple:  # a named tuple is left as it is
        return tuple(one_line_view(item) for item in value)
    return value


def render_template(template: str | Path, context: dict, html: bool = True, sections: Sequence[ReportSection] = ()) -> str:
    """Render one template with the context (every string one clean line); a missing or failing template is a one-line DataError."""
    directory, name = locate_template(template)
    environment = template_environment(directory, html=html, sections=sections)
    where = directory / name
    try:
        return environment.get_template(name).render(one_line_view(context))
    except jinja2.TemplateNotFound:
        raise DataError(f"template not found: {where}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise DataError(f"template {where} has a syntax error on line {exc.lineno}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise DataError(f"template {where} failed to render: {exc.message or exc}") from None
    except (TypeError, ValueError, KeyError, AttributeError, ZeroDivisionError) as exc:
        raise DataError(f"template {where} failed to render: {type(exc).__name__}: {exc}") from None


def template_palette(template: str | Path) -> dict[str, Any]:
    """The colours the template's parts/palette.html sets (its own copy beside it, else the stock one)."""
    directory, _ = locate_template(template)
    try:
        return read_palette(template_environment(directory))
    except jinja2.TemplateError as exc:
        raise DataError(f"the palette ({PALETTE_TEMPLATE}) of {directory} could not be read: {exc.message or exc}") from None


def compact_html(html: str) -> str:
    """Drop the template's indentation: it is pure weight against Gmail's ~102 KB clipping limit."""
    return _INDENT.sub("\n", html)


def inline_css(html: str) -> str:
    """Move the template's CSS into style attributes for email clients (premailer, never the network), tidied."""
    inlined = Premailer(
        html,
        strip_important=False,  # keep !important inside @media (the phone layout)
        allow_network=False,  # never fetch <link> CSS from a cron job
        cssutils_logging_level=logging.CRITICAL,  # silence "Unknown Property name" noise
    ).transform(pretty_print=False)
    return tidy_inlined_html(inlined)
