"""What the buttons do: each is one of the scripts' own entry points, called in a background job.

`pull_info.main(argv)` makes the reports (under the batch's run lock, as cron does), `send_reports.main(argv)`
sends them (the same rules and delivery record), `pull_info.main(["--check"])` is the setup check, and
the client list is refreshed by utils/services/client_list.py. The browser only picks clients (numbers
from the client list) and a period (parsed here); it never names a file or an argument.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pull_info
import send_reports
from simulators.demo_freshservice import build_demo_account
from simulators.freshservice import DEMO_KEY, Simulator, SimulatorSettings
from utils.core.cli import build_parser, run_main
from utils.core.errors import EXIT_OK, IntegoError
from utils.core.period import report_period
from utils.monthly.run_lock import RunLock
from utils.services import client_list
from utils.services.freshservice_client import FreshserviceClient
from utils.sources.freshservice_command import list_clients_main
from utils.web.jobs import Job, JobRunner

_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")


class BadInput(ValueError):
    """A value from the browser that is not a client, a period or an address the scripts accept (the page answers 404 or 400)."""


@dataclass(frozen=True)
class PeriodChoice:
    """A period the scripts accept: the previous month (month None) or one month, YYYY-MM.

    Issue 19 adds quarters and ranges to the scripts; they are parsed in `parse_period` and turned
    into the scripts' arguments in `arguments`, nowhere else."""

    month: str | None = None

    @property
    def arguments(self) -> list[str]:
        return ["--month", self.month] if self.month else []

    @property
    def label(self) -> str:
        return self.month or "the previous month"


def parse_period(text: str | None) -> PeriodChoice:
    """The period a form or an address names: empty or "previous" for the previous month, else YYYY-MM."""
    value = (text or "").strip()
    if value in ("", "previous"):
        return PeriodChoice()
    if _MONTH.fullmatch(value) and int(value[:4]) >= 1970:
        return PeriodChoice(value)
    raise BadInput(f"not a period: {value[:20]!r} (use YYYY-MM, or the previous month)")


def resolve_month(choice: PeriodChoice, timezone: str) -> str:
    """The month the scripts will use for `choice` (the previous month is worked out as they do)."""
    return report_period(choice.month, timezone).month


def pick_clients(values: Sequence[str], known: Sequence[str]) -> tuple[str, ...]:
    """The chosen client ids, each one a number from the client list, in the list's order; BadInput otherwise."""
    chosen = {value.strip() for value in values}
    unknown = chosen - set(known)
    if unknown:
        raise BadInput(f"not a client in the client list: {sorted(unknown)[0][:20]!r}")
    return tuple(client_id for client_id in known if client_id in chosen)


def run_lock_holder(home: Path) -> str | None:
    """The one-line reason a run cannot start now (cron or another run holds the lock), else None.

    Only a courtesy before starting: the batch takes the lock itself, and a run that loses the race is
    told the same by pull_info."""
    lock = RunLock(home)
    try:
        lock.acquire()
    except IntegoError as exc:
        return f"cannot start: {exc}"
    lock.release()
    return None


def start_run(runner: JobRunner, home: Path, demo: bool, client_ids: tuple[str, ...], all_clients: bool, period: PeriodChoice,
              month: str) -> Job:
    """Make the reports: `pull_info.py [--demo] [--month M] [--client ID ...]` in a job."""
    argv = [*(["--demo"] if demo else []), *period.arguments]
    for client_id in () if all_clients else client_ids:
        argv += ["--client", client_id]
    who = "every client" if all_clients else f"{len(client_ids)} client{'' if len(client_ids) == 1 else 's'}"
    return runner.start("run", f"Reports for {who}, {month}", lambda: pull_info.main(argv), month, () if all_clients else client_ids,
                        precheck=lambda: run_lock_holder(home))


def start_send(runner: JobRunner, month: str, client_id: str, mode: str, test_to: str | None = None) -> Job:
    """Send one client's report: a test to one address, to its recipients, or again (resend)."""
    argv = ["--month", month, "--client", client_id]
    if mode == "test":
        argv += ["--test-to", test_to or ""]
    elif mode == "resend":
        argv += ["--resend"]
    elif mode == "dry-run":
        argv += ["--dry-run"]
    elif mode != "send":
        raise BadInput(f"not a way of sending: {mode[:20]!r}")
    titles = {"test": f"Test send to {test_to}", "send": "Send", "resend": "Resend", "dry-run": "The .eml (dry run)"}
    return runner.start("send", f"{titles[mode]} of {month} for client {client_id}", lambda: send_reports.main(argv), month, (client_id,))


def start_check(runner: JobRunner) -> Job:
    """The setup check: `pull_info.py --check`, its table in the job's lines."""
    return runner.start("check", "Setup check", lambda: pull_info.main(["--check"]))


def start_client_refresh(runner: JobRunner, demo: bool, home: Path) -> Job:
    """Refresh companies_list.json from Freshservice (the demo's simulated account in the demo)."""
    work: Callable[[], int] = (lambda: refresh_demo_clients(home)) if demo else (lambda: list_clients_main([]))
    return runner.start("clients", "Client list refresh", work)


def refresh_demo_clients(home: Path) -> int:
    """The demo's client list, from the same simulated account `pull_info.py --demo` starts."""
    def body(_args: object) -> int:
        simulator = Simulator(account=build_demo_account(), settings=SimulatorSettings(api_key=DEMO_KEY))
        try:
            client = FreshserviceClient(simulator.start(), DEMO_KEY)
            clients, path = client_list.refresh_companies_list(client, home)
        finally:
            simulator.stop()
        print(f"Found {len(clients)} clients; wrote {path}")
        return EXIT_OK

    return run_main(build_parser("The demo's client list."), body, [])
