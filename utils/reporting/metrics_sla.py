"""How fast and how well tickets were handled: first response, resolution, the SLA targets, first contact.

Durations are counted in microseconds and reported in whole seconds, halves up (docs/metrics.md).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from fractions import Fraction

from utils.reporting.metrics_input import TicketSets
from utils.reporting.metrics_types import DurationSummary, FirstContact, FirstResponse, PriorityDuration, Resolution, Sla, SlaDetails

PRIORITY_ORDER = ("Urgent", "High", "Medium", "Low")


def round_half_up(value: Fraction | int) -> int:
    """Round to a whole number, halves away from zero for positive values (2.5 -> 3)."""
    return int((Fraction(value) + Fraction(1, 2)) // 1)


def duration_summary(durations: list[int]) -> DurationSummary:
    """count, median_s, mean_s and p90_s of durations given in microseconds; empty gives nulls."""
    n = len(durations)
    if not n:
        return {"count": 0, "median_s": None, "mean_s": None, "p90_s": None}
    values = sorted(durations)
    middle = n // 2
    median = Fraction(values[middle]) if n % 2 else Fraction(values[middle - 1] + values[middle], 2)
    # p90 is the nearest-rank value at ceil(9n/10), in integers: float ceil(0.9 * 70) would be 64, not 63.
    p90 = values[(9 * n + 9) // 10 - 1]
    return {
        "count": n,
        "median_s": round_half_up(median / 1_000_000),
        "mean_s": round_half_up(Fraction(sum(values), n * 1_000_000)),
        "p90_s": round_half_up(Fraction(p90, 1_000_000)),
    }


def median_seconds(durations: list[int]) -> int | None:
    """The median of microsecond durations, in whole seconds; None for none."""
    return duration_summary(durations)["median_s"]


def micros(delta: timedelta) -> int:
    """A time span in whole microseconds (exact, unlike total_seconds())."""
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def rate(numerator: int, denominator: int) -> float | None:
    """numerator / denominator, or None (not measurable) when nothing was counted."""
    return numerator / denominator if denominator else None


def seconds(delta: timedelta) -> int:
    """A time span in whole seconds, halves up."""
    return round_half_up(Fraction(micros(delta), 1_000_000))


def priority_rank(label: str) -> tuple[int, str]:
    """Sort key for priority labels: Urgent, High, Medium, Low, then any other label alphabetically."""
    return (PRIORITY_ORDER.index(label), "") if label in PRIORITY_ORDER else (len(PRIORITY_ORDER), label.casefold())


def first_response_section(sets: TicketSets) -> FirstResponse:
    """First response, as pulled: a reply after the period end still counts for a ticket created in it."""
    durations: list[int] = []
    awaiting = 0
    for t in sets.created:
        if not t.has_stats:
            continue
        if t.first_response is None:
            if t.resolved is None:
                awaiting += 1
        elif t.first_response >= t.created:
            durations.append(micros(t.first_response - t.created))
    return {**duration_summary(durations), "awaiting": awaiting}


def resolution_section(sets: TicketSets) -> Resolution:
    durations: list[int] = []
    by_priority: dict[str, list[int]] = defaultdict(list)
    for t, resolved in sets.resolved:
        if resolved >= t.created:
            duration = micros(resolved - t.created)
            durations.append(duration)
            by_priority[t.priority_text].append(duration)
    priorities: dict[str, PriorityDuration] = {
        name: {"count": len(by_priority[name]), "median_s": median_seconds(by_priority[name])}
        for name in sorted(by_priority, key=priority_rank)
    }
    return {**duration_summary(durations), "by_priority": priorities}


def sla_section(sets: TicketSets) -> tuple[Sla, SlaDetails]:
    """First-response and resolution targets met and breached, and what the report notes beside them."""
    end = sets.period.end
    # First response: over tickets created in the period that carry a target.
    fr_met = fr_breached = fr_pending = fr_no_reply_resolved = 0
    for t in sets.created:
        if t.fr_due_by is None or not t.has_stats:
            continue
        if t.first_response is not None:
            if t.first_response <= t.fr_due_by:
                fr_met += 1
            else:
                fr_breached += 1
        elif t.resolved is not None:
            fr_no_reply_resolved += 1
        elif t.fr_due_by < end:
            fr_breached += 1
        else:
            fr_pending += 1
    res_met = res_late = 0
    for t, resolved in sets.resolved:
        if t.due_by is not None:
            if resolved <= t.due_by:
                res_met += 1
            else:
                res_late += 1
    # An open ticket past its resolution target counts as breached every month until it is closed.
    overdue = sum(1 for t in sets.open_end if t.due_by is not None and t.due_by < end)
    # A month that resolved nothing with a target states no rate: "0% on time" for one overdue open ticket misleads.
    resolution_rate = rate(res_met, res_met + res_late + overdue) if res_met + res_late else None
    sla: Sla = {
        "first_response": {"met": fr_met, "breached": fr_breached, "rate": rate(fr_met, fr_met + fr_breached)},
        "resolution": {"met": res_met, "breached": res_late + overdue, "rate": resolution_rate},
    }
    details: SlaDetails = {
        "sla_first_response_pending": fr_pending,
        "sla_first_response_resolved_without_reply": fr_no_reply_resolved,
        "sla_resolution_late": res_late,
        "sla_resolution_overdue_open": overdue,
    }
    return sla, details


def first_contact_section(sets: TicketSets) -> FirstContact:
    first_contact = 0
    for t, _ in sets.resolved:
        replies = t.agent_public_replies()
        if replies is None:
            replies = t.outbound  # no conversations at all: the outbound count stands in
        if replies <= 1 and not t.reopened:
            first_contact += 1
    return {"resolved": len(sets.resolved), "first_contact": first_contact, "rate": rate(first_contact, len(sets.resolved))}
