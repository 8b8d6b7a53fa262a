"""Raw data made up in code: a realistic busy month, and the small hand-made files tests work out by hand.

`synthetic_month` builds a realistic Freshservice month of any size (seeded, so the same every run);
`build_report.py --check-template` renders it to check a restyled template (utils/reporting/email_checks.py),
and the tests and benchmarks use it through tests/helpers/reports.py. `raw_file` and `ticket` build
small files whose right answers a test can work out by hand. The same client's Microsoft 365 and
SentinelOne files, and the samples `--check-template` renders, are in utils/reporting/sample_sources.py.
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
    start, end = utc(period["start"]), utc(period["end"])
    tickets = [_synthetic_ticket(rng, index, period, marker, with_csat, with_time) for index in range(n_tickets)]
    raw = raw_file(tickets, period=period, agents=dict(_AGENTS))
    created_now = sum(1 for t in tickets if start <= utc(t["created_at"]) < end)
    base = max(created_now, 10)
    for i, item in enumerate(raw["trend"][:-1]):
        item["created"] = int(base * (0.8 + 0.07 * i) + rng.randint(-5, 5))
        item["resolved"] = int(item["created"] * rng.uniform(0.85, 1.05)) if i else None
    return raw


# The helpers below draw from one random sequence in a fixed order: reordering a draw changes every sample.

def _created_time(rng: random.Random, kind: float, period: dict[str, str]) -> datetime:
    start, end = utc(period["start"]), utc(period["end"])
    if kind < 0.82:
        created = start + timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))
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
    return created


def _handling(rng: random.Random, kind: float, created: datetime, end: datetime,
              fr_target: float, res_target: float) -> tuple[datetime | None, datetime | None, int]:
    """(first reply, resolved, status) of one ticket."""
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
    return first_reply, resolved, status


def _conversations(rng: random.Random, created: datetime, first_reply: datetime | None, marker: str) -> list[dict[str, Any]]:
    conversations = [
        conversation(stamp(created + timedelta(minutes=5)), incoming=True, source=0, body=f"Customer wrote {marker}"),
        conversation(stamp(created + timedelta(minutes=20)), private=True, source=2, body=f"Private note {marker}"),
    ]
    if first_reply is not None:
        conversations.append(conversation(stamp(first_reply), source=0, body=f"Agent reply {marker}"))
        for extra in range(rng.choice([0, 0, 1, 2])):
            conversations.append(conversation(stamp(first_reply + timedelta(hours=extra + 1)), source=0, body=f"Follow-up {marker}"))
    return conversations


def _time_entries(rng: random.Random, created: datetime, agent_id: str, marker: str) -> list[dict[str, Any]]:
    entries = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        work = created + timedelta(hours=rng.uniform(0, 30))
        minutes = rng.choice([15, 15, 30, 30, 45, 60, 90, 120, 240])
        entries.append(time_entry(f"{minutes // 60:02d}:{minutes % 60:02d}", stamp(work), agent_id=int(agent_id),
                                  billable=rng.random() < 0.8, note=f"Time note {marker}"))
    return entries


def _synthetic_ticket(rng: random.Random, index: int, period: dict[str, str], marker: str, with_csat: bool,
                      with_time: bool) -> dict[str, Any]:
    kind = rng.random()
    created = _created_time(rng, kind, period)
    priority = rng.choices([1, 2, 3, 4], weights=[30, 45, 18, 7])[0]
    category, subjects = rng.choice(_CATEGORIES)
    subject = rng.choice(subjects)
    if index < len(_HOSTILE):
        subject = _HOSTILE[index]
    fr_target = {1: 8, 2: 4, 3: 1, 4: 0.5}[priority]
    res_target = {1: 120, 2: 48, 3: 16, 4: 8}[priority]
    first_reply, resolved, status = _handling(rng, kind, created, utc(period["end"]), fr_target, res_target)
    requester_index = min(int(rng.expovariate(0.25)), len(_PEOPLE) - 1)
    agent_id = rng.choice(list(_AGENTS))
    conversations = _conversations(rng, created, first_reply, marker)
    time_entries = _time_entries(rng, created, agent_id, marker) if with_time and rng.random() < 0.75 else []
    response = None
    if with_csat and resolved is not None and rng.random() < 0.12:
        score = rng.choices([4, 3, 2, 1], weights=[60, 22, 10, 8])[0]
        response = csat(stamp(resolved + timedelta(hours=3)), acquired=score, total=4, rating=101 if score >= 3 else 102,
                        comment=rng.choice([None, "Thanks, quick fix!", "Took a while, but sorted."]))
    tags = [rng.choice(["proactive", "Maintenance", "patching"])] if rng.random() < 0.06 else []
    return ticket(
        4000 + index, stamp(created),
        subject=subject,
        type=rng.choices(["Incident", "Service Request", None], weights=[60, 35, 5])[0],
        status=status, status_text=_STATUS[status],
        priority=priority, priority_text=_PRIORITY[priority],
        source=(src := rng.choices(list(_SOURCE), weights=[45, 25, 15, 8, 7])[0]), source_text=_SOURCE[src],
        category=category if rng.random() > 0.05 else None,
        requester_id=31000 + requester_index,
        requester={"id": 31000 + requester_index, "name": _PEOPLE[requester_index], "email": "someone@contoso.example"},
        responder_id=int(agent_id),
        due_by=stamp(created + timedelta(hours=res_target)), fr_due_by=stamp(created + timedelta(hours=fr_target)),
        description=f"<div>Description {marker}</div>", description_text=f"Description {marker}",
        custom_fields={"site": rng.choice(["Berlin", "Boston", "Remote"]), "internal_notes": f"custom {marker}"},
        tags=tags, conversations=conversations, time_entries=time_entries, csat=response,
        stats={
            "first_responded_at": stamp(first_reply) if first_reply else None,
            "resolved_at": stamp(resolved) if resolved else None,
            "closed_at": stamp(resolved + timedelta(days=2)) if resolved and status == 5 else None,
            "outbound_count": sum(1 for c in conversations if not c["incoming"] and not c["private"]),
            "opened_at": stamp(resolved - timedelta(hours=1)) if resolved and rng.random() < 0.04 else None,
        },
    )
