"""Time spent: the time entries whose work falls in the month, billable or not, per agent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from utils.core.period import Period
from utils.reporting.metrics_input import Ticket, as_list, is_truthy, parse_time_spent
from utils.reporting.metrics_types import TimeDetails, TimeSpent
from utils.services.tickets import time_entry_moment


def time_section(tickets: Iterable[Ticket], period: Period, agents: Mapping[str, str], warnings: list[str]) -> tuple[TimeSpent, TimeDetails]:
    total = billable = entries = unreadable = 0
    per_agent: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for t in tickets:
        for entry in as_list(t.raw.get("time_entries")):
            if not isinstance(entry, dict):
                continue
            if not period.contains(time_entry_moment(entry)):
                continue
            minutes = parse_time_spent(entry.get("time_spent"))
            if minutes is None:
                unreadable += 1
                continue
            entries += 1
            is_billable = entry.get("billable") is not False and is_truthy(entry.get("billable", True))
            agent_id = entry.get("agent_id")
            label = agents.get(str(agent_id)) if agent_id is not None else None
            label = label or (f"Agent {agent_id}" if agent_id is not None else "Unknown agent")
            total += minutes
            per_agent[label][0] += minutes
            if is_billable:
                billable += minutes
                per_agent[label][1] += minutes
    if unreadable:
        warnings.append(f"{unreadable} time entr{'ies' if unreadable != 1 else 'y'} with an unreadable duration {'were' if unreadable != 1 else 'was'} left out")
    metrics: TimeSpent
    if not entries:
        metrics = {"total_minutes": None, "billable_minutes": None, "non_billable_minutes": None, "by_agent": {}}
    else:
        metrics = {
            "total_minutes": total,
            "billable_minutes": billable,
            "non_billable_minutes": total - billable,
            "by_agent": {
                label: {"total_minutes": m[0], "billable_minutes": m[1], "non_billable_minutes": m[0] - m[1]}
                for label, m in sorted(per_agent.items(), key=lambda item: (-item[1][0], item[0].casefold()))
            },
        }
    agent_names_missing = entries > 0 and not agents
    return metrics, {"time_entries": entries, "agent_names_missing": agent_names_missing}
