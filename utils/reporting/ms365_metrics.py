"""The Microsoft 365 section: `m365.*` metrics from raw_data/ms365_<ID>.json, their wording, and the summary sentence.

Definitions: the team's security-metrics reference (mirrored in README, "Microsoft 365"). A part the
puller could not read (`unavailable` in the raw file) gives null numbers, never 0, and its reason.
Licences, users and MFA are as of the pull (`as_of`); Secure Score is rebuilt from its daily history.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from utils.core.lookup import count_or_none, dig
from utils.reporting.ms365_view import INACTIVE_DAYS, _pct, _points, context  # noqa: F401  (context: the section's, re-exported)
from utils.reporting.report_wording import period_words
from utils.reporting.section import AttentionRule, ReportSection, count_at, one_of
from utils.services.tickets import parse_timestamp

PARTS = ("secure_score", "licenses", "users", "sign_in", "mfa")
FREE_SKU_UNITS = 10_000  # free and viral SKUs (Power Automate Free, Teams Exploratory) come with this many or more
TOP_ACTIONS = 5
# Control states a tenant sets in Secure Score: risk accepted, or handled by another product. Never recommended.
SETTLED_STATES = ("Ignored", "ThirdParty")
MAX_NAMES = 10

# Product names of the common SKUs (Microsoft Learn, "Product names and service plan identifiers for licensing").
SKU_NAMES = {
    "SPB": "Microsoft 365 Business Premium",
    "O365_BUSINESS_PREMIUM": "Microsoft 365 Business Standard",
    "O365_BUSINESS_ESSENTIALS": "Microsoft 365 Business Basic",
    "O365_BUSINESS": "Microsoft 365 Apps for business",
    "OFFICESUBSCRIPTION": "Microsoft 365 Apps for enterprise",
    "SPE_E3": "Microsoft 365 E3",
    "SPE_E5": "Microsoft 365 E5",
    "SPE_F1": "Microsoft 365 F3",
    "STANDARDPACK": "Office 365 E1",
    "ENTERPRISEPACK": "Office 365 E3",
    "ENTERPRISEPREMIUM": "Office 365 E5",
    "DESKLESSPACK": "Office 365 F3",
    "EXCHANGESTANDARD": "Exchange Online (Plan 1)",
    "EXCHANGEENTERPRISE": "Exchange Online (Plan 2)",
    "EXCHANGEDESKLESS": "Exchange Online Kiosk",
    "EXCHANGEARCHIVE_ADDON": "Exchange Online Archiving",
    "AAD_PREMIUM": "Microsoft Entra ID P1",
    "AAD_PREMIUM_P2": "Microsoft Entra ID P2",
    "EMS": "Enterprise Mobility + Security E3",
    "EMSPREMIUM": "Enterprise Mobility + Security E5",
    "INTUNE_A": "Microsoft Intune Plan 1",
    "ATP_ENTERPRISE": "Microsoft Defender for Office 365 (Plan 1)",
    "THREAT_INTELLIGENCE": "Microsoft Defender for Office 365 (Plan 2)",
    "DEFENDER_ENDPOINT_P1": "Microsoft Defender for Endpoint P1",
    "WIN_DEF_ATP": "Microsoft Defender for Endpoint P2",
    "MCOEV": "Microsoft Teams Phone Standard",
    "MCOMEETADV": "Microsoft Teams Audio Conferencing",
    "POWER_BI_PRO": "Power BI Pro",
    "POWER_BI_STANDARD": "Power BI (free)",
    "PROJECTPROFESSIONAL": "Project Plan 3",
    "VISIOCLIENT": "Visio Plan 2",
    "Microsoft_365_Copilot": "Microsoft 365 Copilot",
    "FLOW_FREE": "Power Automate Free",
    "TEAMS_EXPLORATORY": "Microsoft Teams Exploratory",
}

def product_name(sku: str) -> str:
    """The product name people know for a SKU code; the code itself when it is not a common one."""
    return SKU_NAMES.get(sku, sku)


# -- compute: raw file -> m365 metrics ---------------------------------------------------------

def compute(raw: Mapping[str, Any]) -> dict:
    """Every `m365.*` key from one raw file."""
    period = raw["period"]
    start, end = datetime.fromisoformat(period["start"]), datetime.fromisoformat(period["end"])
    zone = ZoneInfo(period["timezone"])
    as_of = raw["generated_at"]
    unavailable: dict[str, str] = {part: str(reason) for part, reason in (raw.get("unavailable") or {}).items() if part in PARTS}
    scores = None if "secure_score" in unavailable else raw.get("secure_scores") or []
    profiles = None if raw.get("control_profiles") is None else raw["control_profiles"]
    skus = None if "licenses" in unavailable else raw.get("subscribed_skus") or []
    users = None if "users" in unavailable else raw.get("users") or []
    records = None if "mfa" in unavailable else raw.get("mfa_registrations") or []
    secure_score, end_object = secure_score_metrics(scores, start, end, zone)
    licenses = license_rows(skus)
    return {
        "as_of": as_of,
        "secure_score": secure_score,
        "improvement_actions": improvement_actions(end_object, profiles),
        "licenses": licenses,
        "licenses_unassigned": None if licenses is None else sum(row["unassigned"] for row in licenses),
        "licenses_at_risk": None if skus is None else sum(_units_at_risk(sku) for sku in _paid(skus)),
        "users": user_metrics(users, sign_in="sign_in" not in unavailable, as_of=parse_timestamp(as_of)),
        "mfa": mfa_metrics(records),
        "unavailable": {part: unavailable[part] for part in PARTS if part in unavailable},
    }


def _score_point(item: Mapping[str, Any] | None) -> dict | None:
    if item is None:
        return None
    score, maximum = float(item["currentScore"]), float(item["maxScore"])
    return {"score": score, "max": maximum, "rate": score / maximum if maximum else None}


def secure_score_metrics(scores: list[dict] | None, start: datetime, end: datetime, zone: ZoneInfo) -> tuple[dict, dict | None]:
    """`m365.secure_score` and the Secure Score object the month ends on (for the improvement actions)."""
    if scores is None:
        return {"end": None, "start": None, "change": None, "comparative": None, "daily": None}, None
    dated = sorted(((moment, item) for item in scores if (moment := parse_timestamp(item.get("createdDateTime"))) is not None),
                   key=lambda pair: pair[0])
    end_object = next((item for moment, item in reversed(dated) if moment < end), None)
    start_object = next((item for moment, item in reversed(dated) if moment < start), None)
    end_point, start_point = _score_point(end_object), _score_point(start_object)
    comparative = None
    if end_object is not None:
        comparative = {str(entry.get("basis")): entry.get("averageScore") for entry in end_object.get("averageComparativeScores") or []}
    daily = [{"date": moment.astimezone(zone).date().isoformat(), "score": float(item["currentScore"]), "max": float(item["maxScore"])}
             for moment, item in dated if start <= moment < end]
    change = end_point["score"] - start_point["score"] if end_point and start_point else None
    return {"end": end_point, "start": start_point, "change": None if change is None else round(change, 2),
            "comparative": comparative, "daily": daily}, end_object


def latest_control_state(profile: Mapping[str, Any]) -> str | None:
    """The `state` of the profile's newest `controlStateUpdates` entry (by `updatedDateTime`), or None.

    Entries without a readable time count as older than any dated one; among equals the later in the list wins.
    """
    updates = [update for update in profile.get("controlStateUpdates") or [] if isinstance(update, Mapping)]
    if not updates:
        return None
    oldest = datetime.min.replace(tzinfo=UTC)
    newest = max(enumerate(updates), key=lambda pair: (parse_timestamp(pair[1].get("updatedDateTime")) or oldest, pair[0]))[1]
    state = newest.get("state")
    return state if isinstance(state, str) else None


def improvement_actions(end_object: Mapping[str, Any] | None, profiles: list[dict] | None) -> list[dict] | None:
    """The five controls with the largest gap between their profile's maximum and the score reached.

    Deprecated controls and those the tenant marked Ignored or ThirdParty are left out.
    """
    if end_object is None or profiles is None:
        return None
    by_id = {profile.get("id"): profile for profile in profiles
             if not profile.get("deprecated") and latest_control_state(profile) not in SETTLED_STATES}
    actions = []
    for control in end_object.get("controlScores") or []:
        profile = by_id.get(control.get("controlName"))
        if profile is None:
            continue
        gap = float(profile.get("maxScore") or 0) - float(control.get("score") or 0)
        if gap > 0:
            actions.append({"id": profile["id"], "title": profile.get("title") or profile["id"],
                            "category": profile.get("controlCategory") or control.get("controlCategory"),
                            "gap": round(gap, 2), "user_impact": profile.get("userImpact"), "action_url": profile.get("actionUrl"),
                            "_rank": profile.get("rank") if isinstance(profile.get("rank"), (int, float)) else float("inf")})
    actions.sort(key=lambda action: (-action["gap"], action["_rank"], action["id"]))
    return [{key: value for key, value in action.items() if key != "_rank"} for action in actions[:TOP_ACTIONS]]


def _paid(skus: list[dict]) -> list[dict]:
    return [sku for sku in skus if int((sku.get("prepaidUnits") or {}).get("enabled") or 0) < FREE_SKU_UNITS]


def _units_at_risk(sku: Mapping[str, Any]) -> int:
    units = sku.get("prepaidUnits") or {}
    return sum(int(units.get(kind) or 0) for kind in ("warning", "suspended", "lockedOut"))


def license_rows(skus: list[dict] | None) -> list[dict] | None:
    """`m365.licenses`: paid SKUs with purchased, assigned and unassigned seats, by product name."""
    if skus is None:
        return None
    rows = []
    for sku in _paid(skus):
        code = str(sku.get("skuPartNumber") or sku.get("skuId"))
        purchased = int((sku.get("prepaidUnits") or {}).get("enabled") or 0)
        assigned = int(sku.get("consumedUnits") or 0)
        rows.append({"sku": code, "name": product_name(code), "purchased": purchased, "assigned": assigned,
                     "unassigned": max(0, purchased - assigned), "status": sku.get("capabilityStatus")})
    return sorted(rows, key=lambda row: (row["name"], row["sku"]))


def _latest_sign_in(user: Mapping[str, Any]) -> datetime | None:
    activity = user.get("signInActivity") or {}
    moments = [parse_timestamp(activity.get(key)) for key in ("lastSignInDateTime", "lastNonInteractiveSignInDateTime")]
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None


def user_metrics(users: list[dict] | None, sign_in: bool, as_of: datetime | None) -> dict:
    """`m365.users`: enabled members, licensed ones, disabled-but-licensed, inactive licensed."""
    if users is None:
        return {"members": None, "licensed": None, "disabled_licensed": None, "inactive_licensed": None, "disabled_members": None}
    members = [user for user in users if user.get("userType") == "Member" and user.get("accountEnabled") is True]
    licensed = [user for user in members if user.get("assignedLicenses")]
    disabled = [user for user in users if user.get("accountEnabled") is False and user.get("assignedLicenses")]
    inactive = None
    if sign_in and as_of is not None:
        cutoff = as_of - timedelta(days=INACTIVE_DAYS)
        inactive = sum(1 for user in licensed if (latest := _latest_sign_in(user)) is None or latest < cutoff)
    disabled_members = sum(1 for user in users if user.get("userType") == "Member" and user.get("accountEnabled") is False)
    return {"members": len(members), "licensed": len(licensed), "disabled_licensed": len(disabled), "inactive_licensed": inactive,
            "disabled_members": disabled_members}


def mfa_metrics(records: list[dict] | None) -> dict:
    """`m365.mfa`: members registered for MFA, admins without it, and who is still missing it."""
    if records is None:
        return {"eligible": None, "registered": None, "rate": None, "admins_without": None, "without_names": None}
    members = [record for record in records if record.get("userType") == "member"]
    registered = sum(1 for record in members if record.get("isMfaRegistered") is True)
    without = [record for record in members if record.get("isMfaRegistered") is not True]
    without.sort(key=lambda record: (not record.get("isAdmin"), str(record.get("userDisplayName") or "").casefold(),
                                     str(record.get("userDisplayName") or "")))
    return {
        "eligible": len(members),
        "registered": registered,
        "rate": registered / len(members) if members else None,
        "admins_without": sum(1 for record in records if record.get("isAdmin") is True and record.get("isMfaRegistered") is not True),
        "without_names": [str(record.get("userDisplayName") or record.get("userPrincipalName") or "") for record in without[:MAX_NAMES]],
    }


# -- summary: m365 metrics -> the executive summary's sentence (the section's words: ms365_view.py) --

def summary(section: Mapping[str, Any]) -> str | None:
    """The executive summary's sentence: Secure Score and its change, and who still lacks MFA."""
    parts = []
    end, change = section["secure_score"]["end"], section["secure_score"]["change"]
    if end is not None:
        text = f"Your Microsoft 365 Secure Score is {_points(end['score'])} of {_points(end['max'])} ({_pct(end['rate'])})"
        if change is not None:
            over = f"over {period_words(section.get('report_period'))['the']}"
            text += f", unchanged {over}" if change == 0 else f", {'up' if change > 0 else 'down'} {_points(abs(change))} points {over}"
        parts.append(text)
    mfa = section["mfa"]
    if mfa["eligible"]:
        missing = mfa["eligible"] - mfa["registered"]
        if missing == 0:
            parts.append("everyone is registered for multifactor sign-in")
        else:
            admins = mfa["admins_without"] or 0
            text = f"{missing} {'person is' if missing == 1 else 'people are'} not yet registered for multifactor sign-in"
            if admins:
                text += f", including {admins} administrator{'s' if admins != 1 else ''}"
            parts.append(text)
    if not parts:
        return None
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."


# -- the section and its "Needs your attention" rules -------------------------------------------

SECTION = ReportSection(name="ms365", key="m365", title="Microsoft 365", compute=compute, context=context, summary=summary)


def users_without_mfa(metrics: Mapping[str, Any]) -> int | None:
    """Members with an MFA record who are not registered; None when either figure is unknown."""
    eligible = count_or_none(dig(metrics, "m365", "mfa", "eligible"))
    registered = count_or_none(dig(metrics, "m365", "mfa", "registered"))
    return None if eligible is None or registered is None else eligible - registered


ATTENTION = (
    AttentionRule(
        kind="admins_without_mfa", rank=20, count=count_at("m365", "mfa", "admins_without"),
        text=lambda n: one_of(n, "1 administrator has no multifactor authentication: please let us set it up.",
                              "{n} administrators have no multifactor authentication: please let us set it up."),
    ),
    AttentionRule(
        kind="users_without_mfa", rank=40, count=users_without_mfa,
        text=lambda n: one_of(n, "1 user has not registered for multifactor authentication.",
                              "{n} users have not registered for multifactor authentication."),
    ),
    AttentionRule(
        kind="disabled_licensed", rank=80, count=count_at("m365", "users", "disabled_licensed"),
        text=lambda n: one_of(n, "1 disabled account still holds a paid licence: we can remove it to save the cost.",
                              "{n} disabled accounts still hold paid licences: we can remove them to save the cost."),
    ),
    AttentionRule(
        kind="unassigned_licenses", rank=90, count=count_at("m365", "licenses_unassigned"),
        text=lambda n: one_of(n, "1 Microsoft 365 licence is paid for but not assigned to anyone.",
                              "{n} Microsoft 365 licences are paid for but not assigned to anyone."),
    ),
)
