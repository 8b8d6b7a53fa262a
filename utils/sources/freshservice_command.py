"""Freshservice's commands, by hand: one client's month (data_pullers/freshservice.py) and the client list
(utils/client_manager.py), each reading the settings with every declared source's table, so the whole
file is checked as every script checks it. The work is utils.services.freshservice_pull's and client_list's.
"""

from __future__ import annotations

from utils.services import client_list, freshservice_pull
from utils.sources import settings_tables


def main(argv: list[str] | None = None) -> int:
    """python data_pullers/freshservice.py CLIENT_ID [--month YYYY-MM] ..."""
    return freshservice_pull.main(argv, tables=settings_tables())


def list_clients_main(argv: list[str] | None = None) -> int:
    """python utils/client_manager.py [--url URL]"""
    return client_list.main(argv, tables=settings_tables())
