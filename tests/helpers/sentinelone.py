"""One small SentinelOne site whose every `s1.*` figure is worked out by hand (see EXPECTED).

Report month: October 2026 in America/New_York, so [2026-10-01T04:00Z, 2026-11-01T04:00Z).
The pull happens at AS_OF, 2026-11-02T09:00Z.
"""

from __future__ import annotations

from datetime import UTC, datetime

from simulators.sentinelone import SentinelOneData, format_timestamp
from utils.core.period import report_period

TIMEZONE = "America/New_York"
MONTH = "2026-10"
AS_OF = "2026-11-02T09:00:00+00:00"
START = datetime(2026, 10, 1, 4, 0, tzinfo=UTC)
END = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def build_site_data() -> tuple[SentinelOneData, str]:
    """(the data, the Acme site id); a second site's records must never leak into Acme's figures."""
    data = SentinelOneData(now=datetime.fromisoformat(AS_OF))
    acme = data.add_site("Acme Dental", active_licenses=5, total_licenses=10)
    other = data.add_site("Other Client", total_licenses=3)
    lt1 = data.add_agent(acme, "ACME-LT-001")
    lt2 = data.add_agent(acme, "ACME-LT-002", isUpToDate=False, agentVersion="23.1.0.1")
    # Last seen 18 days before the pull: offline.
    data.add_agent(acme, "ACME-MB-001", os_type="macos", last_active=utc(2026, 10, 15, 8, 0))
    srv = data.add_agent(acme, "ACME-SRV-01", os_type="linux", machine_type="server", infected=True, activeThreats=2,
                         mitigationMode="detect")
    data.add_agent(acme, "ACME-DT-001", isDecommissioned=True, isUpToDate=False)  # decommissioned: not counted at all
    # Exactly 14 days before the pull is not "more than 14 days": online.
    data.add_agent(acme, "ACME-DT-002", machine_type="desktop", last_active=utc(2026, 10, 19, 9, 0))
    foreign = data.add_agent(other, "OTHER-LT-001", isUpToDate=False)

    # One microsecond before the month (September, local time): not created in the month.
    data.add_threat(lt1, datetime(2026, 10, 1, 3, 59, 59, 999999, tzinfo=UTC))
    data.add_threat(lt1, START)  # Malware, malicious, mitigated, resolved automatically
    data.add_threat(lt1, utc(2026, 10, 10, 14, 0), name="Invoice.pdf.exe", classification="Trojan",
                    automatically_resolved=False)
    data.add_threat(lt2, utc(2026, 10, 20, 9, 30), name="pdf_converter.exe", classification="PUA", confidence="suspicious",
                    mitigation="marked_as_benign", verdict="false_positive", automatically_resolved=False)
    data.add_threat(srv, utc(2026, 10, 31, 23, 0), name="miner.sh", classification=None, confidence=None,
                    mitigation="not_mitigated", verdict=None, incident="unresolved", automatically_resolved=False)
    data.add_threat(srv, END, name="next_month.exe")  # the first instant after the month
    data.add_threat(srv, utc(2026, 8, 1, 12, 0), name="old_dropper.exe", incident="in_progress", automatically_resolved=False)
    data.add_threat(foreign, utc(2026, 10, 12, 12, 0), name="foreign.exe", incident="unresolved")
    return data, acme["id"]


EXPECTED = {
    "as_of": AS_OF,
    "threats": {
        "created": 4,
        "by_classification": {"Malware": 1, "PUA": 1, "Trojan": 1, "Unknown": 1},
        "by_confidence": {"malicious": 2, "n/a": 1, "suspicious": 1},
        "mitigated": 2,
        "not_mitigated": 1,
        "benign": 1,
        "by_verdict": {"true_positive": 2, "false_positive": 1, "undefined": 1},
        "resolved": 3,
        "auto_resolved": 1,
        "open_now": 2,
        "top_endpoints": [{"name": "ACME-LT-001", "threats": 2}, {"name": "ACME-LT-002", "threats": 1},
                          {"name": "ACME-SRV-01", "threats": 1}],
    },
    "agents": {"total": 5, "by_os": {"windows": 3, "linux": 1, "macos": 1}, "out_of_date": 1, "offline": 1,
               "infected": 1, "detect_only": 1},
    "licenses": {"active": 5, "total": 10, "unlimited": False},
}


def hand_built_raw(data: SentinelOneData, site_id: str, string_booleans: bool = False) -> dict:
    """A raw file as the puller writes it, built straight from the records (every threat, unfiltered)."""
    def maybe_strings(record: dict, keys: tuple[str, ...]) -> dict:
        if not string_booleans:
            return record
        return {**record, **{key: str(record[key]) for key in keys if isinstance(record.get(key), bool)}}

    threats = [{**threat, "threatInfo": maybe_strings(threat["threatInfo"], ("automaticallyResolved",))}
               for threat in data.threats if threat["agentRealtimeInfo"]["siteId"] == site_id]
    return {
        "schema_version": 1, "source": "sentinelone", "generated_at": AS_OF,
        "period": report_period(MONTH, TIMEZONE, now=datetime.fromisoformat(AS_OF)).as_dict(),
        "client": {"id": "101", "site_id": site_id},
        "site": maybe_strings(data.site(site_id), ("unlimitedLicenses",)),
        "threats": threats,
        "open_threats": [threat for threat in threats if threat["threatInfo"]["incidentStatus"] in ("unresolved", "in_progress")],
        "agents": [maybe_strings(agent, ("isDecommissioned", "isUpToDate", "infected", "isActive"))
                   for agent in data.agents if agent["siteId"] == site_id],
    }


__all__ = ["AS_OF", "EXPECTED", "MONTH", "TIMEZONE", "build_site_data", "format_timestamp", "hand_built_raw"]
