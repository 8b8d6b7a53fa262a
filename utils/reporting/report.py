"""Turning a month's metrics into the client's email: HTML (inlined for email) and plain text.

`build_outputs(raw)` is the whole job for one raw data file; `build_report.py` and the monthly
batch both call it. The numbers come from `utils.reporting.metrics`; their wording from `utils.reporting.report_wording`
and their formatting from `utils.reporting.report_format`. This module assembles the templates' context
(charts and tables included), renders it with Jinja2 and inlines the CSS with premailer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import jinja2
from markupsafe import Markup

from utils.core.cli import clean_text
from utils.core.errors import DataError
from utils.core.files import read_json
from utils.core.settings import ReportSettings, load_settings
from utils.reporting import report_wording as wording
from utils.reporting.attention import attention_items, attention_view
from utils.reporting.branding import DEFAULT_BAR, brand_context
from utils.reporting.email_html import tidy_inlined_html
from utils.reporting.history import History
from utils.reporting.history_view import sla_line
from utils.reporting.metrics import check_raw, compute_report_data, priority_rank
from utils.reporting.metrics_types import Metrics, ReportDetails, TrendEntry
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
from utils.reporting.sources import compute_sections, section_views

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
DEFAULT_TEMPLATE = "email_report_template.html"
TEXT_TEMPLATE = "email_report_template.txt"
INDEX_TEMPLATE = "index_template.html"


BREAKDOWN_ROWS = 6  # bars per breakdown chart; the rest are summed into "Other"
SUBJECT_MAX = 70  # characters of a subject in the recent-tickets table
TIME_AGENT_ROWS = 8
CSAT_COMMENTS_SHOWN = 10

log = logging.getLogger(__name__)
_INDENT = re.compile(r"\n[ \t]+")


# ---------------------------------------------------------------------------------------------
# What the templates show


def is_empty_month(metrics: Metrics) -> bool:
    """Nothing happened: no tickets in or out, none open, no survey and no time logged."""
    volume = metrics["volume"]
    return (
        volume["created"] == 0 and volume["resolved"] == 0 and volume["open_at_start"] == 0 and volume["open_at_end"] == 0
        and metrics["csat"]["responses"] == 0 and not metrics["time"]["total_minutes"]
    )


def build_context(metrics: Metrics, details: ReportDetails, settings: ReportSettings) -> dict[str, Any]:
    """Everything the templates show, worded and formatted; templates add no logic of their own."""
    period = metrics["period"]
    empty = is_empty_month(metrics)
    brand = brand_context(settings.msp_name, settings.logo_url, settings.accent_color, settings.contact)
    context: dict[str, Any] = {
        "brand": brand,
        "msp_name": settings.msp_name,
        "client_name": metrics["client"]["name"],
        "month": period["label"],
        "period_text": wording.period_text(period),
        "empty": empty,
        "summary": wording.summary_paragraphs(metrics, details),
        "preheader": wording.preheader(metrics),
        "kpi_rows": wording.kpi_rows(metrics),
        "trend": _trend_chart(metrics["trend"], brand["bar"]),
        "sla": _sla(metrics, details),
        "breakdowns": _breakdowns(metrics),
        "requesters": _requesters(metrics, details),
        "work_notes": wording.work_notes(metrics, details),
        "time": _time(metrics, details),
        "csat": _csat(metrics, details, settings),
        "backlog": _backlog(metrics, details),
        "recent": _recent(metrics),
        "attention": attention_view(metrics["attention"]),
        # The other sources' sections and notes: build_outputs fills them from utils.sources.
        "source_sections": [],
        "source_notes": [],
        # An empty month keeps its footnote short: only what the month is and when the data was pulled.
        "definitions": wording.definitions(metrics, details, settings.show_csat_comments)[: 1 if empty else None],
        "warnings": metrics["warnings"],
        "pulled_at": wording.pulled_at(details.get("generated_at"), period["timezone"]),
    }
    for row in context["backlog"]["rows"]:  # the accent colours the bars; the old-ticket warning colour stays
        if row["colour"] == DEFAULT_BAR:
            row["colour"] = brand["bar"]
    return context


def _trend_chart(trend: list[TrendEntry], bar_colour: str = DEFAULT_BAR) -> dict:
    values = [v for item in trend for v in (item["created"], item["resolved"]) if v is not None]
    largest = max(values, default=0)
    height = 96
    columns = []
    for index, item in enumerate(trend):
        column: dict[str, Any] = {"label": month_name(item["month"], short=True), "current": index == len(trend) - 1, "bars": []}
        for value, colour in ((item["created"], bar_colour), (item["resolved"], "#0f766e")):
            px = max(2, round(height * value / largest)) if value and largest else (2 if value == 0 else 0)
            column["bars"].append({"value": "–" if value is None else format_count(value), "px": px, "colour": colour, "known": value is not None, "pad": height - px})
        columns.append(column)
    has_resolved = any(item["resolved"] is not None for item in trend[:-1])
    return {
        "columns": columns,
        "height": height,
        "has_data": bool(largest),
        "resolved_partial": not has_resolved,
        "caption": wording.trend_caption(trend),
        "sla_line": sla_line(trend),  # months with a stored report carry their on-time rate (utils.reporting.history_view)
        "rows": [{"month": month_name(i["month"]), "created": format_count(i["created"]), "resolved": format_count(i["resolved"])} for i in trend],
    }


def _sla(metrics: Metrics, details: ReportDetails) -> list[dict]:
    rows = []
    sla = metrics["sla"]
    for key, name, figures in (("first_response", "First reply", sla["first_response"]), ("resolution", "Resolution", sla["resolution"])):
        measured = figures["met"] + figures["breached"]
        met_width = round(100 * figures["met"] / measured) if measured else 0
        rows.append({
            "name": name,
            "measured": measured,
            "met": format_count(figures["met"]),
            "breached": format_count(figures["breached"]),
            "rate": format_pct(figures["rate"]),
            "met_width": met_width,
            "breached_width": 100 - met_width,
            "note": wording.sla_note(key, details),
        })
    return rows


def _bar_rows(counts: Mapping[str, int], limit: int = BREAKDOWN_ROWS) -> list[dict]:
    items = list(counts.items())
    if len(items) > limit:
        other = sum(n for _, n in items[limit - 1:])
        items = items[: limit - 1] + [(wording.other_label(len(counts) - limit + 1), other)]
    largest = max((n for _, n in items), default=0)
    return [{"label": truncate(label, 40), "value": format_count(n), **bar_widths(n, largest)} for label, n in items]


def _breakdowns(metrics: Metrics) -> list[dict]:
    breakdown = metrics["breakdown"]
    priority = dict(sorted(breakdown["priority"].items(), key=lambda item: priority_rank(item[0])))
    return [
        {"title": "Category", "rows": _bar_rows(breakdown["category"])},
        {"title": "Priority", "rows": _bar_rows(priority)},
        {"title": "Type", "rows": _bar_rows(breakdown["type"])},
        {"title": "Channel", "rows": _bar_rows(breakdown["source"])},
    ]


def _requesters(metrics: Metrics, details: ReportDetails) -> dict:
    rows = metrics["top_requesters"]
    largest = max((r["tickets"] for r in rows), default=0)
    return {
        "rows": [{"name": truncate(r["name"], 40), "value": format_count(r["tickets"]), **bar_widths(r["tickets"], largest)} for r in rows],
        "reason": wording.requesters_reason(rows, details["requester_names_missing"]),
    }


def _time(metrics: Metrics, details: ReportDetails) -> dict:
    time_spent = metrics["time"]
    if time_spent["total_minutes"] is None:
        return {"available": False, "reason": wording.NO_TIME}
    by_agent = time_spent["by_agent"]
    largest = max((v["total_minutes"] for v in by_agent.values()), default=0)
    rows = [
        {"name": truncate(name, 32), "total": format_hours(v["total_minutes"]), "billable": format_hours(v["billable_minutes"]),
         **bar_widths(v["total_minutes"], largest)}
        for name, v in list(by_agent.items())[:TIME_AGENT_ROWS]
    ]
    return {
        "available": True,
        **wording.time_lead(metrics, details),
        "rows": rows,
        "more": wording.more_agents(len(by_agent) - len(rows)),
        "reason": wording.AGENT_NAMES_MISSING if details["agent_names_missing"] else "",
    }


def _csat(metrics: Metrics, details: ReportDetails, settings: ReportSettings) -> dict:
    csat = metrics["csat"]
    if not csat["responses"]:
        return {"available": False, "reason": wording.NO_CSAT}
    largest = max(csat["positive"], csat["neutral"], csat["negative"])
    rows = [
        {"label": label, "value": format_count(value), "colour": colour, **bar_widths(value, largest)}
        for value, label, colour in ((csat["positive"], "Positive", "#2f855a"), (csat["neutral"], "Neutral", "#8a6d1d"),
                                     (csat["negative"], "Negative", "#c53030"))
    ]
    texts = details["csat_comment_texts"][:CSAT_COMMENTS_SHOWN] if settings.show_csat_comments else []
    return {
        "available": True,
        "lead": wording.csat_lead(metrics, details),
        "rows": rows,
        "comment_texts": [truncate(text, 300) for text in texts],
    }


def _backlog(metrics: Metrics, details: ReportDetails) -> dict:
    ageing = metrics["ageing"]
    buckets = ((ageing["lt_1d"], "Under 1 day", False), (ageing["1_3d"], "1–3 days", False), (ageing["3_7d"], "3–7 days", False),
               (ageing["7_30d"], "1–4 weeks", False), (ageing["30_90d"], "1–3 months", True), (ageing["ge_90d"], "Over 3 months", True))
    largest = max(value for value, _, _ in buckets)
    rows = [{"label": label, "value": format_count(value), "colour": "#c05621" if old else "#2b6cb0", **bar_widths(value, largest)}
            for value, label, old in buckets]
    return {
        "total": metrics["volume"]["open_at_end"],
        "next_month": f"{parse_local(metrics['period']['end']):%B}",
        "lead": wording.backlog_lead(metrics, details),
        "rows": rows,
    }


def _recent(metrics: Metrics) -> dict:
    rows = []
    for item in metrics["recent_tickets"]:
        rows.append({
            "id": item["id"],
            "subject": truncate(item["subject"], SUBJECT_MAX),
            "status": truncate(item["status_text"], 24),
            "priority": item["priority_text"],
            "opened": short_date(item["created_at"]),
            "resolved": short_date(item["resolved_at"]),
            "time": format_duration(item["resolution_s"]) if item["resolution_s"] is not None else "—",
        })
    return {"rows": rows, "more": wording.recent_more(metrics["volume"]["created"] - len(rows))}


# ---------------------------------------------------------------------------------------------
# Rendering


def template_environment(directory: Path, html: bool = True) -> jinja2.Environment:
    """Jinja2 with undefined variables as errors, and autoescaping on for HTML (whatever the file is called)."""
    # A restyled template kept elsewhere still finds the stock section partials (sections/*).
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(directory)), jinja2.FileSystemLoader(str(TEMPLATES_DIR))]),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _locate_template(template: str | Path) -> tuple[Path, str]:
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


def render_template(template: str | Path, context: dict, html: bool = True) -> str:
    """Render one template with the context (every string one clean line); a missing or failing template is a one-line DataError."""
    directory, name = _locate_template(template)
    environment = template_environment(directory, html=html)
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


def compact_html(html: str) -> str:
    """Drop the template's indentation: it is pure weight against Gmail's ~102 KB clipping limit."""
    return _INDENT.sub("\n", html)


def inline_css(html: str) -> str:
    """Move the template's CSS into style attributes for email clients (premailer, never the network), tidied."""
    from premailer import Premailer  # imported here: it is slow to import and only the HTML needs it

    inlined = Premailer(
        html,
        strip_important=False,  # keep !important inside @media (the phone layout)
        allow_network=False,  # never fetch <link> CSS from a cron job
        cssutils_logging_level=logging.CRITICAL,  # silence "Unknown Property name" noise
    ).transform(pretty_print=False)
    return tidy_inlined_html(inlined)


def build_outputs(raw: dict, template: str | Path = DEFAULT_TEMPLATE, settings: ReportSettings | None = None,
                  extra_raw: Mapping[str, dict] | None = None, source_failures: Mapping[str, str] | None = None,
                  history: History | None = None) -> tuple[str, str, Metrics]:
    """The inlined HTML email, its plain-text version and the metrics JSON for one raw data dictionary.

    `extra_raw` holds the other sources' raw files for the same client and month ({source name: raw},
    see utils.reporting.sources); `source_failures` says why a source could not be pulled this month;
    `history` the client's earlier months as stored (utils.history.load_history).
    Without `settings`, they are read from integoreport.toml and the environment (utils.core.settings).
    """
    settings = settings or load_settings().report
    result = compute_report_data(raw, settings.metrics, csat_comment_text=settings.show_csat_comments, history=history)
    # The sources' keys (m365, s1) are optional keys of Metrics; the registry hands them over as a plain dict.
    cast(dict[str, Any], result.metrics).update(compute_sections(extra_raw or {}))
    # Attention reads the other sources' sections too, so it is counted again once they are in.
    result.metrics["attention"] = attention_items(result.metrics, result.details["waiting_on_client"])
    context = build_context(result.metrics, result.details, settings)
    context["source_sections"], sentences, context["source_notes"] = section_views(result.metrics, source_failures)
    if sentences:
        context["summary"].append(" ".join(sentences))
    html = inline_css(compact_html(render_template(template, context)))
    text = render_template(TEXT_TEMPLATE, context, html=False)
    return html, text, result.metrics


def render_index(period: Any, clients: list[dict]) -> str:
    """The MSP's own index of a batch run: one row per client with its headline numbers and a link to its report.

    `period` has a `label` (attribute or key); each client row is a dict with `client` ({"id", "name"}),
    `report` (the report's file name beside the index, or None), `metrics` (the metrics JSON or None),
    `tickets` (tickets in the raw data), `error` (why the client failed, or None) and optionally
    `steps_failed` ({source or step name: why it failed} for a client whose report was built) and
    `delivery` (the client's entry in the month's delivery.json, once send_reports.py has run).
    """
    from urllib.parse import quote

    label = getattr(period, "label", None) or (period.get("label") if isinstance(period, Mapping) else None) or str(period)
    rows = []
    for item in clients:
        client = item.get("client") or {}
        metrics = item.get("metrics")
        name = str(client.get("name") or f"Client {client.get('id')}")
        if metrics:
            volume = metrics["volume"]
            numbers = [
                format_count(volume["created"]), format_count(volume["resolved"]), format_count(volume["open_at_end"]),
                format_pct(metrics["sla"]["resolution"]["rate"]),
                format_pct(metrics["csat"]["positive"] / metrics["csat"]["responses"]) if metrics["csat"]["responses"] else "n/a",
                format_hours(metrics["time"]["total_minutes"]),
            ]
        else:
            numbers = ["–"] * 6
        error = item.get("error")
        # A source or step that failed for this client (utils/monthly/batch.py) is named beside "built".
        step_notes = "".join(f"; {name} failed: {detail}" for name, detail in (item.get("steps_failed") or {}).items())
        delivery_note, delivery_alert = _delivery_note(item.get("delivery"))
        rows.append({
            "name": name,
            "href": quote(str(item["report"])) if item.get("report") else None,
            "numbers": numbers,
            "error": bool(error),
            "alert": delivery_alert,
            "status": (f"failed: {error}" if error else "built" + step_notes) + delivery_note,
        })
    return render_template(INDEX_TEMPLATE, {
        "label": label, "rows": rows, "done": sum(1 for r in rows if not r["error"]), "failed": sum(1 for r in rows if r["error"]),
        "headings": ["Client", "New", "Resolved", "Open at end", "Resolved on time", "Positive ratings", "Hours", "Status"],
    })


_DELIVERY_WORDS = {"sent": "emailed", "partial": "email partly refused", "failed": "email not sent",
                   "unknown": "email outcome unknown"}


def _delivery_note(entry: Any) -> tuple[str, bool]:
    """"; emailed 2026-11-02" for the index row, and whether it needs the MSP's attention (anything but sent)."""
    if not isinstance(entry, Mapping) or entry.get("outcome") not in _DELIVERY_WORDS:
        return "", False
    outcome = str(entry["outcome"])
    when = str(entry.get("at") or "")[:10]
    refused = entry.get("refused") or []
    detail = f": {len(refused)} refused" if outcome == "partial" and isinstance(refused, list) else (
        " (check the inbox, then send_reports.py --resend)" if outcome == "unknown" else "")
    held = entry.get("held")
    if outcome == "unknown" and isinstance(held, str) and held:  # Mailchimp holds it for the account (queued_reason)
        return (f"; email held by Mailchimp ({truncate(held, 80)}) {when} (fix the account, check its activity log, "
                "then decide on send_reports.py --resend)"), True
    return f"; {_DELIVERY_WORDS[outcome]} {when}{detail}".rstrip(), outcome != "sent"


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
