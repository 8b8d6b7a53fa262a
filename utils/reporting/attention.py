""""Needs your attention": what the client's owner can act on, in one short list near the top of the report.

`attention_items(metrics, waiting_on_client)` gives the `attention` list of the metrics JSON:
`{"kind", "count", "text"}` items, only counts above 0, in the fixed order of `KINDS`. A source
that is not configured (no `m365` or `s1` key) or could not read a figure (null) contributes
nothing. The figures themselves are defined in report-metrics.md and security-metrics.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from utils.core.lookup import count_or_none, dig
from utils.reporting.metrics_types import AttentionItem

# The order of kinds is the order of the list: the most urgent first.
KINDS = (
    "threats_open",
    "admins_without_mfa",
    "waiting_on_client",
    "users_without_mfa",
    "agents_offline",
    "agents_out_of_date",
    "old_open_tickets",
    "disabled_licensed",
    "unassigned_licenses",
)

NOTHING_TEXT = "Nothing needs your attention this month."


def _users_without_mfa(metrics: Mapping[str, Any]) -> int | None:
    eligible = count_or_none(dig(metrics, "m365", "mfa", "eligible"))
    registered = count_or_none(dig(metrics, "m365", "mfa", "registered"))
    return None if eligible is None or registered is None else eligible - registered


def _old_open(metrics: Mapping[str, Any]) -> int | None:
    ageing = metrics.get("ageing")
    if not isinstance(ageing, Mapping):
        return None
    # The ageing buckets split the tickets open at the period end by age; 30 days or more is these two.
    return (count_or_none(ageing.get("30_90d")) or 0) + (count_or_none(ageing.get("ge_90d")) or 0)


def _one(n: int, singular: str, plural: str) -> str:
    return singular.format(n=f"{n:,}") if n == 1 else plural.format(n=f"{n:,}")


# kind -> (its count from the metrics, its sentence for a count)
_RULES: dict[str, tuple[Callable[[Mapping[str, Any], int | None], int | None], Callable[[int], str]]] = {
    "threats_open": (
        lambda m, _w: count_or_none(dig(m, "s1", "threats", "open_now")),
        lambda n: _one(n, "1 security threat is still open: we are on it, and will tell you if we need anything from you.",
                       "{n} security threats are still open: we are on them, and will tell you if we need anything from you."),
    ),
    "admins_without_mfa": (
        lambda m, _w: count_or_none(dig(m, "m365", "mfa", "admins_without")),
        lambda n: _one(n, "1 administrator has no multifactor authentication: please let us set it up.",
                       "{n} administrators have no multifactor authentication: please let us set it up."),
    ),
    "waiting_on_client": (
        lambda _m, waiting: waiting,
        lambda n: _one(n, "1 ticket is waiting for your reply.", "{n} tickets are waiting for your reply."),
    ),
    "users_without_mfa": (
        lambda m, _w: _users_without_mfa(m),
        lambda n: _one(n, "1 user has not registered for multifactor authentication.",
                       "{n} users have not registered for multifactor authentication."),
    ),
    "agents_offline": (
        lambda m, _w: count_or_none(dig(m, "s1", "agents", "offline")),
        lambda n: _one(n, "1 computer has not checked in with endpoint protection for over 14 days: tell us if it is no longer in use.",
                       "{n} computers have not checked in with endpoint protection for over 14 days: tell us if they are no longer in use."),
    ),
    "agents_out_of_date": (
        lambda m, _w: count_or_none(dig(m, "s1", "agents", "out_of_date")),
        lambda n: _one(n, "1 computer runs an out-of-date endpoint protection agent: please leave it on so it can update.",
                       "{n} computers run an out-of-date endpoint protection agent: please leave them on so they can update."),
    ),
    "old_open_tickets": (
        lambda m, _w: _old_open(m),
        lambda n: _one(n, "1 ticket has been open for 30 days or more: tell us if it can be closed.",
                       "{n} tickets have been open for 30 days or more: tell us if they can be closed."),
    ),
    "disabled_licensed": (
        lambda m, _w: count_or_none(dig(m, "m365", "users", "disabled_licensed")),
        lambda n: _one(n, "1 disabled account still holds a paid licence: we can remove it to save the cost.",
                       "{n} disabled accounts still hold paid licences: we can remove them to save the cost."),
    ),
    "unassigned_licenses": (
        lambda m, _w: count_or_none(dig(m, "m365", "licenses_unassigned")),
        lambda n: _one(n, "1 Microsoft 365 licence is paid for but not assigned to anyone.",
                       "{n} Microsoft 365 licences are paid for but not assigned to anyone."),
    ),
}


def attention_items(metrics: Mapping[str, Any], waiting_on_client: int | None = None) -> list[AttentionItem]:
    """The `attention` list: every kind whose count is above 0, in the order of KINDS.

    `waiting_on_client` is the count of tickets open at the period end, not resolved as pulled, whose
    status is Pending or a "waiting on customer" label (utils.reporting.metrics computes it among the details).
    """
    items: list[AttentionItem] = []
    for kind in KINDS:
        count_of, text_of = _RULES[kind]
        count = count_of(metrics, waiting_on_client)
        if count is not None and count > 0:
            items.append({"kind": kind, "count": count, "text": text_of(count)})
    return items


def attention_view(items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What the report's "Needs your attention" section shows."""
    return {"lines": [str(item["text"]) for item in items], "nothing": NOTHING_TEXT if not items else ""}
