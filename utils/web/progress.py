"""A run's progress per client and data source, for its page.

While the run goes, a client's state is read from the batch's one summary line per client
("<name>: N tickets, ..." or "<name> (<id>) failed: ..."); once a client is in the month's index
(reports/<YYYY-MM>/index.json, written by the batch), the index is the truth, with each source's failure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from utils.core.errors import IntegoError
from utils.core.settings import load_settings
from utils.sources import settings_tables
from utils.web import home_data
from utils.web.jobs import Job


def client_progress(home: Path, job: Job, lines: list[str], demo: bool) -> list[dict[str, Any]]:
    """One row per client of the run: name, state (waiting, running, done, failed), detail, report and sources."""
    clients = home_data.read_clients(home)
    if job.client_ids:
        clients = [client for client in clients if client["id"] in job.client_ids]
    indexed = {str(row["client"]["id"]): row for row in home_data.month_rows(home, job.month)} if job.month and not job.running else {}
    try:
        settings = load_settings(home, tables=settings_tables())
    except IntegoError:
        settings = None
    rows: list[dict[str, Any]] = []
    started_one = False
    for client in clients:
        state, detail = _from_lines(client, lines)
        row = indexed.get(client["id"])
        if row is not None and state != "waiting":
            state, detail = ("failed", row.get("error")) if row.get("error") else ("done", detail)
        elif state == "waiting" and job.running and not started_one:
            state = "running"
        started_one = started_one or state == "running"
        if state == "waiting" and not job.running:
            state, detail = "not reached", "the run ended before this client"
        names = home_data.client_sources(settings, client["id"], demo) if settings else ("Freshservice",)
        failed = (row or {}).get("steps_failed") or {}
        sources = [(name, _source_state(name, state, failed)) for name in names]
        rows.append({"id": client["id"], "name": client["name"], "state": state, "detail": detail,
                     "report": (row or {}).get("report") if state == "done" else None, "sources": sources})
    return rows


def _from_lines(client: dict, lines: list[str]) -> tuple[str, str | None]:
    done_prefix, failed_prefix = f"{client['name']}: ", f"{client['name']} ({client['id']}) failed: "
    for line in reversed(lines):
        if line.startswith(f"error: {failed_prefix}") or line.startswith(failed_prefix):
            return "failed", line.split(" failed: ", 1)[1]
        if line.startswith(done_prefix) and " ticket" in line:
            return "done", line[len(done_prefix):]
    return "waiting", None


def _source_state(name: str, client_state: str, failed: dict[str, str]) -> str:
    titles = home_data.source_titles()
    for key, reason in failed.items():
        if titles.get(key, key) == name:
            return f"failed: {reason}"
    return {"done": "ok", "failed": "-", "running": "...", "waiting": "", "not reached": ""}[client_state]
