"""The demo's SentinelOne sites: one per demo client except the break-fix one, named as in Freshservice.

Believable rather than busy: a few threats a month per site, nearly all mitigated automatically,
a false positive or two marked benign by an analyst, one threat still open on a law-firm laptop,
a couple of agents out of date and one studio laptop offline for weeks. Deterministic per
(anchor, seed); the anchor defaults to the start of the current hour, like the Freshservice demo.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from simulators.demo_freshservice import COMPANIES
from simulators.freshservice_data import _ID_BASES as FRESHSERVICE_ID_BASES
from simulators.sentinelone import SentinelOneData, SentinelOneOptions, SentinelOneSimulator
from utils.core import clock
from utils.core.settings import SETTINGS_FILE, ClientSettings, Settings
from utils.services.sentinelone_client import SentinelOneClient
from utils.sources.sentinelone import SENTINELONE, SENTINELONE_TABLE
from utils.sources.source import Connected

HISTORY_MONTHS = 4  # the current month and the three before it
DEMO_TOKEN = "demo-s1-token-not-secret"


@dataclass(frozen=True)
class DemoSite:
    """One client's endpoints and how often its threats come."""

    company_key: str
    prefix: str
    laptops: int
    desktops: int
    macs: int
    servers: tuple[str, ...]
    licenses: int
    threats_per_month: int


DEMO_SITES = (
    DemoSite("law", "HV", 34, 16, 2, ("HV-FS01", "HV-DC01", "HV-SQL01", "HV-RDS02"), 60, 5),
    DemoSite("dental", "BSD", 8, 17, 0, ("BSD-PM01", "BSD-IMG01"), 30, 3),
    DemoSite("architecture", "NL", 14, 6, 14, ("NL-NAS01", "NL-DC01"), 40, 2),
    DemoSite("nonprofit", "RCT", 7, 3, 0, ("RCT-FS01",), 15, 1),
    DemoSite("quiet", "AP", 2, 3, 0, ("AP-POS-GW",), 10, 1),
)

THREAT_KINDS = (  # (name, classification, confidence, weight)
    ("Invoice_Oct_2026.pdf.exe", "Trojan", "malicious", 6),
    ("setup_free_pdf_converter.exe", "PUA", "suspicious", 5),
    ("chrome_update.js", "Malware", "malicious", 5),
    ("mimikatz.exe", "Malware", "malicious", 1),
    ("OneDriveSync.dll", "Malware", "malicious", 2),
    ("crack_keygen.exe", "PUA", "suspicious", 2),
    ("Doc_Scan_4412.docm", "Trojan", "malicious", 3),
    ("locker.exe", "Ransomware", "malicious", 1),
)


def _month_start(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _months_back(moment: datetime, count: int) -> datetime:
    year, month = moment.year, moment.month - count
    while month < 1:
        year, month = year - 1, month + 12
    return moment.replace(year=year, month=month)


def build_demo_sentinelone(now: datetime | None = None, seed: int = 2026) -> SentinelOneData:
    """The demo account's sites, agents and threats, anchored at `now` (default: start of the current hour)."""
    anchor = (clock.now().replace(minute=0, second=0, microsecond=0) if now is None else now).astimezone(UTC)
    rng = random.Random(seed)
    data = SentinelOneData(now=anchor, account_name="Intego MSP")
    names = {company.key: company.name for company in COMPANIES}
    current = _month_start(anchor)
    previous = _months_back(current, 1)
    for plan in DEMO_SITES:
        site = data.add_site(names[plan.company_key], total_licenses=plan.licenses)
        agents = _add_agents(data, site, plan, rng)
        for back in range(HISTORY_MONTHS - 1, -1, -1):
            start = _months_back(current, back)
            end = anchor if back == 0 else _months_back(current, back - 1)
            count = max(0, plan.threats_per_month + rng.choice((-1, 0, 0, 1)))
            if back == 0:
                count = count * max(1, (anchor - start).days) // 30
            for _ in range(count):
                _add_threat(data, rng, rng.choice(agents), start, end)
        if plan.company_key == "law":
            # The one still open: a suspicious file on a partner's laptop, last month, waiting for an analyst.
            laptop = next(agent for agent in agents if agent["machineType"] == "laptop")
            laptop.update(infected=True, activeThreats=1)
            data.add_threat(laptop, previous + timedelta(days=21, hours=15, minutes=42), name="OutlookAddinHelper.exe",
                            classification="Trojan", confidence="suspicious", mitigation="not_mitigated",
                            verdict="undefined", incident="unresolved", automatically_resolved=False)
    return data


def _add_agents(data: SentinelOneData, site: dict, plan: DemoSite, rng: random.Random) -> list[dict]:
    agents: list[dict] = []
    for kind, count, os_type, machine in (("LT", plan.laptops, "windows", "laptop"), ("DT", plan.desktops, "windows", "desktop"),
                                          ("MB", plan.macs, "macos", "laptop")):
        for number in range(1, count + 1):
            seen = data.now - timedelta(minutes=rng.randint(1, 600) if machine != "laptop" else rng.randint(1, 60 * 72))
            agents.append(data.add_agent(site, f"{plan.prefix}-{kind}-{number:03d}", os_type=os_type, machine_type=machine,
                                         last_active=seen))
    for server in plan.servers:
        agents.append(data.add_agent(site, server, os_type="linux" if "NAS" in server or "GW" in server else "windows",
                                     machine_type="server", last_active=data.now - timedelta(minutes=rng.randint(1, 30)),
                                     osName="Windows Server 2022 Standard" if "NAS" not in server and "GW" not in server else None))
    for agent in agents:
        if agent["osName"] is None:
            agent["osName"] = "Ubuntu 22.04.4 LTS"
    if plan.company_key in ("law", "dental"):
        # A couple of agents a version behind: a desktop that missed the last upgrade window.
        desktop = next(agent for agent in agents if agent["machineType"] == "desktop")
        desktop.update(isUpToDate=False, agentVersion="23.3.2.405")
    if plan.company_key == "law":
        # A partner's laptop set to detect-only while a vendor's add-in was tested, and never set back.
        agents[1].update(mitigationMode="detect")
    if plan.company_key == "architecture":
        # A laptop that has not checked in for weeks (someone on a long leave, or lost).
        laptop = agents[3]
        laptop.update(networkStatus="disconnected", lastActiveDate=_stamp(data.now - timedelta(days=23, hours=6)))
    if plan.company_key == "nonprofit":
        # The community hall's shared PC was left in detect-only mode after a troubleshooting session.
        agents[-2].update(mitigationMode="detect")
    return agents


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _add_threat(data: SentinelOneData, rng: random.Random, agent: dict, start: datetime, end: datetime) -> None:
    span = max(1.0, (end - start).total_seconds() - 3600)
    created = start + timedelta(seconds=rng.uniform(0, span), microseconds=rng.randint(0, 999999))
    name, classification, confidence = _pick_kind(rng)
    roll = rng.random()
    if roll < 0.07:
        # A false positive an analyst looked at and marked benign.
        data.add_threat(agent, created, name=name, classification=classification, confidence="suspicious",
                        mitigation="marked_as_benign", verdict="false_positive", incident="resolved",
                        automatically_resolved=False, updated=created + timedelta(hours=rng.randint(2, 30)))
    elif roll < 0.13:
        # Mitigated by the agent, closed by an analyst after a look.
        data.add_threat(agent, created, name=name, classification=classification, confidence=confidence,
                        mitigation="mitigated", verdict="true_positive", incident="resolved",
                        automatically_resolved=False, updated=created + timedelta(hours=rng.randint(1, 20)))
    else:
        data.add_threat(agent, created, name=name, classification=classification, confidence=confidence,
                        mitigation="mitigated", verdict="true_positive" if confidence == "malicious" else "undefined",
                        incident="resolved", automatically_resolved=True)


def _pick_kind(rng: random.Random) -> tuple[str, str, str]:
    total = sum(kind[3] for kind in THREAT_KINDS)
    roll = rng.uniform(0, total)
    for name, classification, confidence, weight in THREAT_KINDS:
        roll -= weight
        if roll <= 0:
            return name, classification, confidence
    return THREAT_KINDS[0][:3]


def demo_department_ids() -> dict[str, str]:
    """{company key: its department id in the Freshservice demo account (the client id)}.

    The demo account adds its departments first, in COMPANIES order, so their ids follow from the
    simulator's id base; tests/monthly/test_sentinelone_batch.py checks this against a built account.
    """
    return {company.key: str(FRESHSERVICE_ID_BASES["department"] + index) for index, company in enumerate(COMPANIES, 1)}


def start_demo_source(home: Path, now: datetime | None = None) -> tuple[SentinelOneSimulator, Connected]:
    """For `pull_info.py --demo` (SentinelOne's `demo`): the demo sites served on 127.0.0.1 and the source reading them."""
    data = build_demo_sentinelone(now)
    simulator = SentinelOneSimulator(data, SentinelOneOptions(api_token=DEMO_TOKEN))
    url = simulator.start()
    sites = {site["name"]: site["id"] for site in data.sites}
    names = {company.key: company.name for company in COMPANIES}
    table = SENTINELONE_TABLE.table
    clients = {client_id: ClientSettings(client_id, source_ids={table: sites[names[key]]})
               for key, client_id in demo_department_ids().items() if names[key] in sites}
    settings = Settings(home=home, path=home / SETTINGS_FILE, tables={table: {"url": url}}, clients=clients)
    return simulator, Connected(SENTINELONE, settings, SentinelOneClient(url, DEMO_TOKEN))


def main(argv: list[str] | None = None) -> int:
    """Serve the demo sites until Ctrl-C."""
    parser = argparse.ArgumentParser(description="A local SentinelOne API serving the demo sites.")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--token", default=SentinelOneOptions.api_token)
    args = parser.parse_args(argv)
    simulator = SentinelOneSimulator(build_demo_sentinelone(), SentinelOneOptions(api_token=args.token), port=args.port)
    return simulator.serve_until_stopped(f"SentinelOne simulator on {simulator.start()} (token {args.token}); Ctrl-C stops it")


if __name__ == "__main__":
    sys.exit(main())
