"""The month's index for the MSP: reports/<YYYY-MM>/index.html, one row per client reported for the month.

Its rows are kept in index.json beside it, so a run of some clients (`pull_info.py --client ID`)
updates their rows and keeps everyone else's. A row is `{"client": {"id", "name"}, "report": the
report's file name or None, "tickets", "error": why the client failed or None, "steps_failed":
{source or step: why}}`; the headline numbers come from the metrics file beside each report.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from utils.core.errors import DataError
from utils.core.files import is_valid_id, read_json, safe_child, write_json_atomic, write_text_atomic
from utils.core.period import Period
from utils.delivery.outbound import read_outcomes
from utils.reporting.index_view import attention_cell, columns, needs_a_look_first, security_figures, ticket_figures
from utils.reporting.report_format import truncate
from utils.reporting.report_render import render_template

log = logging.getLogger(__name__)

INDEX_RECORD = "index.json"
METRICS_FILE_NAME = re.compile(r"^[a-z0-9-]+-([0-9]+)\.json$")  # reports/<YYYY-MM>/<slug>-<CLIENT_ID>.json


def write_month_index(reports_dir: Path, period: Period, records: list[dict], this_run_only: Sequence[dict] = ()) -> Path:
    """Merge `records` (this run's clients) into the month's index and write index.json and index.html.

    `this_run_only` rows (ids that name no client) are shown this once and never kept.
    """
    merged = {str(r["client"]["id"]): r for r in previous_records(reports_dir)}
    for record in records:
        merged[str(record["client"]["id"])] = record
    kept = sorted(merged.values(), key=lambda r: (str(r["client"].get("name")).casefold(), str(r["client"]["id"])))
    write_json_atomic(reports_dir / INDEX_RECORD, kept)
    delivered = read_outcomes(reports_dir)  # send_reports.py's record: each client's email outcome
    return write_text_atomic(reports_dir / "index.html", render_index(period, [
        {**index_row(reports_dir, r), "delivery": delivered.get(str(r["client"]["id"]))} for r in [*this_run_only, *kept]]))


def previous_records(reports_dir: Path) -> list[dict]:
    """The month's index as an earlier run left it: index.json, else the metrics files of built reports."""
    path = reports_dir / INDEX_RECORD
    if path.exists():
        try:
            records = read_json(path, "index record")
            if isinstance(records, list) and all(isinstance(r, dict) and isinstance(r.get("client"), dict)
                                                 and is_valid_id(r["client"].get("id")) for r in records):
                return records
            log.warning("%s is not an index record; rebuilding the index from the reports in %s", path, reports_dir)
        except DataError as exc:
            log.warning("%s; rebuilding the index from the reports in %s", exc, reports_dir)
    records = []
    for metrics_path in sorted(reports_dir.glob("*-*.json")):
        match = METRICS_FILE_NAME.match(metrics_path.name)
        report = metrics_path.with_suffix(".html")
        if match is None or not report.exists():
            continue
        try:
            client = read_json(metrics_path, "metrics file").get("client") or {}
        except (DataError, AttributeError):
            continue
        records.append({"client": {"id": match.group(1), "name": str(client.get("name") or f"Client {match.group(1)}")},
                        "report": report.name, "tickets": None, "error": None, "steps_failed": {}})
    return records


def index_row(reports_dir: Path, record: dict) -> dict:
    """One row as render_index wants it, with the headline numbers from the client's metrics file."""
    metrics = None
    report = record.get("report")
    if report and not record.get("error"):
        try:
            metrics = read_json(safe_child(reports_dir, str(report)).with_suffix(".json"), "metrics file")
        except DataError:
            metrics = None
    return {**record, "metrics": metrics if isinstance(metrics, dict) else None}


INDEX_TEMPLATE = "index_template.html"


def render_index(period: Any, clients: list[dict]) -> str:
    """The MSP's own index of a batch run: one row per client with its headline numbers and a link to its report.

    `period` has a `label` (attribute or key); each client row is a dict with `client` ({"id", "name"}),
    `report` (the report's file name beside the index, or None), `metrics` (the metrics JSON or None),
    `tickets` (tickets in the raw data), `error` (why the client failed, or None) and optionally
    `steps_failed` ({source or step name: why it failed} for a client whose report was built) and
    `delivery` (the client's entry in the month's delivery.json, once send_reports.py has run).
    """
    label = getattr(period, "label", None) or (period.get("label") if isinstance(period, Mapping) else None) or str(period)
    rows: list[dict[str, Any]] = []
    for item in clients:
        client = item.get("client") or {}
        metrics = item.get("metrics") or None
        error = item.get("error")
        # A source or step that failed for this client (utils/monthly/batch.py) is named beside "built".
        step_notes = "".join(f"; {name} failed: {detail}" for name, detail in (item.get("steps_failed") or {}).items())
        delivery_note, delivery_alert = _delivery_note(item.get("delivery"))
        rows.append({
            "name": str(client.get("name") or f"Client {client.get('id')}"),
            "href": quote(str(item["report"])) if item.get("report") else None,
            "figures": {**ticket_figures(metrics), **security_figures(metrics)},
            "attention": attention_cell(metrics),
            "error": bool(error),
            "alert": delivery_alert,
            "status": (f"failed: {error}" if error else "built" + step_notes) + delivery_note,
        })
    rows.sort(key=needs_a_look_first)
    return render_template(INDEX_TEMPLATE, {
        "label": label, "rows": rows, "done": sum(1 for r in rows if not r["error"]), "failed": sum(1 for r in rows if r["error"]),
        "columns": columns(rows), "needing": sum(1 for r in rows if r["error"] or r["alert"] or r["attention"]["count"] > 0),
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
