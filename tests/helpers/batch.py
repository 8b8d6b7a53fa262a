"""The monthly batch's test kit: a small Freshservice account, the environment pointing at a simulator,
pull_info's main run in this process, and the month the tests pull."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pull_info
from simulators.freshservice_data import Account
from tests.helpers.running import SIM_KEY

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
MONTH = "2026-10"


def small_account() -> tuple[Account, list[int]]:
    """Three clients with a few October tickets each, one of them with none."""
    account = Account(now=NOW)
    ids = []
    for name, count in (("Acme Law", 5), ("Beta Dental", 3), ("Quiet Co", 0)):
        department = account.add_department(name)["id"]
        ids.append(department)
        for n in range(count):
            account.add_ticket(department, f"2026-10-{n + 2:02d}T10:00:00Z", subject=f"{name} ticket {n}",
                               stats={"resolved_at": f"2026-10-{n + 2:02d}T15:00:00Z", "first_responded_at": f"2026-10-{n + 2:02d}T10:30:00Z"})
    return account, ids


def batch_env(simulator) -> dict[str, str]:
    return {"FRESHSERVICE_URL": simulator.url, "FRESHSERVICE_API_KEY": SIM_KEY, "REPORT_TIMEZONE": "UTC"}


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def pull_info_runner(monkeypatch, capsys):
    """A function running pull_info's main in this process, as cron would run the script, against a simulator."""

    def run(simulator, *args: str) -> Result:
        for name, value in batch_env(simulator).items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        code = pull_info.main(["--month", MONTH, *args])
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


def report_dir(home: Path) -> Path:
    return home / "reports" / MONTH


def three_months() -> tuple[Account, list[int]]:
    """Two clients with tickets in August, September and October 2026 (August: 2 and 1, September: 3 and 2)."""
    account = Account(now=NOW)
    ids = []
    for name, per_month in (("Acme Law", {8: 2, 9: 3, 10: 4}), ("Beta Dental", {8: 1, 9: 2, 10: 1})):
        department = account.add_department(name)["id"]
        ids.append(department)
        for month, count in per_month.items():
            for n in range(count):
                day = f"2026-{month:02d}-{n + 3:02d}"
                account.add_ticket(department, f"{day}T10:00:00Z", subject=f"{name} {month}/{n}",
                                   stats={"first_responded_at": f"{day}T10:30:00Z", "resolved_at": f"{day}T15:00:00Z"})
    return account, ids
