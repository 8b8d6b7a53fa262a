"""The quarterly review's judgements: a green, amber or red status per area, and the ranked recommendations.

The rules are written out in docs/metrics.md ("The quarterly review"); each status and each recommendation
carries the one reason behind it. Everything is read from the period's finished metrics JSON, plus the
tickets themselves for the issues that keep coming back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from utils.core.lookup import dig, number_or_none
from utils.core.period import Period
from utils.reporting.metrics_input import parse_timestamp

GREEN, AMBER, RED = "green", "amber", "red"
RECOMMENDATIONS_SHOWN = 5
RECURRING_AT_LEAST = 3  # the same category and requester this many times in the period: an issue that keeps coming back
# Attention kinds that outrank everything else among the recommendations: a live risk to the client.
URGENT_ATTENTION = ("threats_open", "admins_without_mfa")
SCORE_ACTIONS_SHOWN = 2


def _pct(rate: float) -> str:
    return f"{rate * 100:.0f}%"


def service_desk_status(metrics: Mapping[str, Any]) -> dict[str, str]:
    """Red: under 80% resolved on time, or a ticket open 90 days or more; amber: under 95% on time, a ticket open
    30 days or more, or under 80% positive ratings; else green."""
    resolution = number_or_none(dig(metrics, "sla", "resolution", "rate"))
    very_old = dig(metrics, "ageing", "ge_90d") or 0
    old = very_old + (dig(metrics, "ageing", "30_90d") or 0)
    positive = number_or_none(dig(metrics, "csat", "positive_rate"))
    if resolution is not None and resolution < 0.80:
        return {"status": RED, "reason": f"{_pct(resolution)} of tickets were resolved on time (the aim is 95% or more)."}
    if very_old:
        return {"status": RED, "reason": f"{very_old} ticket{'s have' if very_old != 1 else ' has'} been open for 90 days or more."}
    if resolution is not None and resolution < 0.95:
        return {"status": AMBER, "reason": f"{_pct(resolution)} of tickets were resolved on time (the aim is 95% or more)."}
    if old:
        return {"status": AMBER, "reason": f"{old} ticket{'s have' if old != 1 else ' has'} been open for 30 days or more."}
    if positive is not None and positive < 0.80:
        return {"status": AMBER, "reason": f"{_pct(positive)} of ratings were positive (the aim is 80% or more)."}
    return {"status": GREEN, "reason": "Tickets were answered and resolved on time, with none left open for long."}


def microsoft_365_status(m365: Mapping[str, Any] | None) -> dict[str, str] | None:
    """Red: an administrator without multifactor, or under 80% of users registered; amber: any user without it,
    a Secure Score that fell over the period, or a disabled account holding a licence; else green. None without data."""
    if not m365 or dig(m365, "mfa", "eligible") is None and dig(m365, "secure_score", "end") is None:
        return None
    admins = dig(m365, "mfa", "admins_without") or 0
    rate = number_or_none(dig(m365, "mfa", "rate"))
    change = number_or_none(dig(m365, "secure_score", "change"))
    disabled = dig(m365, "users", "disabled_licensed") or 0
    if admins:
        return {"status": RED, "reason": f"{admins} administrator account{'s' if admins != 1 else ''} without multifactor authentication."}
    if rate is not None and rate < 0.80:
        return {"status": RED, "reason": f"Only {_pct(rate)} of users are registered for multifactor authentication."}
    if rate is not None and rate < 1:
        return {"status": AMBER, "reason": f"{_pct(rate)} of users are registered for multifactor authentication, not yet all."}
    if change is not None and change < 0:
        return {"status": AMBER, "reason": f"The Secure Score fell by {abs(change):.1f} points over the period."}
    if disabled:
        return {"status": AMBER, "reason": f"{disabled} disabled account{'s still hold' if disabled != 1 else ' still holds'} a paid licence."}
    return {"status": GREEN, "reason": "Every user is protected by multifactor authentication and the Secure Score held."}


def endpoint_status(s1: Mapping[str, Any] | None) -> dict[str, str] | None:
    """Red: a threat still open or not stopped, or an infected computer; amber: agents out of date, offline or
    only detecting; else green. None without data."""
    if not s1 or not isinstance(s1.get("threats"), Mapping):
        return None
    open_now = (dig(s1, "threats", "open_now") or 0) + (dig(s1, "threats", "not_mitigated") or 0)
    infected = dig(s1, "agents", "infected") or 0
    weak = sum(dig(s1, "agents", key) or 0 for key in ("out_of_date", "offline", "detect_only"))
    if open_now or infected:
        count = open_now or infected
        return {"status": RED, "reason": f"{count} threat{'s are' if count != 1 else ' is'} still open on your computers."}
    if weak:
        return {"status": AMBER, "reason": f"{weak} computer{'s are' if weak != 1 else ' is'} out of date, offline or only detecting threats."}
    created = dig(s1, "threats", "created") or 0
    return {"status": GREEN, "reason": f"Every one of the {created} threats found was stopped." if created else "No threats were found."}


def area_statuses(metrics: Mapping[str, Any]) -> list[dict[str, str]]:
    """The quarter at a glance: one status per area the client has, in the review's order."""
    areas = [("Service desk", service_desk_status(metrics)), ("Microsoft 365", microsoft_365_status(metrics.get("m365"))),
             ("Endpoint protection", endpoint_status(metrics.get("s1")))]
    return [{"area": name, **status} for name, status in areas if status is not None]


def recurring_issues(raw: Mapping[str, Any], period: Period) -> list[dict[str, Any]]:
    """Tickets that keep coming back: the same category and requester RECURRING_AT_LEAST times or more in the period."""
    counts: Counter[tuple[str, str]] = Counter()
    for ticket in raw.get("tickets") or []:
        created = parse_timestamp(ticket.get("created_at")) if isinstance(ticket, Mapping) else None
        if created is None or not period.contains(created) or not ticket.get("category"):
            continue
        requester = ticket.get("requester") if isinstance(ticket.get("requester"), Mapping) else {}
        counts[(str(ticket["category"]), str(requester.get("name") or f"requester {ticket.get('requester_id')}"))] += 1
    return [{"category": category, "requester": requester, "tickets": count}
            for (category, requester), count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
            if count >= RECURRING_AT_LEAST]


def recommendations(metrics: Mapping[str, Any], recurring: Sequence[Mapping[str, Any]],
                    devices: Mapping[str, Any] | None = None) -> list[dict[str, str]]:
    """At most RECOMMENDATIONS_SHOWN, ranked: urgent attention items, issues that keep coming back, the Secure Score
    actions worth the most, devices out of warranty, then the other attention items; each with why."""
    attention = [item for item in metrics.get("attention") or [] if isinstance(item, Mapping)]
    ranked: list[dict[str, str]] = [{"text": str(item["text"]), "why": "it is a risk to your business today"}
                                    for item in attention if item.get("kind") in URGENT_ATTENTION]
    for issue in recurring[:2]:
        ranked.append({"text": f"Look into {issue['category']} for {issue['requester']}: {issue['tickets']} tickets this period.",
                       "why": "an issue that keeps coming back costs time until its cause is fixed"})
    actions = sorted(dig(metrics, "m365", "improvement_actions") or [], key=lambda action: -(number_or_none(action.get("gap")) or 0))
    for action in actions[:SCORE_ACTIONS_SHOWN]:
        ranked.append({"text": f"{action['title']}.", "why": f"it adds up to {action.get('gap', 0):g} points to your Secure Score"})
    ending = (devices or {}).get("warranty_ended", 0) + (devices or {}).get("warranty_ending", 0)
    if ending:
        ranked.append({"text": f"Plan to replace or extend the warranty of {ending} device{'s' if ending != 1 else ''}.",
                       "why": "out of warranty, a failure is repaired at your cost and may take longer"})
    ranked.extend({"text": str(item["text"]), "why": "it is still open from this period"}
                  for item in attention if item.get("kind") not in URGENT_ATTENTION)
    return ranked[:RECOMMENDATIONS_SHOWN]
