"""What the pages show, read from the files the scripts write in the home, never from the browser's words.

The client list (companies_list.json), each month's index (reports/<YYYY-MM>/index.json), its
delivery record (delivery.json), the built reports and the settings. A client is a number found in
the client list; a report file is one found by listing the month's folder; a month is a folder name
that parses as a month. Anything else is "not found".
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from utils.core.errors import DataError
from utils.core.files import is_valid_id, read_json, read_regular_bytes
from utils.core.home import COMPANIES_FILE, REPORTS_DIR
from utils.core.secrets import MAILCHIMP_KEY, SMTP_PASSWORD, SecretSpec
from utils.core.settings import Settings
from utils.delivery.outbound import OUTBOX_DIR, BuiltReport, find_reports, read_outcomes
from utils.reporting.month_index import previous_records
from utils.sources import declared_sources

MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".txt": "text/plain; charset=utf-8",
                 ".json": "application/json", ".eml": "message/rfc822"}


@dataclass(frozen=True)
class ClientRow:
    """One client as the client page shows it."""

    id: str
    name: str
    sources: tuple[str, ...]
    to: tuple[str, ...]
    cc: tuple[str, ...]
    send: bool
    last_month: str | None
    last_report: str | None
    last_outcome: dict[str, Any] | None


def read_clients(home: Path) -> list[dict]:
    """companies_list.json's clients with a valid id (an empty list when it is missing or unreadable)."""
    try:
        clients = read_json(home / COMPANIES_FILE, "client list")
    except DataError:
        return []
    if not isinstance(clients, list):
        return []
    return [{"id": str(c["id"]), "name": str(c.get("name") or f"Client {c['id']}")}
            for c in clients if isinstance(c, dict) and is_valid_id(c.get("id"))]


def client_name(home: Path, client_id: str) -> str | None:
    """The client's name when `client_id` is in the client list, else None (the page answers 404)."""
    return next((c["name"] for c in read_clients(home) if c["id"] == client_id), None)


def months(home: Path) -> list[str]:
    """The months with a reports folder, newest first."""
    folder = home / REPORTS_DIR
    if not folder.is_dir():
        return []
    return sorted((entry.name for entry in folder.iterdir() if MONTH.match(entry.name) and entry.is_dir()), reverse=True)


def month_folder(home: Path, month: str) -> Path:
    return home / REPORTS_DIR / month


def month_rows(home: Path, month: str) -> list[dict]:
    """The month's index rows (index.json, else the built reports), each with its delivery outcome."""
    folder = month_folder(home, month)
    if not folder.is_dir():
        return []
    outcomes = read_outcomes(folder)
    return [{**row, "delivery": outcomes.get(str(row["client"]["id"]))} for row in previous_records(folder)]


def report_of(home: Path, month: str, client_id: str) -> BuiltReport | None:
    return find_reports(month_folder(home, month)).get(client_id)


def source_titles() -> dict[str, str]:
    """Each declared source's title by its name (the index's step names)."""
    return {source.name: source.title for source in declared_sources()}


def client_sources(settings: Settings, client_id: str, demo: bool = False) -> tuple[str, ...]:
    """The data sources a run pulls for the client: the required one (Freshservice), and the others its settings configure."""
    return tuple(source.title for source in declared_sources()
                 if source.required or demo or (source.enabled(settings) and source.client_value(settings, client_id)))


def client_rows(home: Path, settings: Settings, demo: bool = False) -> list[ClientRow]:
    """Every client in the list with its sources, recipients, newest report and that report's delivery outcome."""
    newest: dict[str, tuple[str, BuiltReport]] = {}
    outcomes: dict[str, dict[str, dict[str, Any]]] = {}
    for month in reversed(months(home)):  # oldest first, so the newest month wins
        for client_id, report in find_reports(month_folder(home, month)).items():
            newest[client_id] = (month, report)
        outcomes[month] = read_outcomes(month_folder(home, month))
    rows = []
    for client in read_clients(home):
        own = settings.client(client["id"])
        found = newest.get(client["id"])
        last_month = found[0] if found else None
        outcome = outcomes[last_month].get(client["id"]) if last_month else None
        rows.append(ClientRow(client["id"], client["name"], client_sources(settings, client["id"], demo), own.to, own.cc,
                              own.send, last_month, found[1].html_path.name if found else None, outcome))
    return rows


def month_files(home: Path, month: str) -> dict[str, Path]:
    """{file name: path} of the files the interface may serve from a month: the index, reports and their .eml."""
    folder = month_folder(home, month)
    files: dict[str, Path] = {}
    if (folder / "index.html").is_file():
        files["index.html"] = folder / "index.html"
    for report in find_reports(folder).values():
        for path in (report.html_path, report.text_path, report.html_path.with_suffix(".json"), folder / OUTBOX_DIR / report.outbox_name):
            if path.is_file():
                files[path.name] = path
    return files


def read_served_file(home: Path, path: Path) -> bytes:
    """The bytes of a file found by `month_files`, only when it really lies under the home's reports folder."""
    reports = (home / REPORTS_DIR).resolve()
    if not path.resolve().is_relative_to(reports):
        raise DataError(f"{path.name} is not in the reports folder")
    return read_regular_bytes(path, "report")  # never through a symbolic link


def secret_specs() -> tuple[SecretSpec, ...]:
    """Every secret: each declared source's own (from its settings table), in the declared order, then delivery's."""
    own = tuple(source.settings.secret for source in declared_sources() if source.settings is not None and source.settings.secret)
    return (*own, SMTP_PASSWORD, MAILCHIMP_KEY)


def secret_sources(home: Path) -> list[tuple[str, str]]:
    """(what, where it is set) for every secret; the values are never read here, only whether they exist."""
    shown = []
    for spec in secret_specs():
        what, variable, file_name = spec.what[0].upper() + spec.what[1:], spec.env_var, spec.file_name
        if os.environ.get(variable, "").strip():
            where = f"set in the environment ({variable})"
        elif (home / file_name).is_file() and (home / file_name).stat().st_size > 0:
            where = f"set in {file_name} in the home"
        else:
            where = f"not set ({variable} or {file_name})"
        shown.append((what, where))
    return shown


def settings_rows(settings: Settings) -> list[tuple[str, str]]:
    """The settings worth seeing, as (name, value) text; none of them is a secret."""
    report, delivery = settings.report, settings.delivery
    # The required source (the helpdesk, the report's main body) comes first, the optional ones after the report's own.
    shown = [(source.required, source.title, source.shown(settings)) for source in declared_sources() if source.shown is not None]
    rows = [("settings file", str(settings.path) + ("" if settings.path.exists() else " (not found: defaults)")),
            ("home", str(settings.home)),
            *((title, text) for required, title, text in shown if required),
            ("MSP name", report.msp_name), ("time zone", report.timezone or "the machine's"),
            *((title, text) for required, title, text in shown if not required)]
    if delivery is None:
        rows.append(("delivery", "not configured ([delivery] in integoreport.toml)"))
    else:
        how: str = delivery.method
        if delivery.smtp is not None:
            how += f" via {delivery.smtp.host}:{delivery.smtp.port} ({delivery.smtp.security})"
        rows += [("delivery", how), ("from", delivery.from_address), ("subject", delivery.subject),
                 ("bcc", ", ".join(delivery.bcc) or "none")]
    return rows
