"""The "Endpoint protection" section: `s1.*` metrics from raw_data/sentinelone_<ID>.json, and their wording.

Every key of security-metrics.md's SentinelOne table is computed here exactly as defined. Two
additions feed the report's lists and are the client's own information (endpoint names), so the
MSP index never shows them: `s1.attention` (threats not mitigated or still open, with the endpoint)
and `s1.hygiene` (the endpoints behind each agent count). `s1.timezone` dates the "as of" line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from utils.reporting.report_wording import period_words
from utils.reporting.section import AttentionRule, ReportSection, count_at, one_of
from utils.services.tickets import parse_timestamp

OPEN_INCIDENT_STATUSES = ("unresolved", "in_progress")
OFFLINE_AFTER = timedelta(days=14)
TOP_ENDPOINTS = 5
NAMES_PER_LIST = 10  # endpoint names shown per hygiene line; the rest are counted
NBSP = "\u00a0"

CONFIDENCE_LABELS = {"malicious": "Malicious", "suspicious": "Suspicious", "n/a": "Not rated"}
VERDICT_LABELS = {"true_positive": "Real threat", "false_positive": "False alarm", "suspicious": "Suspicious",
                  "undefined": "Not reviewed"}
OS_LABELS = {"windows": "Windows", "macos": "macOS", "linux": "Linux"}
MITIGATION_LABELS = {"mitigated": "Stopped", "not_mitigated": "Not stopped", "marked_as_benign": "Marked harmless"}
INCIDENT_LABELS = {"unresolved": "Open", "in_progress": "Being investigated", "resolved": "Closed"}
HYGIENE_LINES = (  # (key, label, as the all-clear sentence says it)
    ("out_of_date", "Agent out of date", "out of date"),
    ("offline", "Offline more than 14 days", "offline more than 14 days"),
    ("infected", "Infected", "infected"),
    ("detect_only", "Detect-only mode (alerts, does not block)", "in detect-only mode"),
)


def flag(value: Any) -> bool:
    """A SentinelOne boolean: true, or the string "True" (some answers carry strings)."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _counts(values: Iterable[str]) -> dict[str, int]:
    """Counts, most first, then by name, so two builds of the same data are identical."""
    return dict(sorted(Counter(values).items(), key=lambda item: (-item[1], item[0])))


def _unique(items: Any) -> list[dict]:
    seen: dict[str, dict] = {}
    for item in items or []:
        if isinstance(item, dict):
            seen.setdefault(str(item.get("id")), item)
    return list(seen.values())


def _info(threat: dict) -> dict:
    info = threat.get("threatInfo")
    return info if isinstance(info, dict) else {}


def _endpoint(threat: dict) -> str:
    realtime = threat.get("agentRealtimeInfo")
    name = realtime.get("agentComputerName") if isinstance(realtime, dict) else None
    return str(name) if name else "Unknown endpoint"


def compute(raw: dict) -> dict:
    """The `s1` section of the metrics JSON from one raw SentinelOne file."""
    period = raw["period"]
    start, end = datetime.fromisoformat(period["start"]), datetime.fromisoformat(period["end"])
    as_of = raw["generated_at"]
    as_of_moment = datetime.fromisoformat(as_of)

    created = [threat for threat in _unique(raw.get("threats"))
               if (moment := parse_timestamp(_info(threat).get("createdAt"))) is not None and start <= moment < end]
    infos = [_info(threat) for threat in created]
    resolved = [info for info in infos if info.get("incidentStatus") == "resolved"]
    open_now = [threat for threat in _unique(raw.get("open_threats")) if _info(threat).get("incidentStatus") in OPEN_INCIDENT_STATUSES]
    top = sorted(Counter(_endpoint(threat) for threat in created).items(), key=lambda item: (-item[1], item[0]))

    agents = [agent for agent in _unique(raw.get("agents")) if not flag(agent.get("isDecommissioned"))]
    hygiene = {
        "out_of_date": [agent for agent in agents if "isUpToDate" in agent and not flag(agent.get("isUpToDate"))],
        "offline": [agent for agent in agents if _offline(agent, as_of_moment)],
        "infected": [agent for agent in agents if flag(agent.get("infected"))],
        "detect_only": [agent for agent in agents if agent.get("mitigationMode") == "detect"],
    }
    site: dict = raw["site"] if isinstance(raw.get("site"), dict) else {}

    return {
        "as_of": as_of,
        "threats": {
            "created": len(created),
            "by_classification": _counts(info.get("classification") or "Unknown" for info in infos),
            "by_confidence": _counts(info.get("confidenceLevel") or "n/a" for info in infos),
            "mitigated": sum(1 for info in infos if info.get("mitigationStatus") == "mitigated"),
            "not_mitigated": sum(1 for info in infos if info.get("mitigationStatus") == "not_mitigated"),
            "benign": sum(1 for info in infos if info.get("mitigationStatus") == "marked_as_benign"),
            "by_verdict": _counts(info.get("analystVerdict") or "undefined" for info in infos),
            "resolved": len(resolved),
            "auto_resolved": sum(1 for info in resolved if flag(info.get("automaticallyResolved"))),
            "open_now": len(open_now),
            "top_endpoints": [{"name": name, "threats": count} for name, count in top[:TOP_ENDPOINTS]],
        },
        "agents": {
            "total": len(agents),
            "by_os": _counts(str(agent.get("osType") or "unknown") for agent in agents),
            **{key: len(found) for key, found in hygiene.items()},
        },
        "licenses": {"active": _seats(site.get("activeLicenses")), "total": site_total_licenses(site),
                     "unlimited": flag(site.get("unlimitedLicenses")) if site.get("unlimitedLicenses") is not None else None},
        "attention": _attention(created, open_now),
        "hygiene": {key: sorted(str(agent.get("computerName") or agent.get("id")) for agent in found) for key, found in hygiene.items()},
        "timezone": period.get("timezone") or "UTC",
    }


def _seats(value: Any) -> int | None:
    """A licence count: a whole number of at least 0 (never a boolean), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def bundle_licenses(site: Mapping[str, Any]) -> int | None:
    """The seats of a bundle-licensed site: the sum over `licenses.bundles` of each bundle's `totalSurfaces`
    (else the sum of its `surfaces[].count`); None when the site lists no bundle with a count."""
    licenses = site.get("licenses")
    bundles = licenses.get("bundles") if isinstance(licenses, Mapping) else None
    counts = []
    for bundle in bundles if isinstance(bundles, list) else []:
        if not isinstance(bundle, Mapping):
            continue
        total = _seats(bundle.get("totalSurfaces"))
        if total is None and isinstance(bundle.get("surfaces"), list):
            surfaces = [_seats(surface.get("count")) for surface in bundle["surfaces"] if isinstance(surface, Mapping)]
            total = sum(count for count in surfaces if count is not None) if any(count is not None for count in surfaces) else None
        if total is not None:
            counts.append(total)
    return sum(counts) if counts else None


def site_total_licenses(site: Mapping[str, Any]) -> int | None:
    """`totalLicenses`, else (bundle-licensed sites, which leave it out) the bundles' seats; None when neither is there.

    Sites sold as bundles (Complete, Control, ...) carry their seats under `licenses.bundles`
    instead of `totalLicenses`; a 0 beside a bundle that has seats is read as "not counted here"
    (unconfirmed), never as a site with no licences.
    """
    total = _seats(site.get("totalLicenses"))
    bundles = bundle_licenses(site)
    if total is None or (total == 0 and bundles):
        return bundles
    return total


def _offline(agent: dict, as_of: datetime) -> bool:
    last = parse_timestamp(agent.get("lastActiveDate"))
    return last is None or last < as_of - OFFLINE_AFTER


def _attention(created: list[dict], open_now: list[dict]) -> list[dict]:
    """Threats created in the month that were not mitigated, and every threat still open: oldest first."""
    chosen = {str(threat.get("id")): threat for threat in created if _info(threat).get("mitigationStatus") == "not_mitigated"}
    for threat in open_now:
        chosen.setdefault(str(threat.get("id")), threat)
    rows = []
    for threat_id, threat in chosen.items():
        info = _info(threat)
        rows.append({"id": threat_id, "name": str(info.get("threatName") or "Unnamed threat"), "endpoint": _endpoint(threat),
                     "created_at": info.get("createdAt"), "mitigation": info.get("mitigationStatus"),
                     "incident": info.get("incidentStatus")})
    return sorted(rows, key=lambda row: (row["created_at"] or "", row["id"]))


# -- wording for the templates ----------------------------------------------------------------

def _count(n: int | None) -> str:
    return "n/a" if n is None else f"{n:,}"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{_count(n)} {one if n == 1 else (many or one + 's')}"


def _date(iso: str | None, zone: str, with_year: bool = True) -> str:
    moment = parse_timestamp(iso)
    if moment is None:
        return "—"
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%B} {local.day}, {local.year}" if with_year else f"{local:%b}{NBSP}{local.day}"


def _rows(counts: Mapping[str, int], labels: Mapping[str, str] | None = None) -> list[dict]:
    return [{"label": (labels or {}).get(key, key), "value": _count(value)} for key, value in counts.items()]


def context(section: dict) -> dict:
    """The section's metrics worded for templates/sections/sentinelone.html and .txt."""
    threats, agents, licenses = section["threats"], section["agents"], section["licenses"]
    zone = section.get("timezone") or "UTC"
    as_of = _date(section["as_of"], zone)
    created, this_period = threats["created"], period_words(section.get("report_period"))["this"]
    tiles = [
        {"label": "Threats detected", "value": _count(created), "note": this_period},
        {"label": "Stopped", "value": _count(threats["mitigated"]), "note": "killed or quarantined"},
        {"label": "Auto-closed", "value": _count(threats["auto_resolved"]), "note": "no one had to step in"},
        {"label": "Open now", "value": _count(threats["open_now"]), "note": f"as of {_date(section['as_of'], zone, False)}"},
    ]
    attention = [{"name": row["name"], "endpoint": row["endpoint"], "since": _date(row["created_at"], zone, False),
                  "status": " · ".join(part for part in (MITIGATION_LABELS.get(row["mitigation"] or "", ""),
                                                         INCIDENT_LABELS.get(row["incident"] or "", "")) if part) or "Open"}
                 for row in section.get("attention") or []]
    # Only the checks that found something get a row (with the endpoints' names); the rest share one sentence.
    hygiene, clear = [], []
    names = section.get("hygiene") or {}
    for key, label, words in HYGIENE_LINES:
        count = agents.get(key) or 0
        if not count:
            clear.append(words)
            continue
        listed = list(names.get(key) or [])[:NAMES_PER_LIST]
        more = count - len(listed)
        hygiene.append({"label": label, "count": _count(count),
                        "names": ", ".join(listed) + (f" and {more} more" if more > 0 and listed else "")})
    clear_line = ""
    if clear and agents["total"]:
        listed_clear = clear[0] if len(clear) == 1 else ", ".join(clear[:-1]) + " or " + clear[-1]
        clear_line = f"{'No other' if hygiene else 'No'} endpoint is {listed_clear}."
    verdicts = {VERDICT_LABELS.get(key, key): value for key, value in threats["by_verdict"].items()}
    return {
        "as_of": as_of,
        "lead": (f"Threats SentinelOne detected on your endpoints {this_period}, and the state of your "
                 f"{_plural(agents['total'], 'protected endpoint')} as of {as_of}."),
        "tiles": tiles,
        "created": created,
        "mitigation_line": _mitigation_line(threats, this_period),
        "attention": attention,
        "classification_rows": _rows(threats["by_classification"]),
        "confidence_line": ", ".join(f"{CONFIDENCE_LABELS.get(key, key)} {_count(value)}" for key, value in threats["by_confidence"].items()),
        "verdict_line": ", ".join(f"{label} {_count(value)}" for label, value in verdicts.items()),
        "top_endpoints": [{"name": row["name"], "value": _count(row["threats"])} for row in threats["top_endpoints"]],
        "endpoints_total": _count(agents["total"]),
        "os_rows": _rows({OS_LABELS.get(key, key): value for key, value in agents["by_os"].items()}),
        "license_text": _license_text(licenses),
        "hygiene": hygiene,
        "hygiene_clear_line": clear_line,
    }


def _license_text(licenses: Mapping[str, Any]) -> str:
    """The licence line: in use of total, or what is not available."""
    if licenses.get("unlimited"):
        return f"{_count(licenses.get('active'))} licences in use (unlimited plan)"
    if licenses.get("active") is None and licenses.get("total") is None:
        return "Licence use: not available"
    if licenses.get("total") is None:
        return f"{_count(licenses['active'])} licences in use (the total is not available)"
    if licenses.get("active") is None:
        return f"{_count(licenses['total'])} licences (how many are in use is not available)"
    return f"{_count(licenses['active'])} of {_count(licenses['total'])} licences in use"


def _mitigation_line(threats: dict, this_period: str) -> str:
    created = threats["created"]
    if not created:
        return f"No threats were detected {this_period}."
    parts = [f"{_count(threats['mitigated'])} stopped"]
    if threats["benign"]:
        parts.append(f"{_count(threats['benign'])} marked harmless after review")
    if threats["not_mitigated"]:
        parts.append(f"{_count(threats['not_mitigated'])} not stopped")
    return (f"Of {_plural(created, 'threat')} detected: " + ", ".join(parts) + f"; {_count(threats['resolved'])} closed, "
            f"{_count(threats['auto_resolved'])} of them automatically.")


def summary(section: dict) -> str | None:
    """The executive summary's sentence: threats stopped and anything still open."""
    threats, agents = section["threats"], section["agents"]
    created, open_now = threats["created"], threats["open_now"]
    endpoints, this_period = _plural(agents["total"], "protected endpoint"), period_words(section.get("report_period"))["this"]
    if created:
        first = f"SentinelOne detected {_plural(created, 'threat')} on your endpoints {this_period} and stopped {_count(threats['mitigated'])}"
        if threats["auto_resolved"]:
            first += f" ({_count(threats['auto_resolved'])} handled automatically)"
        first += "."
    else:
        first = f"SentinelOne found no threats on your {endpoints} {this_period}."
    if open_now:
        second = f" {_plural(open_now, 'threat is', 'threats are')} still open and being dealt with."
    elif agents["total"] and not any(agents[key] for key, _, _ in HYGIENE_LINES):
        second = f" Nothing is left open, and all {endpoints} are up to date and checking in." if created else \
            " All of them are up to date and checking in."
    else:
        second = " Nothing is left open." if created else ""
    return first + second


# -- the section and its "Needs your attention" rules -------------------------------------------

SECTION = ReportSection(name="sentinelone", key="s1", title="Endpoint protection", compute=compute, context=context, summary=summary)

ATTENTION = (
    AttentionRule(
        kind="threats_open", rank=10, count=count_at("s1", "threats", "open_now"),
        text=lambda n: one_of(n, "1 security threat is still open: we are on it, and will tell you if we need anything from you.",
                              "{n} security threats are still open: we are on them, and will tell you if we need anything from you."),
    ),
    AttentionRule(
        kind="agents_offline", rank=50, count=count_at("s1", "agents", "offline"),
        text=lambda n: one_of(n, "1 computer has not checked in with endpoint protection for over 14 days: tell us if it is no longer in use.",
                              "{n} computers have not checked in with endpoint protection for over 14 days: tell us if they are no longer in use."),
    ),
    AttentionRule(
        kind="agents_out_of_date", rank=60, count=count_at("s1", "agents", "out_of_date"),
        text=lambda n: one_of(n, "1 computer runs an out-of-date endpoint protection agent: please leave it on so it can update.",
                              "{n} computers run an out-of-date endpoint protection agent: please leave them on so they can update."),
    ),
    AttentionRule(
        kind="agents_detect_only", rank=65, count=count_at("s1", "agents", "detect_only"),
        text=lambda n: one_of(n, "1 computer's endpoint protection only reports threats and does not stop them: "
                                 "tell us if we may switch it back to protect mode.",
                              "{n} computers' endpoint protection only reports threats and does not stop them: "
                              "tell us if we may switch them back to protect mode."),
    ),
)
