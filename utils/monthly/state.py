"""The monthly run's state, travelling as one object, and what a run produces (the outcomes and the summary)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from utils.core.home import REPORTS_DIR
from utils.core.period import Period
from utils.core.settings import ReportSettings, Settings
from utils.services.freshservice_pull import DEFAULT_WORKERS
from utils.sources import declared_sources
from utils.sources.source import Connected, Source


def connect(settings: Settings, given: Mapping[str, Connected] | None = None,
            sources: Sequence[Source] | None = None) -> dict[str, Connected]:
    """The sources a run pulls, by name in the declared order: those its settings enable, and every required one.

    A required source's client is made now, so its missing key or URL stops the run before the first
    request; the others' at their first pull. `given` replaces a source's (the demo's simulators, a test's).
    """
    given = given or {}
    connected: dict[str, Connected] = {}
    for source in declared_sources() if sources is None else sources:
        if source.name in given:
            connected[source.name] = given[source.name]
        elif source.required:
            connected[source.name] = Connected(source, settings, source.make_client(settings))
        elif source.enabled(settings):
            connected[source.name] = Connected(source, settings)
    return connected


@dataclass
class MonthlyRun:
    """Everything one batch (or backfill) needs: where, which month, the settings and the connected sources."""

    home: Path
    period: Period
    settings: Settings
    sources: dict[str, Connected]  # connect(settings): the required source (Freshservice) and every enabled one
    build: bool = True
    workers: int = DEFAULT_WORKERS
    report_settings: ReportSettings | None = None
    disabled: dict[str, str] = field(default_factory=dict)  # source -> why it is not asked again this run

    @property
    def reports_dir(self) -> Path:
        return self.home / REPORTS_DIR / self.period.month

    @property
    def primary(self) -> Connected:
        """The required source: its client lists the clients, its raw file is the report's main body."""
        return next(connected for connected in self.sources.values() if connected.source.required)

    @property
    def others(self) -> list[Connected]:
        return [connected for connected in self.sources.values() if not connected.source.required]


@dataclass
class StepResult:
    """How one source went for one client: "ok", "failed" or "skipped" (not configured for it)."""

    status: str
    detail: str = ""


@dataclass
class ClientOutcome:
    """How one client's run went, for the index and the summary."""

    client: dict
    raw_path: Path | None = None
    report_path: Path | None = None
    metrics: Mapping[str, Any] | None = None
    tickets: int = 0
    error: str | None = None  # the client failed: no report
    steps: dict[str, StepResult] = field(default_factory=dict)
    known: bool = True  # False: an id that names no client (never kept in the month's index)

    @property
    def failed_steps(self) -> dict[str, StepResult]:
        return {name: result for name, result in self.steps.items() if result.status == "failed"}


@dataclass
class RunSummary:
    outcomes: list[ClientOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[ClientOutcome]:
        return [outcome for outcome in self.outcomes if outcome.error]

    @property
    def with_failed_steps(self) -> list[ClientOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.error and outcome.failed_steps]
