"""`pull_info.py --check`: one cheap call to each configured service, as a table a new user can read.

The rows are the declared sources (utils/sources, each source's `check`, titled by its `title`) and
then email delivery. A check is a function `check(settings) -> str | None`: it returns what it
reached (one line), or None when the settings do not configure its service; it raises a one-line
error (an `IntegoError`; a `ConfigError` for a missing secret or setting) when the service does not
answer as it should. Checks read and never write: no raw file, no client list.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from utils.core.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, ConfigError, clean_line, one_line
from utils.core.settings import Settings
from utils.monthly import send_step
from utils.sources import declared_sources

CheckFunction = Callable[[Settings], str | None]

OK = "OK"
SKIPPED = "not configured"


@dataclass(frozen=True)
class CheckResult:
    """One row of the table: the service, what was reached (or why not), and OK, not configured or the reason."""

    service: str
    reached: str
    status: str
    settings_error: bool = False

    @property
    def failed(self) -> bool:
        return self.status not in (OK, SKIPPED)


def registered_checks() -> dict[str, CheckFunction]:
    """The table's rows in order: every declared source's check, then email delivery."""
    return {**{source.title: source.check for source in declared_sources()}, "Email delivery": send_step.check}


def run_checks(settings: Settings, checks: dict[str, CheckFunction] | None = None) -> list[CheckResult]:
    """Run every check in turn; one failing never stops the others."""
    results = []
    for name, function in (registered_checks() if checks is None else checks).items():
        try:
            reached = function(settings)
        except ConfigError as exc:
            results.append(CheckResult(name, "-", one_line(exc), settings_error=True))
        except Exception as exc:  # noqa: BLE001 - one service's surprise must not hide the others' answers
            results.append(CheckResult(name, "-", one_line(exc)))
        else:
            results.append(CheckResult(name, clean_line(reached), OK) if reached is not None else CheckResult(name, "-", SKIPPED))
    return results


def exit_code(results: Sequence[CheckResult]) -> int:
    """0 when every configured service answered, 2 when a setting or secret is missing or wrong, else 1."""
    if any(result.settings_error for result in results):
        return EXIT_USAGE
    return EXIT_FAILURE if any(result.failed for result in results) else EXIT_OK


def format_table(results: Sequence[CheckResult]) -> str:
    """The results as aligned columns: service, reached, result."""
    rows = [("service", "reached", "result"), *((r.service, r.reached, r.status) for r in results)]
    widths = [max(len(row[column]) for row in rows) for column in range(2)]
    return "\n".join(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}".rstrip() for row in rows)

