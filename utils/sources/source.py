"""One data source, declared once: its settings, how its client is made, its pull, its check, its report section.

The batch, `--check`, `build_report.py`, the attention list and the demo loop over `SOURCES`
(utils/sources/__init__.py); a new source is one more declaration (docs/adding-a-source.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from utils.core.errors import AuthenticationError, ConfigError, IntegoError, WaitBudgetSpent
from utils.core.period import Period
from utils.core.settings import Settings, TableSpec
from utils.reporting.section import AttentionRule, ReportSection
from utils.services.http import CHECK_POLICY, CHECK_TIMEOUT

# (the run's client entries from companies_list.json, the period or a backfill's span, workers) -> what `pull` receives
Prepare = Callable[[Any, Sequence[Mapping[str, Any]], Period, int], Any]


@dataclass(frozen=True)
class Source:
    """Everything the run needs to know about one data source."""

    name: str  # raw_data/<name>_<CLIENT_ID>.json, the index's and the log's name for it
    title: str  # how people read its name: "Microsoft 365"
    settings: TableSpec | None  # its [table] in integoreport.toml, its secret, its client key; None: it has none
    client_field: str | None  # its key in [clients.ID] ("ms365_tenant"); None: every client has it (Freshservice)
    enabled: Callable[[Settings], bool]  # do the settings configure it at all (its [table] is there)
    # The service's client for a run (one per run, shared by its clients), made from its table and secret;
    # the built-in ones also take `for_check=True` for the one check policy (`client_options`).
    make_client: Callable[[Settings], Any]
    pull: Callable[[Any, Settings, str, Period], dict]  # (client, settings, client id, period) -> the raw document
    check: Callable[[Settings], str | None]  # one cheap call: what it reached, None when not configured; raises when refused
    report: ReportSection | None  # its section of the report; None: it feeds the main body (Freshservice)
    attention: tuple[AttentionRule, ...] = ()  # its kinds of "Needs your attention" items
    required: bool = False  # without it there is no report: its failure fails the client, its refused key stops the run
    prepare: Prepare | None = None  # once per run before any pull (Freshservice: its account context and shared sweep)
    demo: str | None = None  # the module of its demo service (simulators.demo_<name>), started by `pull_info.py --demo`
    shown: Callable[[Settings], str] | None = None  # its settings in a few words (or "not configured"), for the web settings page

    def client_value(self, settings: Settings, client_id: str) -> str:
        """The client's own id at this source (its tenant, its site), '' when it has none."""
        if self.client_field is None:
            return str(client_id)
        # The reader keeps each source's per-client value under its table's name.
        return settings.client(client_id).source_id(self.settings.table if self.settings is not None else self.name)


def client_options(for_check: bool) -> dict[str, Any]:
    """A service client's keyword options: for `--check`, the one check policy and timeout (it answers in seconds)."""
    return {"policy": CHECK_POLICY, "timeout": CHECK_TIMEOUT} if for_check else {}


class Connected:
    """A source in one run: its settings and its client, made once at the first use and shared by every client.

    Made lazily, so a missing secret fails this source (for every client it is configured for), never the run.
    """

    def __init__(self, source: Source, settings: Settings, client: Any = None) -> None:
        self.source = source
        self.settings = settings
        self._client = client
        self._prepared: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.source.name

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self.source.make_client(self.settings)
            return self._client

    def configured(self, client_id: str) -> bool:
        """Whether this client has the source (a tenant, a site); False: skipped, silently."""
        return bool(self.source.client_value(self.settings, client_id))

    def prepare(self, clients: Sequence[Mapping[str, Any]], period: Period, workers: int) -> Any:
        """The source's once-a-run work (its `prepare`), before the first pull; returns what the pulls receive."""
        self._prepared = self.source.prepare(self.client(), clients, period, workers) if self.source.prepare else None
        return self._prepared

    def pull(self, client_id: str, period: Period) -> dict:
        """One client's month: the raw document for raw_data/<name>_<ID>.json."""
        service = self._prepared if self._prepared is not None else self.client()
        return self.source.pull(service, self.settings, str(client_id), period)


def stopping_error(exc: BaseException) -> IntegoError | None:
    """The refused key, bad configuration or spent 429 wait budget behind `exc` (however wrapped), which
    fails every client alike (from a required source, without which there is no report: the run stops)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, (AuthenticationError, ConfigError, WaitBudgetSpent)):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
