"""`pull_info.py --check`: one cheap call to each configured service, as a table a new user can read.

A check is a function `check(settings) -> str | None`: it returns what it reached (one line), or
None when the settings do not configure its service; it raises a one-line error (an
`IntegoError`; a `ConfigError` for a missing secret or setting) when the service does not answer
as it should. A service adds its check with one `register_check(name, function)` line in
`_register_builtin_checks` below. Checks read and never write: no raw file, no client list.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from utils.core.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, ConfigError, clean_line, one_line
from utils.core.settings import Settings

CheckFunction = Callable[[Settings], str | None]

OK = "OK"
SKIPPED = "not configured"

_checks: dict[str, CheckFunction] = {}


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


def register_check(name: str, function: CheckFunction) -> None:
    """Add (or replace) the check of one service; the table lists services in the order registered."""
    _checks[name] = function


def registered_checks() -> dict[str, CheckFunction]:
    if not _checks:
        _register_builtin_checks()
    return dict(_checks)


def check_freshservice(settings: Settings) -> str:
    """One department read: proves the helpdesk URL and the API key for 1 credit."""
    from utils.services.freshservice_client import FreshserviceClient

    # A ConfigError naming the file and FRESHSERVICE_URL when unset; the one check policy (answers in seconds).
    client = FreshserviceClient.from_settings(settings, for_check=True)
    client.get_json("departments", {"per_page": 1})
    return f"{client.base_url}: API key accepted (read one department)"


def _register_builtin_checks() -> None:
    # Imported here: the pullers and the delivery import much of utils, and only --check needs them.
    from utils.monthly import send_step as delivery_batch
    from utils.services import ms365_pull as ms365
    from utils.services import sentinelone_pull as sentinelone

    register_check("Freshservice", check_freshservice)
    register_check("Microsoft 365", ms365.check)
    register_check("SentinelOne", sentinelone.check)
    register_check("Email delivery", delivery_batch.check)


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

