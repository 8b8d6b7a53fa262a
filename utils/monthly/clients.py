"""Which clients a run pulls: companies_list.json (refreshed when due) and the ids asked for."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path

from utils.core.errors import DataError
from utils.core.files import is_valid_id, read_json
from utils.core.home import COMPANIES_FILE
from utils.monthly.state import ClientOutcome, RunSummary
from utils.services.client_list import refresh_companies_list
from utils.services.freshservice_client import FreshserviceClient

log = logging.getLogger(__name__)

COMPANIES_MAX_AGE = timedelta(days=7)


def load_clients(client: FreshserviceClient, home: Path, refresh: bool) -> list[dict]:
    """companies_list.json, refreshed first when asked, missing, older than a week, or corrupt."""
    path = home / COMPANIES_FILE
    reason = "asked to" if refresh else None
    if reason is None and not path.exists():
        reason = "it is missing"
    # The real clock, not INTEGOREPORT_NOW: it is compared with the file's real modification time.
    elif reason is None and time.time() - path.stat().st_mtime > COMPANIES_MAX_AGE.total_seconds():
        reason = "it is older than a week"
    clients: list[dict] = []
    if reason is None:
        try:
            clients = read_json(path, "client list")
            if not isinstance(clients, list) or not all(isinstance(c, dict) and "id" in c for c in clients):
                raise DataError("not a list of clients")
        except DataError as exc:
            log.warning("%s is corrupt (%s); refreshing it", path, exc)
            reason = "it was corrupt"
    if reason is not None:
        clients, path = refresh_companies_list(client, home)
        log.info("Refreshed %s (%s): %d clients", path.name, reason, len(clients))
    return clients


def select_clients(clients: list[dict], client_ids: list[str] | None, summary: RunSummary) -> list[dict]:
    """The clients to pull: every one, or those asked for (each once); unknown or unusable ids are failed outcomes."""
    if client_ids:
        known = {str(c["id"]): c for c in clients}
        selected = []
        for client_id in dict.fromkeys(client_ids):  # a duplicate --client is pulled once
            if client_id in known:
                selected.append(known[client_id])
            else:
                log.error("unknown client id %s: not in %s (try --refresh-clients)", client_id, COMPANIES_FILE)
                summary.outcomes.append(ClientOutcome({"id": client_id, "name": f"Client {client_id}"},
                                                      error=f"unknown client id {client_id}", known=False))
        clients = selected
    usable = []
    for entry in clients:
        if is_valid_id(entry.get("id")):
            usable.append(entry)
        else:
            # An id names raw and report files: one that is not plain digits could lead them out of their folder.
            reason = f"the client id {str(entry.get('id'))!r} from the server is not a number; skipped"
            log.error("%s: %s", entry.get("name"), reason)
            summary.outcomes.append(ClientOutcome({"id": str(entry.get("id")), "name": str(entry.get("name"))}, error=reason, known=False))
    return usable
