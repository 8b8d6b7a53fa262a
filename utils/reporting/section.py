"""A data source's part in the report: its metrics, how they are worded, its templates; and attention rules.

The reporting engine knows no source by name: `compute_report_data` and `build_outputs` are handed
the sections (the declared sources' `report`, utils.sources) and the attention rules, and loop over
them here. Without any, the report is the Freshservice body alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from utils.core.errors import DataError
from utils.core.lookup import count_or_none, dig
from utils.reporting.metrics_types import AttentionItem
from utils.reporting.report_wording import period_words

STOCK_SECTIONS = "sections"  # templates/sections/<name>.html and .txt
SECTION_PREFIX = "section-"  # a section with its own template folder is loaded as section-<name>/<name>.html


@dataclass(frozen=True)
class AttentionRule:
    """One kind of "Needs your attention" item: its place in the list, its count, its sentence."""

    kind: str  # the item's `kind` in the metrics JSON, e.g. "admins_without_mfa"
    rank: int  # the list's order, most urgent first (lower first)
    count: Callable[[Mapping[str, Any]], int | None]  # from the whole metrics JSON; None: not measurable
    text: Callable[[int], str]  # the sentence for a count above 0


@dataclass(frozen=True)
class ReportSection:
    """A source's section: raw file -> metrics under `key` -> the template's view and the summary sentence."""

    name: str  # raw_data/<name>_<CLIENT_ID>.json; templates <templates>/<name>.html and .txt
    key: str  # its key in the metrics JSON
    title: str  # how the report and the index name it
    compute: Callable[[dict], dict]
    context: Callable[[dict], dict]
    summary: Callable[[dict], str | None]
    templates: Path | None = None  # the folder of its section templates; None: templates/sections


def section_template(section: ReportSection) -> str:
    """The name the main templates include (plus .html or .txt): stock sections/<name>, else from its own folder."""
    if section.templates is None:
        return f"{STOCK_SECTIONS}/{section.name}"
    return f"{SECTION_PREFIX}{section.name}/{section.name}"


def own_template_folders(sections: Iterable[ReportSection]) -> dict[str, Path]:
    """{loader prefix: folder} of the sections that bring their own templates."""
    return {f"{SECTION_PREFIX}{section.name}": section.templates for section in sections if section.templates is not None}


def one_of(count: int, singular: str, plural: str) -> str:
    """An attention sentence for `count`: `singular` for 1, else `plural` with {n} as the count (1,234)."""
    return singular.format(n=f"{count:,}") if count == 1 else plural.format(n=f"{count:,}")


def count_at(*path: str) -> Callable[[Mapping[str, Any]], int | None]:
    """A rule's count read from one place in the metrics JSON: a whole number, else None (not measurable)."""
    return lambda metrics: count_or_none(dig(metrics, *path))


def attention_items(rules: Sequence[AttentionRule], metrics: Mapping[str, Any]) -> list[AttentionItem]:
    """The `attention` list: every rule whose count is above 0, most urgent (lowest rank) first.

    A source that is not configured (no section key) or could not read a figure (null) contributes nothing.
    """
    items: list[AttentionItem] = []
    for rule in sorted(rules, key=lambda rule: rule.rank):
        count = rule.count(metrics)
        if count is not None and count > 0:
            items.append({"kind": rule.kind, "count": count, "text": rule.text(count)})
    return items


def compute_sections(sections: Sequence[ReportSection], extra_raw: Mapping[str, dict]) -> dict[str, dict]:
    """{metrics key: section metrics} for every section whose raw file is in `extra_raw` ({name: raw})."""
    computed: dict[str, dict] = {}
    for section in sections:
        raw = extra_raw.get(section.name)
        if raw is None:
            continue
        try:
            computed[section.key] = section.compute(raw)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DataError(f"{section.title} raw data does not fit ({type(exc).__name__}: {exc})") from None
    return computed


def section_views(sections: Sequence[ReportSection], metrics: Mapping[str, Any],
                  failures: Mapping[str, str] | None = None) -> tuple[list[dict], list[str], list[str]]:
    """(sections for the templates, summary sentences, notes on sources that could not be read).

    A section's `context` and `summary` see its figures plus `report_period`, the report's period block, so that
    they word the period as the report does (report_wording.period_words: "this month", "this quarter").
    """
    views: list[dict] = []
    sentences: list[str] = []
    notes: list[str] = []
    period = metrics.get("period")
    for section in sections:
        figures = metrics.get(section.key)
        if figures is not None:
            figures = {**figures, "report_period": period} if period is not None else figures
            views.append({"name": section.name, "title": section.title, "template": section_template(section),
                          "view": section.context(figures)})
            sentence = section.summary(figures)
            if sentence:
                sentences.append(sentence)
        elif failures and section.name in failures:
            notes.append(f"The {section.title} data could not be read {period_words(period)['this']}: {failures[section.name]}")
    return views, sentences, notes
