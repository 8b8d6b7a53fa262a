"""The month's index for the MSP (reports/<YYYY-MM>/index.html and index.json), from the run's outcomes."""

from __future__ import annotations

import logging
from pathlib import Path

from utils.core.errors import one_line
from utils.core.period import Period
from utils.monthly.state import ClientOutcome
from utils.reporting.month_index import write_month_index

log = logging.getLogger(__name__)


def index_record(outcome: ClientOutcome) -> dict:
    """What the month's index keeps of one client (its headline numbers are read from its metrics file)."""
    return {"client": {"id": str(outcome.client["id"]), "name": str(outcome.client.get("name") or f"Client {outcome.client['id']}")},
            "report": outcome.report_path.name if outcome.report_path else None, "tickets": outcome.tickets,
            "error": outcome.error, "steps_failed": {name: result.detail for name, result in outcome.failed_steps.items()}}


def write_index(reports_dir: Path, period: Period, outcomes: list[ClientOutcome]) -> Path | None:
    """index.html (and index.json) of the month: this run's clients merged with those already listed."""
    try:
        return write_month_index(reports_dir, period, [index_record(o) for o in outcomes if o.known],
                                 [index_record(o) for o in outcomes if not o.known])
    except Exception as exc:  # noqa: BLE001 - the index never hides what the run did (or why it stopped)
        log.error("the index of %s could not be written: %s", period.label, one_line(exc))
        log.debug("index failed", exc_info=True)
        return None
