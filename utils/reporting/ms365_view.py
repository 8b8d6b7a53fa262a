"""The Microsoft 365 section in words: what templates/sections/ms365.* show, from the `m365` metrics.

Licence states in plain words, a Secure Score chart drawn from 0 (so a rise cannot look larger than
it is), and the accounts and multifactor counts explained where they differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from utils.reporting.report_format import format_pct
from utils.reporting.report_wording import period_words

INACTIVE_DAYS = 30
COMPARISON_LABELS = {"AllTenants": "All Microsoft 365 organisations", "TotalSeats": "Organisations of your size",
                     "IndustryTypes": "Your industry"}


def _points(value: float | None) -> str:
    if value is None:
        return "n/a"
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _signed(value: float) -> str:
    return ("+" if value > 0 else "−" if value < 0 else "±") + _points(abs(value))


def _count(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def _pct(rate: float | None) -> str:
    return format_pct(rate)  # the report's rounding: never 100% or 0% unless exactly so


def _date(iso: str | None) -> str:
    moment = datetime.fromisoformat(iso) if iso else None
    return f"{moment:%B} {moment.day}, {moment.year}" if moment else "the time of the pull"


def _short(day: str) -> str:
    moment = datetime.fromisoformat(day)
    return f"{moment:%b} {moment.day}"


def _reason(section: Mapping[str, Any], *parts: str) -> str | None:
    reasons = [section["unavailable"][part] for part in parts if part in section["unavailable"]]
    return f"Not available: {reasons[0]}." if reasons else None


# Graph's capabilityStatus of a subscribed SKU, in the client's words ("Enabled" says nothing worth a word).
LICENCE_STATES = {"Warning": "renewal due", "Suspended": "suspended", "LockedOut": "lapsed", "Deleted": "lapsed"}


def licence_state(row: Mapping[str, Any]) -> str:
    """'renewal due', 'suspended' or 'lapsed', with the date where Graph gives one; '' for an active licence.

    subscribedSku carries no date; a row that has one (`state_date`, from the subscription's next
    lifecycle date) gets it: 'renewal due by December 3, 2026'.
    """
    state = LICENCE_STATES.get(str(row.get("status")), "" if row.get("status") in (None, "Enabled") else "not active")
    date = row.get("state_date")
    if state and isinstance(date, str) and date:
        return f"{state} {'by' if state == 'renewal due' else 'since'} {_date(date)}"
    return state


def accounts_and_mfa_clause(users: Mapping[str, Any], mfa: Mapping[str, Any]) -> str:
    """Why the active members under Accounts and the members counted for multifactor sign-in differ, in one clause; '' when they agree."""
    members, eligible = users.get("members"), mfa.get("eligible")
    if members is None or eligible is None or members == eligible:
        return ""
    disabled = users.get("disabled_members")
    if isinstance(disabled, int) and eligible - members == disabled:
        return (f"Multifactor sign-in counts {eligible:,} members, the {members:,} active ones and "
                f"{disabled:,} disabled {'account' if disabled == 1 else 'accounts'} Microsoft still lists.")
    return (f"Multifactor sign-in counts the {eligible:,} member accounts in Microsoft's registration report, disabled ones "
            f"included, so it differs from the {members:,} active members here.")


CHART_HEIGHT = 48  # pixels of the daily Secure Score columns


def _daily_columns(daily: list[dict]) -> dict:
    """The month's daily scores as column heights on an axis from 0 to the most points possible.

    From 0, never from a round number under the lowest score: a cut-off axis made a rise from 58 to
    76 look several times its size.
    """
    scores = [point["score"] for point in daily]
    low = 0.0
    high = max([*scores, *(point.get("max") or 0 for point in daily), 1.0])
    columns = []
    for point in daily:
        height = max(2, round(CHART_HEIGHT * (point["score"] - low) / (high - low)))
        columns.append({"label": _short(point["date"]), "score": _points(point["score"]), "height": height})
    # Days in a row with the same score share one bar (a step chart): a few cells instead of one per
    # day keeps the email well under Gmail's clipping size.
    segments: list[dict] = []
    for column in columns:
        if segments and segments[-1]["score"] == column["score"]:
            segments[-1]["days"] += 1
        else:
            segments.append({"score": column["score"], "height": column["height"], "days": 1})
    for segment in segments:
        segment["width"] = round(100 * segment["days"] / len(columns), 2)
    return {"columns": columns, "segments": segments, "height": CHART_HEIGHT, "low": _points(low), "high": _points(high), "width": round(100 / len(columns), 2) if columns else 100,
            "first": columns[0]["label"] if columns else "", "last": columns[-1]["label"] if columns else ""}


def context(section: Mapping[str, Any]) -> dict:
    """What templates/sections/ms365.* show: every number worded, reasons where a part is unavailable."""
    score = section["secure_score"]
    end, start = score["end"], score["start"]
    score_view: dict[str, Any] = {"reason": _reason(section, "secure_score"), "available": end is not None}
    if end is not None:
        score_view.update(now=_points(end["score"]), max=_points(end["max"]), rate=_pct(end["rate"]),
                          start=_points(start["score"]) if start else "n/a",
                          change=_signed(score["change"]) if score["change"] is not None else "n/a",
                          compared=score["change"] is not None,
                          comparisons=[{"label": COMPARISON_LABELS.get(basis, basis), "value": _points(value)}
                                       for basis, value in (score["comparative"] or {}).items() if isinstance(value, (int, float))],
                          chart=_daily_columns(score["daily"] or []))
    elif score_view["reason"] is None:
        score_view["reason"] = f"No Secure Score was recorded for {period_words(section.get('report_period'))['this']}."
    actions = [{"title": action["title"], "category": action["category"] or "", "gap": "+" + _points(action["gap"]),
                "impact": action["user_impact"] or "n/a"} for action in section["improvement_actions"] or []]
    licenses = section["licenses"]
    users, mfa = section["users"], section["mfa"]
    return {
        "as_of": _date(section["as_of"]),
        "score": score_view,
        "actions": actions,
        "licenses": {
            "reason": _reason(section, "licenses"),
            "rows": [{"name": row["name"], "purchased": _count(row["purchased"]), "assigned": _count(row["assigned"]),
                      "unassigned": _count(row["unassigned"]), "status": licence_state(row)}
                     for row in licenses or []],
            "unassigned": _count(section["licenses_unassigned"]),
            "at_risk": section["licenses_at_risk"] or 0,
        },
        "users": {
            "reason": _reason(section, "users"),
            "tiles": [{"label": "Active members", "value": _count(users["members"])},
                      {"label": "Licensed", "value": _count(users["licensed"])},
                      {"label": "Disabled, still licensed", "value": _count(users["disabled_licensed"])},
                      {"label": f"Licensed, no sign-in for {INACTIVE_DAYS}+ days", "value": _count(users["inactive_licensed"])}],
            "sign_in_reason": _reason(section, "sign_in") if users["members"] is not None else None,
            "differs": accounts_and_mfa_clause(users, mfa),
        },
        "mfa": {
            "reason": _reason(section, "mfa"),
            "registered": _count(mfa["registered"]), "eligible": _count(mfa["eligible"]), "rate": _pct(mfa["rate"]),
            "bar": round(100 * mfa["rate"]) if mfa["rate"] is not None else 0,
            "admins_without": mfa["admins_without"] or 0,
            "names": list(mfa["without_names"] or []),
            "more": max(0, (mfa["eligible"] or 0) - (mfa["registered"] or 0) - len(mfa["without_names"] or [])),
        },
    }
