"""Raw data made up in code: a realistic busy month, and the small hand-made files tests work out by hand.

`synthetic_month` builds a realistic Freshservice month of any size (seeded, so the same every run);
`build_report.py --check-template` renders it to check a restyled template (utils/reporting/email_checks.py),
and the tests and benchmarks use it through tests/report_fixtures.py. `raw_file` and `ticket` build
small files whose right answers a test can work out by hand. `sample_ms365` and `sample_sentinelone`
give the same client's Microsoft 365 and SentinelOne files, so every section of the report shows.
Nothing here touches the network or the disk.
"""

from __future__ import annotations

import random
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

OCTOBER_NY = {
    "start": "2026-10-01T00:00:00-04:00",
    "end": "2026-11-01T00:00:00-04:00",
    "timezone": "America/New_York",
    "label": "October 2026",
}
PRIVATE_MARKER = "PRIVATE-MARKER-7f3a9c"


def stamp(moment: datetime) -> str:
    """Freshservice's UTC format: 2026-10-01T03:30:00Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def period_for(year: int, month: int, zone: str) -> dict[str, str]:
    """The period block of a raw file for one calendar month in `zone`."""
    tz = ZoneInfo(zone)
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return {"start": start.isoformat(), "end": end.isoformat(), "timezone": zone, "label": f"{start:%B} {year}"}


def ticket(ticket_id: int, created_at: str, **fields: Any) -> dict[str, Any]:
    """A ticket as the puller writes it; `stats` keys can be given as stats={...}, merged over empty stats."""
    stats_given = fields.pop("stats", {})
    base: dict[str, Any] = {
        "id": ticket_id,
        "subject": f"Ticket {ticket_id}",
        "type": "Incident",
        "status": 2,
        "priority": 2,
        "source": 1,
        "category": "Software",
        "sub_category": None,
        "requester_id": 5000 + ticket_id % 3,
        "responder_id": 9001,
        "department_id": 21000351606,
        "due_by": None,
        "fr_due_by": None,
        "created_at": created_at,
        "updated_at": created_at,
        "custom_fields": {},
        "spam": False,
        "deleted": False,
        "description": "<div>description</div>",
        "description_text": "description",
        "requester": {"id": 5000 + ticket_id % 3, "name": f"Person {5000 + ticket_id % 3}", "email": "p@example.com"},
        "tags": [],
        "conversations": [],
        "time_entries": [],
        "csat": None,
        "status_text": "Open",
        "priority_text": "Medium",
        "source_text": "Email",
    }
    if stats_given is None:
        base["stats"] = None
    else:
        stats = {
            "created_at": created_at, "opened_at": None, "pending_since": None, "resolved_at": None, "closed_at": None,
            "first_responded_at": None, "inbound_count": 1, "outbound_count": 0,
        }
        stats.update(stats_given)
        base["stats"] = stats
    base.update(fields)
    return base


def stable_id(*parts: Any) -> int:
    """An id derived from the record's fields, the same in every process (hash() is salted per process)."""
    return zlib.crc32(repr(parts).encode("utf-8")) + 10**10


def conversation(created_at: str, incoming: bool = False, private: bool = False, source: int = 0, body: str = "Reply") -> dict[str, Any]:
    return {
        "id": stable_id(created_at, incoming, private, source, body), "user_id": 9001,
        "body": f"<div>{body}</div>", "body_text": body, "incoming": incoming, "private": private, "source": source,
        "created_at": created_at, "updated_at": created_at,
    }


def time_entry(time_spent: str, executed_at: str | None, agent_id: int | None = 9001, billable: bool | None = True, **fields: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": stable_id(time_spent, executed_at, agent_id), "time_spent": time_spent, "executed_at": executed_at,
        "start_time": None, "created_at": None, "agent_id": agent_id, "billable": billable, "note": "work note", "timer_running": False,
    }
    entry.update(fields)
    if billable is None:
        del entry["billable"]
    return entry


def csat(created_at: str, acquired: int | None = None, total: int | None = None, rating: int | None = 101, comment: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "id": 7000, "overall_rating": rating, "overall_rating_text": "Awesome",
        "primary_question": "How would you rate your overall satisfaction with the resolution?",
        "questionnaire_responses": [
            {"question": {"question_text": "How would you rate your overall satisfaction with the resolution?"}, "answers": [{"answer_text": "Awesome"}]},
        ],
        "created_at": created_at, "updated_at": created_at,
    }
    if acquired is not None:
        response["score"] = {"acquired_score": acquired, "total_score": total}
    if comment is not None:
        response["questionnaire_responses"].append({"question": {"question_text": "Any other comments?"}, "answers": [{"answer_text": comment}]})
    return response


def raw_file(tickets: list[dict], period: dict[str, str] | None = None, **fields: Any) -> dict[str, Any]:
    """A whole raw data file around `tickets` (October 2026, New York, unless a period is given)."""
    period = period or dict(OCTOBER_NY)
    zone = ZoneInfo(period["timezone"])
    start = datetime.fromisoformat(period["start"]).astimezone(zone)
    months = []
    for back in range(5, -1, -1):
        index = start.year * 12 + start.month - 1 - back
        months.append(f"{index // 12:04d}-{index % 12 + 1:02d}")
    raw: dict[str, Any] = {
        "schema_version": 1,
        "source": "freshservice",
        "generated_at": stamp(datetime.fromisoformat(period["end"]) + timedelta(hours=6)),
        "freshservice_url": "https://acme.freshservice.com",
        "client": {"id": 21000351606, "name": "Contoso Ltd", "description": "Managed-services client", "head_name": "Dana Whitfield",
                   "prime_user_name": "Jane Doe", "client_type": "Managed", "custom_fields": {}},
        "entity_type": "department",
        "period": period,
        "tickets": tickets,
        "trend": [{"month": m, "created": 10 + i, "resolved": 9 + i} for i, m in enumerate(months)],
        "agents": {"9001": "Sam Agent", "9002": "Riley Tech"},
        "warnings": [],
        "api_usage": {"requests": 1, "credits": 1, "retries": 0, "rate_limited": 0, "seconds_waited": 0.0, "seconds_total": 0.1},
    }
    raw.update(fields)
    return raw


# ---------------------------------------------------------------------------------------------
# A realistic month

_CATEGORIES = [
    ("Software", ["Outlook keeps asking for the password", "Excel crashes when opening the budget file", "Teams calls drop after 5 minutes",
                  "Install Adobe Acrobat for new starter", "OneDrive not syncing on laptop", "Update QuickBooks to the new release"]),
    ("Hardware", ["Laptop battery swelling", "Second monitor flickers", "Docking station not detecting USB devices",
                  "New keyboard and mouse for reception", "Replace failing SSD in workstation"]),
    ("Network", ["VPN drops every 10 minutes", "Wi-Fi slow in the meeting room", "Site-to-site tunnel down at Berlin office",
                 "Firewall rule for the new CRM", "Guest Wi-Fi password rotation"]),
    ("Accounts & access", ["Password reset for shared mailbox", "New starter account: sales team", "Remove access for leaver",
                           "MFA prompt loop on phone", "Add user to finance share"]),
    ("Printing", ["Printer on 2nd floor jams", "Scan to email stopped working", "Toner low on HP LaserJet"]),
    ("Security", ["Suspicious email reported by staff", "Antivirus alert on workstation WS-114", "Phishing simulation follow-up"]),
    ("Backup", ["Nightly backup job failed", "Restore deleted folder from last week", "Backup capacity warning"]),
    ("Email", ["Mail stuck in outbox", "Shared calendar permissions", "Distribution list for the project team"]),
]
_HOSTILE = [
    "<script>alert(1)</script> cannot log in",
    "Принтер не печатает — 打印机无法打印 — プリンターが印刷できません",
    "Very long subject " + "that keeps going and going without stopping " * 6,
    "Café & bar POS \"quoted\" <b>bold</b> 'single' issue",
]
_PEOPLE = ["Jane Doe", "Omar Haddad", "Lucía Fernández", "Chen Wei", "Priya Natarajan", "Tom O'Brien", "Anna Kowalska", "Kwame Mensah",
           "Sofia Rossi", "Lars Nilsson", "Fatima Zahra", "Noah Williams", "Emma Schmidt", "Yuki Tanaka", "Liam Murphy"]
_AGENTS = {"21001931878": "Sam Agent", "21001931879": "Riley Tech", "21001931880": "Morgan Lee", "21001931881": "Alex Kim"}
_STATUS = {2: "Open", 3: "Pending", 4: "Resolved", 5: "Closed", 6: "Waiting on Customer"}
_PRIORITY = {1: "Low", 2: "Medium", 3: "High", 4: "Urgent"}
_SOURCE = {1: "Email", 2: "Portal", 3: "Phone", 4: "Chat", 14: "Alerts"}


def synthetic_month(n_tickets: int = 300, seed: int = 7, period: dict[str, str] | None = None, marker: str = PRIVATE_MARKER,
                    with_csat: bool = True, with_time: bool = True) -> dict[str, Any]:
    """A month with about `n_tickets` tickets touching it: most created in it, some older ones resolved or still open.

    `marker` is planted in every description, conversation body, private note and time-entry note,
    so a test can check that none of that text reaches any output.
    """
    rng = random.Random(seed)
    period = period or dict(OCTOBER_NY)
    start = utc(period["start"])
    end = utc(period["end"])
    span = (end - start).total_seconds()
    tickets = []
    for index in range(n_tickets):
        ticket_id = 4000 + index
        kind = rng.random()
        if kind < 0.82:
            created = start + timedelta(seconds=rng.uniform(0, span))
        elif kind < 0.92:
            created = start - timedelta(days=rng.uniform(0.5, 25))  # opened last month, handled this month
        else:
            created = start - timedelta(days=rng.uniform(25, 200))  # old backlog
        # Most tickets arrive in office hours.
        if kind < 0.82 and rng.random() < 0.85:
            local = created.astimezone(ZoneInfo(period["timezone"]))
            local = local.replace(hour=rng.randint(8, 17), minute=rng.randint(0, 59))
            if local.weekday() >= 5:
                local -= timedelta(days=local.weekday() - 4)
            created = max(start, min(end - timedelta(minutes=1), local.astimezone(UTC)))
        priority = rng.choices([1, 2, 3, 4], weights=[30, 45, 18, 7])[0]
        category, subjects = rng.choice(_CATEGORIES)
        subject = rng.choice(subjects)
        if index < len(_HOSTILE):
            subject = _HOSTILE[index]
        fr_target = {1: 8, 2: 4, 3: 1, 4: 0.5}[priority]
        res_target = {1: 120, 2: 48, 3: 16, 4: 8}[priority]
        first_reply: datetime | None = created + timedelta(hours=rng.expovariate(1 / (fr_target * 0.6)))
        resolve_after = timedelta(hours=rng.expovariate(1 / (res_target * 0.7)) + 0.2)
        resolved: datetime | None = created + resolve_after
        if kind >= 0.92 and rng.random() < 0.6:
            resolved = None  # old and still open
        elif rng.random() < 0.08:
            resolved = None
        if resolved is not None and resolved > end + timedelta(hours=5):
            resolved = None if rng.random() < 0.5 else resolved
        if first_reply is not None and first_reply > end + timedelta(hours=5):
            first_reply = None
        status = 5 if resolved is not None and rng.random() < 0.6 else 4 if resolved is not None else rng.choice([2, 2, 3, 6])
        requester_index = min(int(rng.expovariate(0.25)), len(_PEOPLE) - 1)
        agent_id = rng.choice(list(_AGENTS))
        conversations = [
            conversation(stamp(created + timedelta(minutes=5)), incoming=True, source=0, body=f"Customer wrote {marker}"),
            conversation(stamp(created + timedelta(minutes=20)), private=True, source=2, body=f"Private note {marker}"),
        ]
        if first_reply is not None:
            conversations.append(conversation(stamp(first_reply), source=0, body=f"Agent reply {marker}"))
            for extra in range(rng.choice([0, 0, 1, 2])):
                conversations.append(conversation(stamp(first_reply + timedelta(hours=extra + 1)), source=0, body=f"Follow-up {marker}"))
        time_entries = []
        if with_time and rng.random() < 0.75:
            for _ in range(rng.choice([1, 1, 2, 3])):
                work = created + timedelta(hours=rng.uniform(0, 30))
                minutes = rng.choice([15, 15, 30, 30, 45, 60, 90, 120, 240])
                time_entries.append(time_entry(f"{minutes // 60:02d}:{minutes % 60:02d}", stamp(work), agent_id=int(agent_id),
                                               billable=rng.random() < 0.8, note=f"Time note {marker}"))
        response = None
        if with_csat and resolved is not None and rng.random() < 0.12:
            score = rng.choices([4, 3, 2, 1], weights=[60, 22, 10, 8])[0]
            response = csat(stamp(resolved + timedelta(hours=3)), acquired=score, total=4, rating=101 if score >= 3 else 102,
                            comment=rng.choice([None, "Thanks, quick fix!", "Took a while, but sorted."]))
        tags = []
        if rng.random() < 0.06:
            tags = [rng.choice(["proactive", "Maintenance", "patching"])]
        fr_due = created + timedelta(hours=fr_target)
        res_due = created + timedelta(hours=res_target)
        tickets.append(ticket(
            ticket_id, stamp(created),
            subject=subject,
            type=rng.choices(["Incident", "Service Request", None], weights=[60, 35, 5])[0],
            status=status, status_text=_STATUS[status],
            priority=priority, priority_text=_PRIORITY[priority],
            source=(src := rng.choices(list(_SOURCE), weights=[45, 25, 15, 8, 7])[0]), source_text=_SOURCE[src],
            category=category if rng.random() > 0.05 else None,
            requester_id=31000 + requester_index,
            requester={"id": 31000 + requester_index, "name": _PEOPLE[requester_index], "email": "someone@contoso.example"},
            responder_id=int(agent_id),
            due_by=stamp(res_due), fr_due_by=stamp(fr_due),
            description=f"<div>Description {marker}</div>", description_text=f"Description {marker}",
            custom_fields={"site": rng.choice(["Berlin", "Boston", "Remote"]), "internal_notes": f"custom {marker}"},
            tags=tags,
            conversations=conversations,
            time_entries=time_entries,
            csat=response,
            stats={
                "first_responded_at": stamp(first_reply) if first_reply else None,
                "resolved_at": stamp(resolved) if resolved else None,
                "closed_at": stamp(resolved + timedelta(days=2)) if resolved and status == 5 else None,
                "outbound_count": sum(1 for c in conversations if not c["incoming"] and not c["private"]),
                "opened_at": stamp(resolved - timedelta(hours=1)) if resolved and rng.random() < 0.04 else None,
            },
        ))
    raw = raw_file(tickets, period=period, agents=dict(_AGENTS))
    created_now = sum(1 for t in tickets if start <= utc(t["created_at"]) < end)
    base = max(created_now, 10)
    for i, item in enumerate(raw["trend"][:-1]):
        item["created"] = int(base * (0.8 + 0.07 * i) + rng.randint(-5, 5))
        item["resolved"] = int(item["created"] * rng.uniform(0.85, 1.05)) if i else None
    return raw


# ---------------------------------------------------------------------------------------------
# The same client's Microsoft 365 and SentinelOne files (the shapes data_pullers/ms365.py and
# data_pullers/sentinelone.py write), sized like the demo's largest client: every part of both
# security sections shows, with its longest lists.

_FIRST = ["Ava", "Ben", "Chloé", "Dev", "Elif", "Finn", "Grace", "Hugo", "Ines", "Jonas", "Kai", "Lena", "Mateo", "Nora", "Oskar",
          "Pia", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Vera", "Wen", "Yara", "Zoë"]
_LAST = ["Abbott", "Brennan", "Castillo", "Dubois", "Eriksen", "Fischer", "García", "Hughes", "Ivanova", "Jensen", "Khan", "López"]
_CONTROLS = (  # id, title, category, max score, rank, user impact
    ("AdminMFAV2", "Ensure multifactor authentication is enabled for all users in administrative roles", "Identity", 10, 1, "Low"),
    ("MFARegistrationV2", "Ensure all users can complete multifactor authentication", "Identity", 9, 2, "Moderate"),
    ("BlockLegacyAuthentication", "Enable Conditional Access policies to block legacy authentication", "Identity", 8, 3, "Moderate"),
    ("mdo_safeattachments", "Ensure Safe Attachments policy is enabled", "Apps", 8, 4, "Low"),
    ("mdo_antiphishingpolicies", "Ensure that an anti-phishing policy has been created", "Apps", 7, 6, "Low"),
    ("SigninRiskPolicy", "Ensure sign-in risk policy is enabled", "Identity", 7, 7, "Moderate"),
    ("UserRiskPolicy", "Ensure user risk policy is enabled", "Identity", 7, 8, "Moderate"),
    ("DLPEnabled", "Turn on data loss prevention policies", "Data", 6, 9, "Moderate"),
    ("meeting_restrictanonymousjoin_v1", "Only invited users should be automatically admitted to Teams meetings", "Apps", 3, 13, "Moderate"),
    ("exo_storageproviderrestricted", "Ensure additional storage providers are restricted in Outlook on the web", "Apps", 3, 14, "Moderate"),
)
_FIXES = {4: "BlockLegacyAuthentication", 11: "mdo_antiphishingpolicies", 19: "MFARegistrationV2", 26: "DLPEnabled"}  # day: control
_SKUS = (  # code, purchased, assigned, units in warning
    ("SPE_E3", 183, 179, 0), ("POWER_BI_PRO", 12, 10, 2), ("VISIOCLIENT", 5, 5, 0), ("EXCHANGESTANDARD", 9, 8, 0), ("FLOW_FREE", 10_000, 23, 0))


def _source_header(source: str, period: dict[str, str], client: dict[str, Any]) -> dict[str, Any]:
    generated = stamp(datetime.fromisoformat(period["end"]) + timedelta(hours=6))
    return {"schema_version": 1, "source": source, "generated_at": generated, "period": dict(period), "client": client}


def _secure_scores(period: dict[str, str]) -> list[dict[str, Any]]:
    start = utc(period["start"])
    scores = []
    for day in range(-2, (utc(period["end"]) - start).days):
        done = {"AdminMFAV2", "mdo_safeattachments"} | {control for fix_day, control in _FIXES.items() if day + 1 >= fix_day}
        controls: list[dict[str, Any]] = [{"controlCategory": category, "controlName": name, "description": "", "score": float(maximum if name in done else 0)}
                    for name, _, category, maximum, _, _ in _CONTROLS]
        scores.append({"createdDateTime": stamp(start + timedelta(days=day)), "currentScore": round(40.98 + sum(c["score"] for c in controls), 2),
                       "maxScore": 104.0, "controlScores": controls,
                       "averageComparativeScores": [{"basis": "AllTenants", "averageScore": 52.4}, {"basis": "TotalSeats", "averageScore": 48.9},
                                                    {"basis": "IndustryTypes", "averageScore": 55.1}]})
    return scores


def sample_ms365(period: dict[str, str] | None = None, client_id: str = "21000351606") -> dict[str, Any]:
    """A Microsoft 365 raw file: a climbing Secure Score, five SKUs, 180 people, a dozen without MFA (one an admin)."""
    period = period or dict(OCTOBER_NY)
    raw = _source_header("ms365", period, {"id": client_id, "tenant": "contoso.onmicrosoft.com"})
    as_of = datetime.fromisoformat(raw["generated_at"])
    skus = [{"skuId": f"sku-{code}", "skuPartNumber": code, "capabilityStatus": "Warning" if warning else "Enabled", "consumedUnits": assigned,
             "prepaidUnits": {"enabled": purchased, "suspended": 0, "warning": warning, "lockedOut": 0}}
            for code, purchased, assigned, warning in _SKUS]
    users, registrations = [], []
    for index in range(180):
        name = f"{_FIRST[index % len(_FIRST)]} {_LAST[index // len(_FIRST) % len(_LAST)]}"
        last_seen = as_of - timedelta(days=45 if index % 30 == 7 else index % 9)
        user_id = f"user-{index:03d}"
        users.append({"id": user_id, "displayName": name, "userPrincipalName": f"user{index}@contoso.example", "userType": "Member",
                      "accountEnabled": index != 179, "assignedLicenses": [{"skuId": "sku-SPE_E3", "disabledPlans": []}],
                      "signInActivity": {"lastSignInDateTime": stamp(last_seen), "lastNonInteractiveSignInDateTime": None}})
        registrations.append({"id": user_id, "userPrincipalName": f"user{index}@contoso.example", "userDisplayName": name,
                              "userType": "member", "isAdmin": index in (0, 13), "isMfaRegistered": index % 15 != 13})
    profiles = [{"id": name, "title": title, "controlCategory": category, "maxScore": float(maximum), "rank": rank, "userImpact": impact,
                 "deprecated": False, "actionUrl": f"https://security.microsoft.com/securescore?actionId={name}"}
                for name, title, category, maximum, rank, impact in _CONTROLS]
    raw.update(secure_scores=_secure_scores(period), control_profiles=profiles, subscribed_skus=skus, users=users,
               mfa_registrations=registrations, unavailable={}, requests=7)
    return raw


def _threat(number: int, created: datetime, classification: str, endpoint: str, mitigated: bool) -> dict[str, Any]:
    return {"id": f"1392053027425{number:05d}", "agentRealtimeInfo": {"agentComputerName": endpoint, "agentOsType": "windows"},
            "threatInfo": {"threatName": f"{classification.lower()}_sample_{number}.exe", "classification": classification,
                           "confidenceLevel": "malicious" if number % 2 else "suspicious",
                           "mitigationStatus": "mitigated" if mitigated else "not_mitigated",
                           "analystVerdict": "true_positive" if number % 2 else "undefined",
                           "incidentStatus": "resolved" if mitigated else "unresolved", "automaticallyResolved": mitigated,
                           "createdAt": stamp(created)}}


def sample_sentinelone(period: dict[str, str] | None = None, client_id: str = "21000351606") -> dict[str, Any]:
    """A SentinelOne raw file: 60 endpoints (some out of date, offline, infected or detect-only), seven threats, one still open."""
    period = period or dict(OCTOBER_NY)
    raw = _source_header("sentinelone", period, {"id": client_id, "site_id": "657613730168007919"})
    as_of = datetime.fromisoformat(raw["generated_at"])
    start = utc(period["start"])
    agents: list[dict[str, Any]] = [{"id": f"agent-{index:03d}", "computerName": f"CT-{'LT' if index % 3 else 'DT'}-{index:03d}",
               "osType": "macos" if index % 20 == 9 else "windows", "isUpToDate": index % 12 != 5, "isDecommissioned": False,
               "infected": index == 4, "mitigationMode": "detect" if index == 31 else "protect",
               "lastActiveDate": stamp(as_of - timedelta(days=30 if index in (17, 44) else 0, hours=index % 20))}
              for index in range(60)]
    kinds = ("PUA", "Malware", "PUA", "Ransomware", "Trojan", "Malware", "PUA")
    threats = [_threat(number, start + timedelta(days=3 + 4 * number, hours=number), kind, str(agents[(number * 7) % 60]["computerName"]),
                       mitigated=number != 4)
               for number, kind in enumerate(kinds)]
    raw.update(console_url="https://usea1.sentinelone.example", threats=threats, open_threats=[threats[4]], agents=agents, requests=4,
               site={"id": "657613730168007919", "name": "Contoso Ltd", "activeLicenses": 60, "totalLicenses": 64, "unlimitedLicenses": False})
    return raw


# ---------------------------------------------------------------------------------------------
# The samples build_report.py --check-template renders (utils/reporting/email_checks.py)


def busy_sample() -> tuple[dict[str, Any], dict[str, dict], Any, dict[str, Any]]:
    """(raw, the other sources' raw files, ReportSettings, history) for a month with every section at its longest.

    As the size test's month: 366 tickets touching October 2026, both security sections, five earlier
    months of history and full branding (a logo, an accent colour, a contact line).
    """
    from utils.reporting.metrics import compute_metrics
    from utils.reporting.report import ReportSettings

    period = dict(OCTOBER_NY)
    history = {f"2026-{month:02d}": compute_metrics(synthetic_month(60, seed=month, period=period_for(2026, month, period["timezone"])))
               for month in range(5, 10)}
    settings = ReportSettings(msp_name="Northwind IT", logo_url="https://northwind.example/logo.png", accent_color="#7A1F5C",
                              contact="Call 555-0100 or write to help@northwind.example")
    extra = {"ms365": sample_ms365(period), "sentinelone": sample_sentinelone(period)}
    return synthetic_month(366, period=period), extra, settings, history


def hostile_sample() -> tuple[dict[str, Any], dict[str, dict], Any, dict[str, str]]:
    """(raw, other sources, ReportSettings, {probe code: what it stands for}): every name the report shows holds `<script>pN`."""
    from utils.reporting.report import ReportSettings

    probes: dict[str, str] = {}

    def probe(what: str) -> str:
        code = f"p{len(probes) + 1}"
        probes[code] = what
        return f"<script>{code}</script>"

    raw = synthetic_month(40, seed=3)
    raw["client"]["name"] = probe("the client's name")
    raw["agents"] = {agent: probe("an agent's name") for agent in raw["agents"]}
    for item in raw["tickets"][:12]:
        item.update(subject=probe("a ticket subject"), category=probe("a category"), type=probe("a ticket type"),
                    status_text=probe("a status"), priority_text=probe("a priority"), source_text=probe("a channel"))
        item["requester"]["name"] = probe("a requester's name")
        if item["csat"] is not None:
            item["csat"]["questionnaire_responses"].append({"question": {"question_text": "Comments"},
                                                            "answers": [{"answer_text": probe("a survey comment")}]})
    ms365, s1 = sample_ms365(), sample_sentinelone()
    for record in ms365["mfa_registrations"]:
        if not record["isMfaRegistered"]:
            record["userDisplayName"] = probe("a Microsoft 365 user's name")
    ms365["subscribed_skus"][0]["skuPartNumber"] = probe("a licence name")
    ms365["control_profiles"][-1]["title"] = probe("a Secure Score action")
    for agent in s1["agents"]:
        agent["computerName"] = probe("an endpoint's name")
    for threat in s1["threats"]:
        threat["threatInfo"]["threatName"] = probe("a threat's name")
        threat["agentRealtimeInfo"]["agentComputerName"] = probe("an endpoint's name")
    settings = ReportSettings(msp_name=probe("your MSP name"), contact=probe("your contact line"), show_csat_comments=True)
    return raw, {"ms365": ms365, "sentinelone": s1}, settings, probes
