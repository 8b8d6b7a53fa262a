"""The metrics JSON as types: the contract between the metrics, the templates and anyone reading the file.

`build_report.py --json` writes a `Metrics`; docs/metrics.md says what each number means. The key
names are the schema (schema_version 1): add keys, never rename one. Durations are whole seconds,
rates fractions between 0 and 1, and null (None) means "not measurable this month", never 0.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class ClientInfo(TypedDict):
    id: Any  # the Freshservice department or company id, as the raw file gives it
    name: str


class PeriodInfo(TypedDict):
    kind: NotRequired[str]  # month, quarter or range (issue 19); absent in metrics stored before
    start: str  # ISO 8601 with the report zone's offset
    end: str  # exclusive
    timezone: str  # IANA name
    label: str  # "October 2026"


class Volume(TypedDict):
    created: int
    resolved: int
    open_at_start: int
    open_at_end: int


class Breakdown(TypedDict):
    """Counts of tickets created in the period, by label, largest first."""

    type: dict[str, int]
    priority: dict[str, int]
    source: dict[str, int]
    category: dict[str, int]
    status: dict[str, int]


class DurationSummary(TypedDict):
    count: int
    median_s: int | None
    mean_s: int | None
    p90_s: int | None


class FirstResponse(DurationSummary):
    awaiting: int  # created in the period, no first response and not resolved, as pulled


class PriorityDuration(TypedDict):
    count: int
    median_s: int | None


class Resolution(DurationSummary):
    by_priority: dict[str, PriorityDuration]


class SlaFigures(TypedDict):
    met: int
    breached: int
    rate: float | None


class Sla(TypedDict):
    first_response: SlaFigures
    resolution: SlaFigures


class FirstContact(TypedDict):
    resolved: int
    first_contact: int
    rate: float | None


class Csat(TypedDict):
    responses: int
    positive: int
    neutral: int
    negative: int
    average_pct: float | None  # mean score share, 0-1, over responses with a score
    positive_rate: float | None  # positive / responses, 0-1; None without responses


class AgentTime(TypedDict):
    total_minutes: int
    billable_minutes: int
    non_billable_minutes: int


class TimeSpent(TypedDict):
    total_minutes: int | None  # None: no time was logged in the period
    billable_minutes: int | None
    non_billable_minutes: int | None
    by_agent: dict[str, AgentTime]


class CreatedCount(TypedDict):
    created: int


# The ageing keys are not identifiers, hence the functional form.
Ageing = TypedDict("Ageing", {"lt_1d": int, "1_3d": int, "3_7d": int, "7_30d": int, "30_90d": int, "ge_90d": int})


class Backlog(TypedDict):
    """What the tickets open at the period end ask of the client."""

    waiting_on_client: int  # open, not resolved as pulled, status Pending or waiting on the customer
    ge_30d: int  # open for 30 days or more (ageing 30_90d + ge_90d)


class Requester(TypedDict):
    name: str
    tickets: int


class TrendEntry(TypedDict):
    month: str  # YYYY-MM
    created: int | None
    resolved: int | None
    first_response_median_s: int | None
    resolution_median_s: int | None
    sla_resolution_rate: float | None


class AttentionItem(TypedDict):
    kind: str
    count: int
    text: str


class RecentTicket(TypedDict):
    id: Any
    subject: str
    status_text: str
    priority_text: str
    created_at: str
    resolved_at: str | None
    resolution_s: int | None


class Metrics(TypedDict):
    """The whole metrics JSON of one client and month."""

    schema_version: int
    client: ClientInfo
    period: PeriodInfo
    volume: Volume
    breakdown: Breakdown
    first_response: FirstResponse
    resolution: Resolution
    sla: Sla
    fcr: FirstContact
    csat: Csat
    time: TimeSpent
    after_hours: CreatedCount
    proactive: CreatedCount
    ageing: Ageing
    backlog: Backlog
    top_requesters: list[Requester]
    trend: list[TrendEntry]
    previous: dict[str, Any] | None  # the month before's figures copied as stored (utils.reporting.history), or None
    attention: list[AttentionItem]
    recent_tickets: list[RecentTicket]
    warnings: list[str]
    # Other sources' sections (utils.reporting.section: ReportSection.key), present when the client has that source's data this month.
    m365: NotRequired[dict[str, Any]]
    s1: NotRequired[dict[str, Any]]


class ReportDetails(TypedDict):
    """Figures only the report shows (never in the metrics JSON): what a number leaves out, and why."""

    sla_first_response_pending: int  # still inside their first-response target at the period end
    sla_first_response_resolved_without_reply: int
    sla_resolution_late: int  # resolved in the period after their target
    sla_resolution_overdue_open: int  # open at the period end and past their target
    tickets_without_stats: int
    requester_names_missing: bool
    business_hours: str  # in words
    proactive_tags: list[str]
    generated_at: str | None  # when the data was pulled, in the report zone
    freshservice_url: str | None
    csat_comments: int
    csat_comment_texts: list[str]  # empty unless the settings allow quoting comments
    time_entries: int
    agent_names_missing: bool


# The parts of ReportDetails each section function gives.


class SlaDetails(TypedDict):
    sla_first_response_pending: int
    sla_first_response_resolved_without_reply: int
    sla_resolution_late: int
    sla_resolution_overdue_open: int


class CsatDetails(TypedDict):
    csat_comments: int
    csat_comment_texts: list[str]


class TimeDetails(TypedDict):
    time_entries: int
    agent_names_missing: bool
