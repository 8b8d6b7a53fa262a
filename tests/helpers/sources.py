"""Small data sources for tests, declared as utils/sources declares the real ones, and a batch run around them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from utils.core.period import Period
from utils.core.settings import SETTINGS_FILE, ClientSettings, Settings, TableSpec
from utils.monthly.state import MonthlyRun
from utils.services.freshservice_client import FreshserviceClient
from utils.sources.freshservice import FRESHSERVICE
from utils.sources.source import Connected, Source


def plain_source(name: str, pull: Callable[[str, Period], dict], client_field: str | None = None) -> Source:
    """A source that every run enables, whose client is nothing and whose pull is `pull(client_id, period)`.

    With `client_field`, its settings table is [name] and a client has it when its `source_ids` name it (`plain_settings`)."""
    table = TableSpec(table=name, keys={}, client_key=client_field) if client_field else None
    return Source(name=name, title=name, settings=table, client_field=client_field, enabled=lambda _settings: True,
                  make_client=lambda _settings: object(), pull=lambda _client, _settings, client_id, period: pull(client_id, period),
                  check=lambda _settings: None, report=None)


def plain_settings(home: Path, sites: dict[str, str] | None = None, source: str = "extra") -> Settings:
    """Settings with no file; `sites` gives clients their id at `source` (the per-client field of a `plain_source`)."""
    clients = {client_id: ClientSettings(client_id, source_ids={source: site}) for client_id, site in (sites or {}).items()}
    return Settings(home=home, path=home / SETTINGS_FILE, clients=clients)


def batch_run(client: FreshserviceClient, home: Path, period: Period, *others: Source, settings: Settings | None = None,
              workers: int = 2) -> MonthlyRun:
    """A run of the batch: Freshservice through `client`, then `others`."""
    settings = settings or plain_settings(home)
    sources = {FRESHSERVICE.name: Connected(FRESHSERVICE, settings, client)}
    sources.update({source.name: Connected(source, settings) for source in others})
    return MonthlyRun(home=home, period=period, settings=settings, sources=sources, workers=workers)
