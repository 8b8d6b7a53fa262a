"""Turning a month's metrics into the client's email: HTML (inlined for email) and plain text.

`build_outputs(raw)` is the whole job for one raw data file; `build_report.py` and the monthly
batch both call it. The numbers come finished from `utils.reporting.metrics` (the attention list
included); `utils.reporting.report_view` words and formats them, `utils.reporting.report_render`
renders the templates and inlines the CSS. The sections and attention rules are handed in (the
declared sources, utils.sources); without them the report has the Freshservice body only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from utils.core.errors import DataError
from utils.core.files import read_json
from utils.core.period import period_from_block
from utils.core.settings import ReportSettings
from utils.reporting.history import History
from utils.reporting.metrics import check_raw, compute_report_data
from utils.reporting.metrics_types import Metrics
from utils.reporting.quarterly_view import QUARTERLY_TEMPLATE, QUARTERLY_TEXT_TEMPLATE, review_context
from utils.reporting.report_format import (  # noqa: F401  (re-exported: callers import the formatters from here too)
    NBSP,
    bar_widths,
    format_count,
    format_duration,
    format_hours,
    format_pct,
    month_name,
    parse_local,
    short_date,
    truncate,
    zone_label,
)
from utils.reporting.report_render import (  # noqa: F401  (re-exported: the rendering is imported from here too)
    TEMPLATES_DIR,
    compact_html,
    inline_css,
    one_line_view,
    render_template,
    template_environment,
    template_palette,
)
from utils.reporting.report_view import build_context, is_empty_month  # noqa: F401  (re-exported)
from utils.reporting.section import AttentionRule, ReportSection, section_views

DEFAULT_TEMPLATE = "email_report_template.html"
TEXT_TEMPLATE = "email_report_template.txt"


def build_outputs(raw: dict, template: str | Path = DEFAULT_TEMPLATE, settings: ReportSettings | None = None,
                  extra_raw: Mapping[str, dict] | None = None, source_failures: Mapping[str, str] | None = None,
                  history: History | None = None, *, sections: Sequence[ReportSection] = (),
                  attention: Sequence[AttentionRule] = ()) -> tuple[str, str, Metrics]:
    """The inlined HTML email, its plain-text version and the metrics JSON for one raw data dictionary.

    `extra_raw` holds the other sources' raw files for the same client and month ({section name: raw},
    utils.reporting.source_files.load_source_files); `source_failures` says why a source could not be pulled
    this month; `history` the client's earlier months as stored (utils.reporting.history.load_history).
    `sections` and `attention` are the declared sources' report sections and rules (none: today's).
    Without `settings`, the defaults (the scripts pass what integoreport.toml and the environment say).
    The metrics returned are exactly what the report shows: `--json` and the history store them as they are.
    """
    settings = settings or ReportSettings()
    sections = tuple(sections)
    result = compute_report_data(raw, settings.metrics, csat_comment_text=settings.show_csat_comments, history=history,
                                 extra_raw=extra_raw, sections=sections, attention=attention)
    context = build_context(result.metrics, result.details, settings, template_palette(template))
    context["source_sections"], sentences, context["source_notes"] = section_views(sections, result.metrics, source_failures)
    if sentences:
        context["summary"].append(" ".join(sentences))
    period = period_from_block(result.metrics["period"])
    text_template = TEXT_TEMPLATE
    if not period.is_month:  # a quarter or range: the quarterly review, unless another template was asked for
        context["review"] = review_context(result.metrics, raw, history or {}, period)
        template = QUARTERLY_TEMPLATE if template == DEFAULT_TEMPLATE else template
        text_template = QUARTERLY_TEXT_TEMPLATE
    html = inline_css(compact_html(render_template(template, context, sections=sections)))
    text = render_template(text_template, context, html=False, sections=sections)
    return html, text, result.metrics


def load_raw(path: Path | str) -> dict:
    """Read and check a raw data file; every problem is a one-line DataError naming the file."""
    path = Path(path)
    raw = read_json(path, "raw data file")
    try:
        check_raw(raw)
    except DataError as exc:
        raise DataError(f"raw data file {path}: {exc}") from None
    return raw


def newest_raw_file(raw_dir: Path) -> Path:
    """The newest raw_data/freshservice_*.json: by the generated_at inside, then by modification time."""
    candidates = sorted(raw_dir.glob("freshservice_*.json")) if raw_dir.is_dir() else []
    if not candidates:
        raise DataError(f"no raw data file found: {raw_dir}/freshservice_*.json (run the puller first, or give a file)")

    def freshness(path: Path) -> tuple[float, float]:
        generated = 0.0
        try:
            data = read_json(path, "raw data file")
            value = data.get("generated_at") if isinstance(data, dict) else None
            if isinstance(value, str):
                generated = datetime.fromisoformat(value).timestamp()
        except (DataError, ValueError, OverflowError):
            pass
        try:
            mtime = path.stat().st_mtime
        except OSError:
            mtime = 0.0
        return generated, mtime

    return max(candidates, key=freshness)
