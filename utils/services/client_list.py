"""Write companies_list.json: the MSP's clients (Freshservice departments, called companies in MSP mode,
or the client workspaces of the Freshservice for MSPs edition).

    python utils/client_manager.py [--url URL]

The command itself (its --url, the settings, the client) is utils/sources/freshservice_command.py.
"""

from __future__ import annotations

import logging
from pathlib import Path

from utils.core.errors import ForbiddenError, NotFoundError
from utils.core.files import write_json_atomic
from utils.core.home import COMPANIES_FILE
from utils.services.freshservice_client import FreshserviceClient

log = logging.getLogger(__name__)

MSP_WORKSPACE_ID = 3  # Freshservice for MSPs: the MSP's own workspace, never a client to report on


def fetch_client_workspaces(client: FreshserviceClient) -> list[dict] | None:
    """The client workspaces of a Freshservice for MSPs account; None on a classic account.

    A classic account answers /workspaces with 404 (or 403), or lists only business workspaces
    (IT, HR, ...): only the MSP edition has workspaces of type "client".
    """
    try:
        workspaces = [w for w in client.paginate("workspaces", "workspaces") if isinstance(w, dict)]
    except (NotFoundError, ForbiddenError):
        return None
    clients = [w for w in workspaces if w.get("type") == "client"]
    if not clients:
        return None
    return [w for w in clients if str(w.get("id")) != str(MSP_WORKSPACE_ID)]


def fetch_clients(client: FreshserviceClient) -> list[dict]:
    """The account's clients as `{"id", "name", "entity_type"}`, sorted by name.

    On the Freshservice for MSPs edition every client is a workspace (never workspace 3, the MSP
    itself). Otherwise `/companies` is tried first, as the original design did, so an account that
    has it keeps working; the documented API answers 404 there and serves the clients as departments.
    """
    entity_type = "workspace"
    records = fetch_client_workspaces(client)
    if records is None:
        entity_type = "company"
        try:
            records = list(client.paginate("companies", "companies"))
        except NotFoundError:
            records = []
    if not records and entity_type == "company":
        entity_type = "department"
        records = list(client.paginate("departments", "departments"))
    clients = [
        {"id": record["id"], "name": str(record.get("name") or f"Client {record['id']}"), "entity_type": entity_type}
        for record in records
        if isinstance(record, dict) and record.get("id") is not None
    ]
    return sorted(clients, key=lambda c: (c["name"].casefold(), str(c["id"])))


def write_companies_list(home: Path, clients: list[dict]) -> Path:
    """Replace companies_list.json in `home` atomically (a corrupt old file is simply replaced)."""
    return write_json_atomic(home / COMPANIES_FILE, clients)


def refresh_companies_list(client: FreshserviceClient, home: Path) -> tuple[list[dict], Path]:
    """Fetch the clients and write them; return both."""
    clients = fetch_clients(client)
    return clients, write_companies_list(home, clients)


def refresh_and_report(client: FreshserviceClient, home: Path) -> Path:
    """The command's work (utils/client_manager.py): the clients fetched and written, with one line saying what was found."""
    clients, path = refresh_companies_list(client, home)
    kind = {"company": "companies", "department": "departments", "workspace": "workspaces"}[clients[0]["entity_type"]] if clients else "clients"
    log.info("Found %d clients (%s); wrote %s", len(clients), kind, path)
    return path
