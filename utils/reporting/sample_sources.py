"""The same client's Microsoft 365 and SentinelOne raw files, and the samples `build_report.py --check-template` renders.

Made up in code beside utils/reporting/sample_month.py's Freshservice month; nothing here touches
the network or the disk.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from utils.core.settings import ReportSettings
from utils.reporting.metrics import compute_metrics
from utils.reporting.sample_month import OCTOBER_NY, period_for, stamp, synthetic_month, utc

# The busy sample's MSP (name, logo, accent colour, contact line): data beside the code, as colours never sit in Python.
SAMPLE_BRANDING = Path(__file__).with_name("sample_branding.json")

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
    period = dict(OCTOBER_NY)
    history = {f"2026-{month:02d}": compute_metrics(synthetic_month(60, seed=month, period=period_for(2026, month, period["timezone"])))
               for month in range(5, 10)}
    settings = ReportSettings(**json.loads(SAMPLE_BRANDING.read_text(encoding="utf-8")))
    extra = {"ms365": sample_ms365(period), "sentinelone": sample_sentinelone(period)}
    return synthetic_month(366, period=period), extra, settings, history


def hostile_sample() -> tuple[dict[str, Any], dict[str, dict], Any, dict[str, str]]:
    """(raw, other sources, ReportSettings, {probe code: what it stands for}): every name the report shows holds `<script>pN`."""
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
