"""The Freshservice simulator's data: an Account of departments, people, tickets and their records.

Part of a local Freshservice API v2 simulator for tests, demos and benchmarks.

It serves the read-only endpoints IntegoReport uses (tickets, filter, conversations, time
entries, CSAT, departments, agents, requesters, ticket form fields) over real HTTP on a loopback
port, with Freshservice's quirks: Basic auth with the API key as user name, credit-based rate
limiting in fixed windows with sub-limits, `link` header paging, the 30-day default window of
GET /tickets, the 10-page cap of /tickets/filter, and switchable faults (5xx, dropped
connections, 403 on names, garbage bodies). Behaviour follows Part 1 of the team's Freshservice
API reference; response bodies follow its example bodies (docs/freshservice.md says what we rely on).

Standard library only, so the simulator runs wherever the project does:

    python -m simulators.freshservice --port 8089
"""

from __future__ import annotations

import html
import re
import threading
import unicodedata
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeGuard, overload

from simulators.freshservice_assets import AssetStore
from utils.core import clock

API_PREFIX = "/api/v2"
SUPPORT_EMAIL = "helpdesk@intego.freshservice.com"
# When no overall limit is configured the headers still carry a budget, as every real
# account has one; this is large enough never to bite in a test or a demo.
UNLIMITED_TOTAL = 5000
FILTER_PAGE_SIZE = 30
FILTER_QUERY_MAX_CHARS = 512
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
VIEW_CONVERSATION_EMBED_LIMIT = 10
LIST_DEFAULT_WINDOW = timedelta(days=30)
# Freshservice for MSPs (freshservice-api.md Part 1, "Two editions, one tool"): workspace 2 is the
# primary ("Default") client, answered when a call names no workspace; 3 is the MSP itself.
PRIMARY_WORKSPACE_ID = 2
MSP_WORKSPACE_ID = 3

_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

# Large ids like the ones a real account hands out; tickets keep small display ids.
_ID_BASES = {
    "department": 21000351600,
    "agent": 21001931800,
    "requester": 21000418000,
    "conversation": 21012345600,
    "time_entry": 21000167600,
    "csat": 21000000700,
    "ticket_stats": 21003880000,
}

ENDPOINT_KEYS = (
    "tickets.filter",
    "tickets.list",
    "tickets.view",
    "tickets.conversations",
    "tickets.time_entries",
    "tickets.csat_response",
    "departments",
    "companies",
    "agents",
    "requesters",
    "ticket_form_fields",
    "workspaces",
    "assets",
    "asset_types",
    "other",
)

# Key sets per endpoint, as in the example bodies: filter results lack urgency, impact,
# requested_for_id, attachments and tags (section 3.7); the list adds those but not the
# view-only keys of section 13.1.
FILTER_TICKET_KEYS = (
    "id", "subject", "type", "status", "priority", "source", "requester_id", "responder_id",
    "group_id", "department_id", "category", "sub_category", "item_category", "due_by",
    "fr_due_by", "is_escalated", "fr_escalated", "deleted", "spam", "email_config_id",
    "cc_emails", "fwd_emails", "reply_cc_emails", "to_emails", "description",
    "description_text", "custom_fields", "workspace_id", "created_at", "updated_at",
)
LIST_TICKET_KEYS = (
    "id", "subject", "type", "status", "priority", "urgency", "impact", "source",
    "requester_id", "requested_for_id", "responder_id", "group_id", "department_id",
    "category", "sub_category", "item_category", "due_by", "fr_due_by", "is_escalated",
    "fr_escalated", "deleted", "spam", "email_config_id", "cc_emails", "fwd_emails",
    "reply_cc_emails", "to_emails", "description", "description_text", "custom_fields",
    "attachments", "workspace_id", "created_at", "updated_at",
)
_TICKET_KEY_ORDER = (
    "id", "workspace_id", "type", "subject", "description", "description_text", "status",
    "priority", "urgency", "impact", "source", "requester_id", "requested_for_id",
    "responder_id", "group_id", "department_id", "category", "sub_category", "item_category",
    "due_by", "fr_due_by", "is_escalated", "fr_escalated", "spam", "deleted",
    "email_config_id", "cc_emails", "fwd_emails", "reply_cc_emails", "bcc_emails",
    "to_emails", "sla_policy_id", "applied_business_hours", "created_within_business_hours",
    "approval_status", "approval_status_name", "tasks_dependency_type", "resolution_notes",
    "resolution_notes_html", "custom_fields", "attachments", "created_at", "updated_at",
)
# Stored on the ticket record but only returned through `include`.
_EMBED_ONLY_KEYS = frozenset({"stats", "tags"})
_TICKET_TIMESTAMP_KEYS = ("due_by", "fr_due_by")
STATS_KEYS = (
    "ticket_id", "created_at", "updated_at", "opened_at", "pending_since", "resolved_at",
    "closed_at", "first_assigned_at", "assigned_at", "first_responded_at",
    "agent_responded_at", "requester_responded_at", "status_updated_at", "group_escalated",
    "inbound_count", "outbound_count", "first_resp_time_in_secs", "resolution_time_in_secs",
)
_STATS_TIMESTAMP_KEYS = (
    "opened_at", "pending_since", "resolved_at", "closed_at", "first_assigned_at",
    "assigned_at", "first_responded_at", "agent_responded_at", "requester_responded_at",
    "status_updated_at",
)

LIST_INCLUDES = frozenset({"stats", "requester", "tags"})
VIEW_INCLUDES = frozenset({"stats", "requester", "tags", "conversations"})

CSAT_RATING_TEXT = {
    103: "Extremely happy",
    102: "Very happy",
    101: "Awesome",
    100: "Neutral",
    -101: "Not good",
    -102: "Very unhappy",
    -103: "Extremely unhappy",
}
CSAT_PRIMARY_QUESTION = "How would you rate your overall satisfaction with the resolution?"
CSAT_COMMENT_QUESTION = "Any other comments?"

_TIME_SPENT_RE = re.compile(r"^\d+:[0-5]\d$")
_TAG_RE = re.compile(r"<[^>]+>")

ERROR_BODIES = {
    401: {"code": "invalid_credentials", "message": "You have to be logged in to perform this action."},
    403: {"code": "access_denied", "message": "You are not authorized to perform this action."},
    404: {"code": "not_found", "message": "The requested resource was not found."},
    405: {"code": "method_not_allowed", "message": "This method is not allowed on this resource."},
    429: {"message": "The API rate limit allotted for your Freshservice domain has been exhausted"},
    500: {"code": "internal_error", "message": "We're sorry, but something went wrong."},
    502: {"code": "bad_gateway", "message": "The server received an invalid response from upstream."},
    503: {"code": "service_unavailable", "message": "The service is temporarily unavailable."},
    504: {"code": "gateway_timeout", "message": "The upstream server did not answer in time."},
}


# --------------------------------------------------------------------------- timestamps


def to_utc(value: datetime | date | str) -> datetime:
    """Turn a datetime, date or ISO 8601 string into an aware UTC datetime (naive means UTC)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        text = value.strip()
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"
        moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@overload
def format_timestamp(value: None) -> None: ...
@overload
def format_timestamp(value: datetime | date | str) -> str: ...
def format_timestamp(value: datetime | date | str | None) -> str | None:
    """Format a moment as Freshservice does: `YYYY-MM-DDTHH:MM:SSZ` in UTC (None stays None)."""
    if value is None:
        return None
    if _is_canonical(value):
        return value
    if not (isinstance(value, datetime) and value.tzinfo is UTC):
        value = to_utc(value)
    # isoformat is several times faster than strftime, which matters for the demo's ~70k stamps.
    return value.isoformat(timespec="seconds")[:19] + "Z"


def _format_millis(moment: datetime, millis: int) -> str:
    # CSAT and some secondary objects carry milliseconds (section 13.5).
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{millis % 1000:03d}Z"


def _seconds_between(start: str | None, end: str | None) -> int | None:
    if start is None or end is None:
        return None
    return int((to_utc(end) - to_utc(start)).total_seconds())


def _html_to_text(body: str) -> str:
    return html.unescape(_TAG_RE.sub("", body)).strip()


def _text_to_html(text: str) -> str:
    return f"<div>{html.escape(text, quote=False)}</div>"


# --------------------------------------------------------------------------- account data


def default_ticket_form_fields(now: datetime) -> list[dict]:
    """Ticket form fields of a typical MSP account, including custom statuses 6 and 7."""
    stamp = format_timestamp(now - timedelta(days=900))

    def form_field(field_id: int, name: str, label: str, field_type: str, choices: list,
                   default_field: bool = True) -> dict:
        return {
            "id": 21000900000 + field_id, "workspace_id": None, "name": name, "label": label,
            "description": "", "field_type": field_type, "required": name == "subject",
            "required_for_closure": False, "default_field": default_field, "choices": choices,
            "nested_fields": [], "required_for_agents": name in ("subject", "status", "priority"),
            "required_for_customers": name == "subject", "label_for_customers": label,
            "customers_can_edit": name in ("subject", "description"),
            "displayed_to_customers": name not in ("group", "agent"), "portalcc": False,
            "portalcc_to": "company", "belongs_to_section": False,
            "created_at": stamp, "updated_at": stamp,
        }

    statuses = [
        {"id": 2, "value": "Open", "requester_display_value": "Being Processed"},
        {"id": 3, "value": "Pending", "requester_display_value": "Awaiting your Reply"},
        {"id": 4, "value": "Resolved", "requester_display_value": "This request has been resolved"},
        {"id": 5, "value": "Closed", "requester_display_value": "This request has been closed"},
        {"id": 6, "value": "Waiting on Customer", "requester_display_value": "Awaiting your Reply"},
        {"id": 7, "value": "Waiting on Third Party", "requester_display_value": "Being Processed"},
    ]
    priorities = [{"id": 1, "value": "Low"}, {"id": 2, "value": "Medium"},
                  {"id": 3, "value": "High"}, {"id": 4, "value": "Urgent"}]
    levels = [{"id": 1, "value": "Low"}, {"id": 2, "value": "Medium"}, {"id": 3, "value": "High"}]
    sources = [{"id": source_id, "value": label} for source_id, label in (
        (1, "Email"), (2, "Portal"), (3, "Phone"), (4, "Chat"), (5, "Feedback widget"),
        (6, "Yammer"), (7, "AWS Cloudwatch"), (8, "Pagerduty"), (9, "Walkup"), (10, "Slack"),
        (11, "Chatbot"), (12, "Workplace"), (13, "Employee Onboarding"), (14, "Alerts"),
        (15, "MS Teams"), (18, "Employee Offboarding"), (1001, "RMM Alert"))]
    categories = {
        "Access": ["Password Reset", "MFA", "Permissions"],
        "Accounts": ["Onboarding", "Offboarding"],
        "Hardware": ["Laptop", "Desktop", "Printer", "Phone", "Peripherals"],
        "Maintenance": ["Backup", "Patching", "Hardware Refresh"],
        "Monitoring": ["Server", "Network Device", "Endpoint"],
        "Network": ["VPN", "Wi-Fi", "Firewall", "Internet"],
        "Projects": ["Migration", "Office Move"],
        "Security": ["Phishing", "Malware", "Account Compromise"],
        "Software": ["Microsoft 365", "Line of Business", "Installation"],
    }
    category_choices = [
        {"id": index + 1, "value": name,
         "nested_options": [{"id": (index + 1) * 100 + sub_index, "value": sub}
                            for sub_index, sub in enumerate(subs)]}
        for index, (name, subs) in enumerate(categories.items())
    ]
    return [
        form_field(1, "requester", "Requester", "default_requester", []),
        form_field(2, "subject", "Subject", "default_subject", []),
        form_field(3, "ticket_type", "Type", "default_ticket_type",
                   [{"id": 1, "value": "Incident"}, {"id": 2, "value": "Service Request"}]),
        form_field(4, "status", "Status", "default_status", statuses),
        form_field(5, "priority", "Priority", "default_priority", priorities),
        form_field(6, "urgency", "Urgency", "default_urgency", levels),
        form_field(7, "impact", "Impact", "default_impact", levels),
        form_field(8, "source", "Source", "default_source", sources),
        form_field(9, "group", "Group", "default_group", []),
        form_field(10, "agent", "Agent", "default_agent", []),
        form_field(11, "department", "Department", "default_department", []),
        form_field(12, "category", "Category", "default_category", category_choices),
        form_field(13, "description", "Description", "default_description", []),
        form_field(14, "proactive_case", "Proactive case", "custom_checkbox", [],
                   default_field=False),
        form_field(15, "site", "Site", "custom_text", [], default_field=False),
    ]


class Account:
    """The data of one simulated Freshservice account; tests build their own, the demo builds a big one."""

    def __init__(self, now: datetime | None = None) -> None:
        """Create an empty account whose "current time" is `now` (default: the current UTC time)."""
        moment = to_utc(now) if now is not None else clock.now()
        self.now: datetime = moment.replace(microsecond=0)
        self.departments: dict[int, dict] = {}
        self.agents: dict[int, dict] = {}
        self.requesters: dict[int, dict] = {}
        self.tickets: dict[int, dict] = {}
        self.conversations: dict[int, list[dict]] = {}
        self.time_entries: dict[int, list[dict]] = {}
        self.csat: dict[int, dict] = {}
        self.workspaces: dict[int, dict] = {}  # Freshservice for MSPs only: see add_workspace
        self.assets = AssetStore()  # issue 19: none unless a test or the demo adds them
        self.ticket_form_fields: list[dict] = default_ticket_form_fields(self.now)
        self._id_counters = {kind: 0 for kind in _ID_BASES}
        self._last_ticket_id = 0
        self._explicit_updated_at: set[int] = set()
        self._explicit_stats: dict[int, frozenset[str]] = {}
        self._index_lock = threading.Lock()
        self._version = 0
        self._index_key: tuple[int, int] | None = None
        self._index_all: list[int] = []
        self._index_by_department: dict[int | None, list[int]] = {}

    # ---- ids

    def _new_id(self, kind: str) -> int:
        self._id_counters[kind] += 1
        return _ID_BASES[kind] + self._id_counters[kind]

    def _stamp(self, value: datetime | date | str | None, default: datetime) -> str:
        return format_timestamp(value if value is not None else default)

    # ---- people and departments

    def _person_name(self, user_id: int | None) -> str | None:
        if user_id is None:
            return None
        person = self.requesters.get(user_id) or self.agents.get(user_id)
        if person is None:
            return None
        return f"{person['first_name']} {person.get('last_name') or ''}".strip()

    def _person_email(self, user_id: int | None) -> str | None:
        if user_id in self.requesters:
            return self.requesters[user_id]["primary_email"]
        if user_id in self.agents:
            return self.agents[user_id]["email"]
        return None

    def add_department(self, name: str, **fields: Any) -> dict:
        """Add a department (a client company in MSP mode) and return it."""
        department_id = fields.pop("id", None) or self._new_id("department")
        created_at = self._stamp(fields.pop("created_at", None), self.now - timedelta(days=730))
        updated_at = self._stamp(fields.pop("updated_at", None), to_utc(created_at))
        department: dict[str, Any] = {
            "id": department_id, "name": name, "description": "", "head_user_id": None,
            "head_name": None, "prime_user_id": None, "prime_user_name": None, "domains": [],
            "custom_fields": {}, "created_at": created_at, "updated_at": updated_at,
        }
        department.update(fields)
        for user_key, name_key in (("head_user_id", "head_name"), ("prime_user_id", "prime_user_name")):
            if department[user_key] is not None and department[name_key] is None:
                department[name_key] = self._person_name(department[user_key])
        self.departments[department_id] = department
        return department

    def add_workspace(self, name: str, **fields: Any) -> dict:
        """Add a client workspace (Freshservice for MSPs) and return it.

        The first call also adds workspace 2, the primary "Default" client, and 3, the MSP's own
        workspace, as every such account has them; new ids count on from 4.
        """
        if not self.workspaces:
            for workspace_id, builtin in ((PRIMARY_WORKSPACE_ID, "Default"), (MSP_WORKSPACE_ID, "Intego MSP")):
                self.workspaces[workspace_id] = self._workspace_record(workspace_id, builtin, {"primary": workspace_id == PRIMARY_WORKSPACE_ID})
        workspace_id = fields.pop("id", None) or max(self.workspaces) + 1
        self.workspaces[workspace_id] = self._workspace_record(workspace_id, name, fields)
        return self.workspaces[workspace_id]

    def _workspace_record(self, workspace_id: int, name: str, fields: dict[str, Any]) -> dict:
        created_at = self._stamp(fields.pop("created_at", None), self.now - timedelta(days=730))
        workspace: dict[str, Any] = {
            "id": workspace_id, "name": name, "description": "", "type": "client", "primary": False,
            "restricted": False, "state": "active", "template_name": "Client", "created_at": created_at,
            "updated_at": self._stamp(fields.pop("updated_at", None), to_utc(created_at)),
            "metadata": {"primary_contact": None, "email_domains": [], "custom_fields": {}},
        }
        workspace.update(fields)
        return workspace

    def departments_as_workspaces(self) -> dict[int, int]:
        """Make every department a client workspace of its own (Freshservice for MSPs): the
        department and its tickets move into it. Returns {department id: workspace id}."""
        moved: dict[int, int] = {}
        for department in sorted(self.departments.values(), key=lambda item: item["id"]):
            workspace = self.add_workspace(department["name"], description=department.get("description") or "")
            workspace["metadata"]["email_domains"] = list(department.get("domains") or [])
            workspace["metadata"]["custom_fields"] = dict(department.get("custom_fields") or {})
            department["workspace_id"] = moved[department["id"]] = workspace["id"]
        for ticket in self.tickets.values():
            if ticket["department_id"] in moved:
                ticket["workspace_id"] = moved[ticket["department_id"]]
        return moved

    def add_agent(self, first_name: str, last_name: str, **fields: Any) -> dict:
        """Add an agent (a technician of the MSP) and return it."""
        agent_id = fields.pop("id", None) or self._new_id("agent")
        created_at = self._stamp(fields.pop("created_at", None), self.now - timedelta(days=1000))
        updated_at = self._stamp(fields.pop("updated_at", None), to_utc(created_at))
        email = fields.pop("email", None) or _email_for(first_name, last_name, "intego.example")
        agent: dict[str, Any] = {
            "id": agent_id, "first_name": first_name, "last_name": last_name, "occasional": False,
            "active": True, "email": email, "job_title": "Service Desk Engineer",
            "work_phone_number": None, "mobile_phone_number": None, "department_ids": [],
            "reporting_manager_id": None, "address": None, "time_zone": "Eastern Time (US & Canada)",
            "time_format": "12h", "language": "en", "location_id": None, "scoreboard_level_id": None,
            "member_of": [], "observer_of": [], "roles": [], "has_logged_in": True,
            "last_login_at": format_timestamp(self.now - timedelta(hours=3)),
            "last_active_at": format_timestamp(self.now - timedelta(hours=1)),
            "custom_fields": {}, "created_at": created_at, "updated_at": updated_at,
        }
        agent.update(fields)
        self.agents[agent_id] = agent
        return agent

    def add_requester(self, first_name: str, last_name: str, email: str | None = None,
                      **fields: Any) -> dict:
        """Add a requester (a client's end user); the e-mail defaults to the department's domain."""
        requester_id = fields.pop("id", None) or self._new_id("requester")
        created_at = self._stamp(fields.pop("created_at", None), self.now - timedelta(days=600))
        updated_at = self._stamp(fields.pop("updated_at", None), to_utc(created_at))
        if email is None:
            domain = "example.com"
            for department_id in fields.get("department_ids") or []:
                domains = self.departments.get(department_id, {}).get("domains") or []
                if domains:
                    domain = domains[0]
                    break
            email = _email_for(first_name, last_name, domain)
        requester: dict[str, Any] = {
            "id": requester_id, "first_name": first_name, "last_name": last_name,
            "job_title": None, "primary_email": email, "secondary_emails": [],
            "work_phone_number": None, "mobile_phone_number": None, "department_ids": [],
            "can_see_all_tickets_from_associated_departments": False,
            "reporting_manager_id": None, "address": None, "time_zone": "Eastern Time (US & Canada)",
            "time_format": "12h", "language": "en", "location_id": None,
            "background_information": None, "custom_fields": {}, "active": True,
            "has_logged_in": False, "is_agent": False, "created_at": created_at,
            "updated_at": updated_at,
        }
        requester.update(fields)
        self.requesters[requester_id] = requester
        return requester

    # ---- tickets

    def add_ticket(self, department_id: int | None, created_at: datetime | str,
                   **fields: Any) -> dict:
        """Add a ticket with every default field of a real one and return the stored record.

        `stats` may be partial and is completed; `resolved_at`/`closed_at` keywords go into
        stats. Without an explicit `status`, a closed ticket gets 5, a resolved one 4, else 2.
        `updated_at` follows the latest activity unless given.
        """
        ticket_id = fields.pop("id", None)
        if ticket_id is None:
            ticket_id = self._last_ticket_id + 1
        if ticket_id in self.tickets:
            raise ValueError(f"ticket {ticket_id} already exists")
        self._last_ticket_id = max(self._last_ticket_id, ticket_id)
        created = format_timestamp(created_at)
        stats_given = dict(fields.pop("stats", None) or {})
        for key in ("resolved_at", "closed_at"):
            if key in fields:
                stats_given[key] = fields.pop(key)
        tags = list(fields.pop("tags", None) or [])
        explicit_updated_at = fields.pop("updated_at", None)
        if "status" not in fields:
            if stats_given.get("closed_at") is not None:
                fields["status"] = 5
            elif stats_given.get("resolved_at") is not None:
                fields["status"] = 4
        requester_id = fields.get("requester_id")
        priority = fields.get("priority", 1)
        description_text = fields.pop("description_text", None)
        description = fields.pop("description", None)
        if description is None:
            description = _text_to_html(description_text or "")
        if description_text is None:
            description_text = _html_to_text(description)
        source = fields.get("source", 2)
        created_moment = to_utc(created)
        ticket: dict[str, Any] = {
            "id": ticket_id, "workspace_id": 2, "type": "Incident", "subject": "Support request",
            "description": description, "description_text": description_text, "status": 2,
            "priority": priority, "urgency": min(priority, 3), "impact": min(priority, 3),
            "source": source, "requester_id": requester_id, "requested_for_id": requester_id,
            "responder_id": None, "group_id": None, "department_id": department_id,
            "category": None, "sub_category": None, "item_category": None, "due_by": None,
            "fr_due_by": None, "is_escalated": False, "fr_escalated": False, "spam": False,
            "deleted": False, "email_config_id": 21000052011 if source == 1 else None,
            "cc_emails": [], "fwd_emails": [], "reply_cc_emails": [], "bcc_emails": None,
            "to_emails": [SUPPORT_EMAIL] if source == 1 else None,
            "sla_policy_id": 21000057781, "applied_business_hours": 21000011791,
            "created_within_business_hours": created_moment.weekday() < 5
            and 13 <= created_moment.hour < 23,
            "approval_status": 4, "approval_status_name": "Not Requested",
            "tasks_dependency_type": 0, "resolution_notes": None, "resolution_notes_html": None,
            "custom_fields": {}, "attachments": [], "created_at": created, "updated_at": created,
        }
        ticket.update(fields)
        for key in _TICKET_TIMESTAMP_KEYS:
            ticket[key] = format_timestamp(ticket[key])
        ticket["tags"] = tags
        ticket["stats"] = self._complete_stats(ticket_id, created, ticket["status"], stats_given)
        self._explicit_stats[ticket_id] = frozenset(stats_given)
        self.tickets[ticket_id] = ticket
        self.conversations.setdefault(ticket_id, [])
        self.time_entries.setdefault(ticket_id, [])
        if explicit_updated_at is not None:
            self._explicit_updated_at.add(ticket_id)
            ticket["updated_at"] = format_timestamp(explicit_updated_at)
            ticket["stats"]["updated_at"] = ticket["updated_at"]
        else:
            self._touch(ticket_id, *(ticket["stats"][key] for key in _STATS_TIMESTAMP_KEYS))
        self._version += 1
        return ticket

    def _complete_stats(self, ticket_id: int, created: str, status: int,
                        given: dict[str, Any]) -> dict:
        stats: dict[str, Any] = {key: None for key in STATS_KEYS}
        stats.update(given)
        stats["ticket_id"] = given.get("ticket_id", _ID_BASES["ticket_stats"] + ticket_id)
        stats["created_at"] = created
        stats["updated_at"] = created
        for key in _STATS_TIMESTAMP_KEYS:
            stats[key] = format_timestamp(stats[key])
        if "status_updated_at" not in given:
            stats["status_updated_at"] = (stats["closed_at"] or stats["resolved_at"]
                                          or stats["pending_since"] or stats["opened_at"] or created)
        stats["group_escalated"] = bool(stats["group_escalated"])
        if "inbound_count" not in given:
            stats["inbound_count"] = 1  # the message that opened the ticket
        if "outbound_count" not in given:
            stats["outbound_count"] = 0
        if "first_resp_time_in_secs" not in given:
            stats["first_resp_time_in_secs"] = _seconds_between(created, stats["first_responded_at"])
        if "resolution_time_in_secs" not in given:
            # Real accounts report 0 for unresolved tickets; clients must not trust it then.
            resolved = stats["resolved_at"] or stats["closed_at"]
            stats["resolution_time_in_secs"] = _seconds_between(created, resolved) or 0
        return stats

    def _touch(self, ticket_id: int, *moments: str | None) -> None:
        """Move updated_at forward to the latest of `moments` unless it was set explicitly."""
        if ticket_id in self._explicit_updated_at:
            return
        ticket = self.tickets[ticket_id]
        latest = ticket["updated_at"]
        for moment in moments:
            if moment is not None:
                stamp = format_timestamp(moment)
                if stamp > latest:
                    latest = stamp
        ticket["updated_at"] = latest
        ticket["stats"]["updated_at"] = latest

    def _ticket(self, ticket_id: int) -> dict:
        try:
            return self.tickets[ticket_id]
        except KeyError:
            raise KeyError(f"no ticket {ticket_id} in this account") from None

    def add_conversation(self, ticket_id: int, **fields: Any) -> dict:
        """Add a reply or note to a ticket; stats counts and last-response times follow it."""
        ticket = self._ticket(ticket_id)
        existing = self.conversations.setdefault(ticket_id, [])
        incoming = bool(fields.get("incoming", False))
        private = bool(fields.get("private", False))
        source = fields.get("source", 0)
        if "created_at" in fields:
            created = format_timestamp(fields.pop("created_at"))
        else:
            last = existing[-1]["created_at"] if existing else ticket["created_at"]
            created = format_timestamp(to_utc(last) + timedelta(minutes=10))
        user_id = fields.pop("user_id", None)
        if user_id is None:
            user_id = ticket["requester_id"] if incoming else ticket["responder_id"]
        body_text = fields.pop("body_text", None)
        body = fields.pop("body", None)
        if body is None:
            body = _text_to_html(body_text or "")
        if body_text is None:
            body_text = _html_to_text(body)
        is_email = source == 0
        requester_email = self._person_email(ticket["requester_id"])
        conversation = {
            "id": fields.pop("id", None) or self._new_id("conversation"),
            "ticket_id": ticket_id, "user_id": user_id, "body": body, "body_text": body_text,
            "incoming": incoming, "private": private, "source": source,
            "support_email": SUPPORT_EMAIL if is_email else None,
            "from_email": (self._person_email(user_id) if incoming else SUPPORT_EMAIL)
            if is_email else None,
            "to_emails": ([SUPPORT_EMAIL] if incoming else [requester_email] if requester_email else [])
            if is_email else [],
            "cc_emails": [], "bcc_emails": None, "attachments": [],
            "created_at": created, "updated_at": created,
        }
        conversation.update(fields)
        conversation["updated_at"] = format_timestamp(conversation["updated_at"])
        existing.append(conversation)
        if len(existing) > 1 and existing[-2]["created_at"] > created:
            existing.sort(key=lambda item: (item["created_at"], item["id"]))
        self._follow_conversation(ticket, conversation)
        self._touch(ticket_id, created, conversation["updated_at"])
        return conversation

    def _follow_conversation(self, ticket: dict, conversation: dict) -> None:
        # Mirror what Freshservice records in stats when a message arrives or leaves, except
        # for keys the test or demo fixed explicitly.
        stats = ticket["stats"]
        explicit = self._explicit_stats.get(ticket["id"], frozenset())
        created = conversation["created_at"]
        if conversation["source"] != 0 or conversation["private"]:
            return
        if conversation["incoming"]:
            if "inbound_count" not in explicit:
                stats["inbound_count"] += 1
            if "requester_responded_at" not in explicit:
                stats["requester_responded_at"] = max(stats["requester_responded_at"] or created, created)
            return
        if "outbound_count" not in explicit:
            stats["outbound_count"] += 1
        if "agent_responded_at" not in explicit:
            stats["agent_responded_at"] = max(stats["agent_responded_at"] or created, created)
        if "first_responded_at" not in explicit and (
                stats["first_responded_at"] is None or created < stats["first_responded_at"]):
            stats["first_responded_at"] = created
            if "first_resp_time_in_secs" not in explicit:
                stats["first_resp_time_in_secs"] = _seconds_between(ticket["created_at"], created)

    def add_time_entry(self, ticket_id: int, time_spent: str, **fields: Any) -> dict:
        """Log time on a ticket; `time_spent` is "H:MM" and the hours may exceed 99."""
        ticket = self._ticket(ticket_id)
        if not _TIME_SPENT_RE.match(time_spent):
            raise ValueError(f"time_spent must look like 'H:MM', got {time_spent!r}")
        stats = ticket["stats"]
        fallback = to_utc(stats["resolved_at"] or stats["closed_at"] or ticket["created_at"])
        if fields.get("executed_at"):
            fallback = to_utc(fields["executed_at"])  # logged when the work was done
        created = format_timestamp(fields.pop("created_at", None) or min(fallback + timedelta(minutes=5), self.now))
        entry = {
            "id": fields.pop("id", None) or self._new_id("time_entry"), "workspace_id": 2,
            "created_at": created, "updated_at": created, "start_time": created,
            "timer_running": False, "billable": True, "time_spent": time_spent,
            "executed_at": created, "task_id": None, "note": "",
            "agent_id": ticket["responder_id"], "custom_fields": {},
        }
        entry.update(fields)
        for key in ("updated_at", "start_time", "executed_at"):
            entry[key] = format_timestamp(entry[key])
        entries = self.time_entries.setdefault(ticket_id, [])
        entries.append(entry)
        entries.sort(key=lambda item: (item["created_at"], item["id"]))
        self._touch(ticket_id, entry["created_at"], entry["updated_at"])
        return entry

    def set_csat(self, ticket_id: int, **fields: Any) -> dict:
        """Record the requester's satisfaction survey answer and its feedback conversation.

        `score` (a dict like {"acquired_score": 4, "total_score": 4}) is only present when
        given, since real accounts return it only for some surveys; `comment` fills the
        "Any other comments?" answer.
        """
        ticket = self._ticket(ticket_id)
        stats = ticket["stats"]
        fallback = to_utc(stats["resolved_at"] or stats["closed_at"] or ticket["created_at"])
        created = to_utc(fields.pop("created_at", None) or min(fallback + timedelta(hours=20), self.now))
        rating = fields.pop("overall_rating", 101)
        rating_text = fields.pop("overall_rating_text", None) or CSAT_RATING_TEXT.get(rating, str(rating))
        comment = fields.pop("comment", None)
        score = fields.pop("score", None)
        csat_id = fields.pop("id", None) or self._new_id("csat")
        responses = [{"question": {"question_text": CSAT_PRIMARY_QUESTION},
                      "answers": [{"answer_text": rating_text}]}]
        if comment:
            responses.append({"question": {"question_text": CSAT_COMMENT_QUESTION},
                              "answers": [{"answer_text": comment}]})
        stamp = _format_millis(created, csat_id)
        response: dict[str, Any] = {"id": csat_id, "overall_rating": rating,
                                    "overall_rating_text": rating_text}
        if score is not None:
            response["score"] = dict(score)
        response.update({
            "primary_question": CSAT_PRIMARY_QUESTION, "questionnaire_responses": responses,
            "created_at": stamp, "updated_at": stamp,
        })
        response.update(fields)
        self.csat[ticket_id] = response
        name = self._person_name(ticket["requester_id"]) or "The requester"
        # A submitted survey leaves a feedback conversation (source 5) on the ticket.
        self.add_conversation(ticket_id, incoming=True, private=False, source=5,
                              user_id=ticket["requester_id"], created_at=created,
                              body_text=f"{name} has submitted the survey response")
        self._touch(ticket_id, format_timestamp(created))
        return response

    # ---- lookups for the server

    def _indexes(self) -> tuple[list[int], dict[int | None, list[int]]]:
        key = (self._version, len(self.tickets))
        with self._index_lock:
            if self._index_key != key:
                ordered = sorted(self.tickets.values(),
                                 key=lambda ticket: (ticket["created_at"], ticket["id"]), reverse=True)
                by_department: dict[int | None, list[int]] = {}
                for ticket in ordered:
                    by_department.setdefault(ticket["department_id"], []).append(ticket["id"])
                self._index_all = [ticket["id"] for ticket in ordered]
                self._index_by_department = by_department
                self._index_key = key
            return self._index_all, self._index_by_department

    def tickets_newest_first(self, department_ids: list[int] | None = None) -> list[dict]:
        """Tickets (spam and deleted included) newest created first, optionally of some departments."""
        all_ids, by_department = self._indexes()
        if department_ids is None:
            ids = all_ids
        else:
            ids = [ticket_id for department_id in dict.fromkeys(department_ids)
                   for ticket_id in by_department.get(department_id, [])]
        tickets = [self.tickets[ticket_id] for ticket_id in ids if ticket_id in self.tickets]
        if department_ids is not None and len(department_ids) > 1:
            tickets.sort(key=lambda ticket: (ticket["created_at"], ticket["id"]), reverse=True)
        return tickets

    def requester_embed(self, user_id: int | None) -> dict | None:
        """The `requester` object embedded by include=requester."""
        if user_id is None:
            return None
        if user_id in self.requesters:
            person = self.requesters[user_id]
            email, phone = person["primary_email"], person["work_phone_number"]
        elif user_id in self.agents:
            person = self.agents[user_id]
            email, phone = person["email"], person["work_phone_number"]
        else:
            return {"id": user_id, "name": None, "email": None, "mobile": None, "phone": None}
        return {"id": user_id, "name": self._person_name(user_id), "email": email,
                "mobile": person["mobile_phone_number"], "phone": phone}


_CANONICAL_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def _is_canonical(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and len(value) == 20 and _CANONICAL_RE.fullmatch(value) is not None


def _email_for(first_name: str, last_name: str, domain: str) -> str:
    # "Zoë Ångström" -> "zoe.angstrom", "O'Brien" -> "obrien": mailboxes are plain ASCII.
    local = unicodedata.normalize("NFKD", f"{first_name}.{last_name}".lower())
    local = re.sub(r"[^a-z0-9.]+", "", local.encode("ascii", "ignore").decode()) or "user"
    return f"{local.strip('.')}@{domain}"
