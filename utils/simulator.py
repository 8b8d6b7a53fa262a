"""A local Freshservice API v2 simulator for tests, demos and benchmarks.

It serves the read-only endpoints IntegoReport uses (tickets, filter, conversations, time
entries, CSAT, departments, agents, requesters, ticket form fields) over real HTTP on a loopback
port, with Freshservice's quirks: Basic auth with the API key as user name, credit-based rate
limiting in fixed windows with sub-limits, `link` header paging, the 30-day default window of
GET /tickets, the 10-page cap of /tickets/filter, and switchable faults (5xx, dropped
connections, 403 on names, garbage bodies). Behaviour follows Part 1 of
shared/reference/freshservice-api.md; response bodies follow its section 13.

Standard library only, so the simulator runs wherever the project does:

    python -m utils.simulator --port 8089
"""

from __future__ import annotations

import argparse
import base64
import binascii
import copy
import hmac
import html
import json
import math
import random
import re
import signal
import socket
import sys
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

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
        moment = to_utc(now) if now is not None else datetime.now(UTC)
        self.now: datetime = moment.replace(microsecond=0)
        self.departments: dict[int, dict] = {}
        self.agents: dict[int, dict] = {}
        self.requesters: dict[int, dict] = {}
        self.tickets: dict[int, dict] = {}
        self.conversations: dict[int, list[dict]] = {}
        self.time_entries: dict[int, list[dict]] = {}
        self.csat: dict[int, dict] = {}
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
        department = {
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

    def add_agent(self, first_name: str, last_name: str, **fields: Any) -> dict:
        """Add an agent (a technician of the MSP) and return it."""
        agent_id = fields.pop("id", None) or self._new_id("agent")
        created_at = self._stamp(fields.pop("created_at", None), self.now - timedelta(days=1000))
        updated_at = self._stamp(fields.pop("updated_at", None), to_utc(created_at))
        email = fields.pop("email", None) or _email_for(first_name, last_name, "intego.example")
        agent = {
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
        requester = {
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


def _is_canonical(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 20 and _CANONICAL_RE.fullmatch(value) is not None


def _email_for(first_name: str, last_name: str, domain: str) -> str:
    # "Zoë Ångström" -> "zoe.angstrom", "O'Brien" -> "obrien": mailboxes are plain ASCII.
    local = unicodedata.normalize("NFKD", f"{first_name}.{last_name}".lower())
    local = re.sub(r"[^a-z0-9.]+", "", local.encode("ascii", "ignore").decode()) or "user"
    return f"{local.strip('.')}@{domain}"


# --------------------------------------------------------------------------- filter query


class QueryError(Exception):
    """A filter query Freshservice would refuse with 400; `error` is one entry of `errors`."""

    def __init__(self, field_name: str, message: str, code: str = "invalid_value") -> None:
        super().__init__(message)
        self.error = {"field": field_name, "message": message, "code": code}


_QUERY_TOKEN_RE = re.compile(r"""
    (?P<space>\s+)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<op>:\s*[<>]?)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<number>-?\d+(?:\.\d+)?(?![A-Za-z_]))
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
""", re.VERBOSE)

# field name in the query -> (kind, ticket key, accepts null)
FILTER_FIELDS: dict[str, tuple[str, str, bool]] = {
    "department_id": ("integer", "department_id", False),
    "requester_id": ("integer", "requester_id", False),
    "agent_id": ("integer", "responder_id", True),
    "group_id": ("integer", "group_id", True),
    "status": ("integer", "status", False),
    "priority": ("integer", "priority", False),
    "urgency": ("integer", "urgency", False),
    "impact": ("integer", "impact", False),
    "tag": ("tag", "tags", False),
    "created_at": ("date", "created_at", False),
    "updated_at": ("date", "updated_at", False),
    "due_by": ("date", "due_by", False),
    "fr_due_by": ("date", "fr_due_by", False),
}
_DATE_ONLY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@dataclass(frozen=True)
class _Condition:
    field_name: str
    operator: str  # ":", ":>" or ":<"
    kind: str  # "number", "string", "null", "boolean"
    value: Any


@dataclass(frozen=True)
class _Group:
    operator: str  # "AND" or "OR"
    children: tuple[Any, ...]


def _tokenize(query: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(query):
        match = _QUERY_TOKEN_RE.match(query, position)
        if match is None:
            raise QueryError("query", f"lexical error: invalid char in query text at offset {position}: "
                                      f"{query[position:position + 10]!r}")
        position = match.end()
        kind = match.lastgroup
        if kind != "space":
            tokens.append((kind, match.group(kind)))
    return tokens


class _QueryParser:
    """Recursive descent over: expr := term (OR term)*; term := factor (AND factor)*;
    factor := '(' expr ')' | field ':' ['>'|'<'] value. AND binds tighter than OR."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.position = 0

    def parse(self) -> Any:
        if not self.tokens:
            raise QueryError("query", "Invalid query syntax: the query is empty")
        node = self._expression()
        if self.position < len(self.tokens):
            raise QueryError("query", f"Invalid query syntax: unexpected {self.tokens[self.position][1]!r}")
        return node

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise QueryError("query", "Invalid query syntax: the query ends too early")
        self.position += 1
        return token

    def _is_keyword(self, keyword: str) -> bool:
        token = self._peek()
        return token is not None and token == ("word", keyword)

    def _expression(self) -> Any:
        children = [self._term()]
        while self._is_keyword("OR"):
            self.position += 1
            children.append(self._term())
        return children[0] if len(children) == 1 else _Group("OR", tuple(children))

    def _term(self) -> Any:
        children = [self._factor()]
        while self._is_keyword("AND"):
            self.position += 1
            children.append(self._factor())
        return children[0] if len(children) == 1 else _Group("AND", tuple(children))

    def _factor(self) -> Any:
        kind, text = self._take()
        if kind == "lparen":
            node = self._expression()
            if self._take()[0] != "rparen":
                raise QueryError("query", "Invalid query syntax: missing ')'")
            return node
        if kind != "word" or text in ("AND", "OR"):
            raise QueryError("query", f"Invalid query syntax: expected a field name, got {text!r}")
        op_kind, op_text = self._take()
        if op_kind != "op":
            raise QueryError("query", f"Invalid query syntax: expected ':' after {text!r}")
        operator = ":" + op_text[-1] if op_text[-1] in "<>" else ":"
        value_kind, value_text = self._take()
        if value_kind == "string":
            return _Condition(text, operator, "string", re.sub(r"\\(.)", r"\1", value_text[1:-1]))
        if value_kind == "number":
            number = float(value_text) if "." in value_text else int(value_text)
            return _Condition(text, operator, "number", number)
        if value_kind == "word" and value_text == "null":
            return _Condition(text, operator, "null", None)
        if value_kind == "word" and value_text in ("true", "false"):
            return _Condition(text, operator, "boolean", value_text == "true")
        raise QueryError("query", f"Invalid query syntax: unexpected value {value_text!r} for {text!r}")


def _date_bound(value: str, operator: str) -> str:
    # A bare 'yyyy-mm-dd' covers the whole UTC day on both sides: ':>' starts at 00:00:00Z and
    # ':<' ends at 23:59:59Z. The docs leave this open (section 3.4); inclusive days are the
    # reading under which the documented "created_at:<'2025-03-31'" means all of March, and a
    # careful client trims the period locally either way.
    if _DATE_ONLY_RE.match(value):
        day = datetime.strptime(value, "%Y-%m-%d")
        return day.strftime("%Y-%m-%dT00:00:00Z" if operator == ":>" else "%Y-%m-%dT23:59:59Z")
    datetime.strptime(value, _TIMESTAMP_FORMAT)  # raises ValueError on impossible dates
    return value


def _compile_condition(condition: _Condition) -> Callable[[dict], bool]:
    spec = FILTER_FIELDS.get(condition.field_name)
    if spec is None:
        raise QueryError(condition.field_name, "[:invalid_field]")
    kind, key, nullable = spec
    name, operator = condition.field_name, condition.operator
    if kind == "integer":
        if condition.kind == "null" and nullable and operator == ":":
            return lambda ticket: ticket.get(key) is None
        if condition.kind != "number" or not isinstance(condition.value, int) or condition.value < 0:
            raise QueryError(name, '["It should be a/an Positive Integer"]')
        number = condition.value
        if operator == ":>":
            return lambda ticket: ticket.get(key) is not None and ticket[key] >= number
        if operator == ":<":
            return lambda ticket: ticket.get(key) is not None and ticket[key] <= number
        return lambda ticket: ticket.get(key) == number
    if kind == "tag":
        if condition.kind != "string":
            raise QueryError(name, '["It should be a/an String"]')
        if operator != ":":
            raise QueryError(name, '["Only the : operator is supported for this field"]')
        wanted = condition.value.casefold()
        return lambda ticket: any(tag.casefold() == wanted for tag in ticket.get("tags") or ())
    # date fields: only :> and :< (section 3.2)
    if operator == ":":
        raise QueryError(name, '["Only :> and :< are supported for date fields"]')
    if condition.kind != "string":
        raise QueryError(name, "[\"It should be a/an date in the format 'yyyy-mm-dd'\"]")
    try:
        bound = _date_bound(condition.value, operator)
    except ValueError:
        raise QueryError(name, "[\"It should be a/an date in the format 'yyyy-mm-dd'\"]") from None
    if operator == ":>":
        return lambda ticket: ticket.get(key) is not None and ticket[key] >= bound
    return lambda ticket: ticket.get(key) is not None and ticket[key] <= bound


def _compile(node: Any) -> Callable[[dict], bool]:
    if isinstance(node, _Condition):
        return _compile_condition(node)
    children = [_compile(child) for child in node.children]
    if node.operator == "AND":
        return lambda ticket: all(child(ticket) for child in children)
    return lambda ticket: any(child(ticket) for child in children)


def _department_scope(node: Any) -> set[int] | None:
    """Departments a query can only match, or None when it may match any (narrows the scan)."""
    if isinstance(node, _Condition):
        if node.field_name == "department_id" and node.operator == ":" and node.kind == "number":
            return {node.value}
        return None
    scopes = [_department_scope(child) for child in node.children]
    if node.operator == "AND":
        known = [scope for scope in scopes if scope is not None]
        if not known:
            return None
        return set.intersection(*known)
    if any(scope is None for scope in scopes):
        return None
    return set().union(*scopes)


def _named_departments(node: Any) -> set[int]:
    if isinstance(node, _Condition):
        if node.field_name == "department_id" and node.kind == "number":
            return {node.value}
        return set()
    return set().union(*(_named_departments(child) for child in node.children))


@dataclass(frozen=True)
class CompiledQuery:
    """A parsed filter query: a predicate over ticket records plus what it says about departments."""

    predicate: Callable[[dict], bool]
    department_scope: set[int] | None
    named_departments: set[int]


def compile_filter_query(raw: str) -> CompiledQuery:
    """Parse the `query` parameter of /tickets/filter (outer double quotes included) or raise QueryError."""
    if len(raw) < 2 or not (raw.startswith('"') and raw.endswith('"')):
        raise QueryError("query", "lexical error: invalid char in json text. "
                                  "The query must be enclosed in double quotes")
    inner = raw[1:-1]
    if '"' in inner:
        raise QueryError("query", "lexical error: invalid char in json text. Unexpected '\"' in the query")
    # The 512-character limit is taken on the expression inside the quotes (section 3.5 leaves it open).
    if len(inner) > FILTER_QUERY_MAX_CHARS:
        raise QueryError("query", f"It should not be more than {FILTER_QUERY_MAX_CHARS} characters")
    tree = _QueryParser(_tokenize(inner)).parse()
    return CompiledQuery(_compile(tree), _department_scope(tree), _named_departments(tree))


# --------------------------------------------------------------------------- server


@dataclass
class SimulatorSettings:
    """Knobs of a running simulator; tests may change them while it serves."""

    api_key: str = "demo-key-not-secret"
    rate_limit_total: int | None = None  # credits per window; None: unlimited (headers still sent)
    rate_window_seconds: float = 60.0
    list_tickets_sublimit: int | None = None  # credits per window for GET /tickets
    view_ticket_sublimit: int | None = None  # credits per window for GET /tickets/{id}
    latency_seconds: float = 0.0
    error_rate: float = 0.0  # share of requests answered 500/502/503
    drop_rate: float = 0.0  # share of requests whose connection is closed without an answer
    forbidden_requesters: bool = False  # /requesters* answer 403, and so does a ticket call with include=requester
    forbidden_agents: bool = False
    forbidden_form_fields: bool = False
    failing_department_ids: set[int] = field(default_factory=set)
    companies_endpoint: bool = False  # True: /companies serves the departments
    filter_page_cap: int = 10
    garbage_response: str | None = None  # "html" or "badjson"
    seed: int = 7


@dataclass
class _Reply:
    status: int
    body: Any = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False
    raw: bytes | None = None
    content_type: str = "application/json; charset=utf-8"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    simulator: Simulator


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FreshserviceSimulator/1.0"
    sys_version = ""
    timeout = 30  # idle keep-alive connections let their thread go after this

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as two writes; without TCP_NODELAY, Nagle's algorithm and the
        # client's delayed ACK stall every small response by ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _dispatch(self) -> None:
        self.server.simulator._serve(self)  # type: ignore[attr-defined]

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests and demos read the counters instead of an access log."""


def _validation_error(*errors: dict) -> _Reply:
    return _Reply(400, {"description": "Validation failed", "errors": list(errors)})


def _invalid(field_name: str, message: str, code: str = "invalid_value") -> _Reply:
    return _validation_error({"field": field_name, "message": message, "code": code})


def _includes(params: dict[str, str]) -> list[str]:
    raw = params.get("include", "")
    return list(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))


class Simulator:
    """A Freshservice API v2 server on a loopback port, serving one Account."""

    def __init__(self, account: Account | None = None, settings: SimulatorSettings | None = None,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        """Prepare a simulator; without an account it serves the deterministic demo account."""
        if account is None:
            from utils.demo_account import build_demo_account
            account = build_demo_account()
        self.account = account
        self.settings = settings or SimulatorSettings()
        self.host = host
        self.port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._rng = random.Random(self.settings.seed)
        self._forced: deque[int] = deque()
        self._last_requests: deque[tuple[str, str, dict[str, str]]] = deque(maxlen=200)
        self._window_start: float | None = None
        self._window_used = 0
        self._window_sub_used: dict[str, int] = {}
        self._window_number = 0
        self._counters = self._empty_counters()

    # ---- lifecycle

    def start(self) -> str:
        """Start serving in a daemon thread and return the base URL."""
        if self._server is not None:
            return self.url
        server = _Server((self.host, self.port), _Handler)
        server.simulator = self
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"freshservice-simulator-{self.port}", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        """Stop serving and free the port."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL without a trailing slash; the API lives under url + "/api/v2"."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # ---- test helpers

    def fail_next(self, count: int, status: int = 503) -> None:
        """Answer the next `count` requests with `status` (0: drop the connection)."""
        with self._lock:
            self._forced.extend([status] * count)

    def counters(self) -> dict:
        """A snapshot of the request, credit and status counters."""
        with self._lock:
            return copy.deepcopy(self._counters)

    def reset_counters(self) -> None:
        """Zero the counters and forget the recorded requests (the rate budget is kept)."""
        with self._lock:
            self._counters = self._empty_counters()
            self._last_requests.clear()

    @property
    def last_requests(self) -> list[tuple[str, str, dict[str, str]]]:
        """(method, path with query, headers) of the last ~200 requests, oldest first."""
        with self._lock:
            return list(self._last_requests)

    @staticmethod
    def _empty_counters() -> dict:
        return {"requests": 0, "credits": 0, "rate_limited": 0, "dropped": 0,
                "by_endpoint": {key: {"requests": 0, "credits": 0} for key in ENDPOINT_KEYS},
                "status": {}}

    # ---- request handling

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        if length:
            handler.rfile.read(length)
        method = handler.command
        with self._lock:
            self._last_requests.append((method, handler.path, dict(handler.headers.items())))
        split = urlsplit(handler.path)
        path = split.path.rstrip("/") or "/"
        pairs = parse_qsl(split.query, keep_blank_values=True)
        params = {}
        for key, value in pairs:
            params.setdefault(key, value)
        endpoint, action, path_args = self._route(path)
        settings = self.settings
        if settings.latency_seconds > 0:
            time.sleep(settings.latency_seconds)
        reply, cost = self._answer(handler, method, path, pairs, params, endpoint, action, path_args)
        self._send(handler, reply, endpoint, cost)

    def _answer(self, handler: BaseHTTPRequestHandler, method: str, path: str,
                pairs: list[tuple[str, str]], params: dict[str, str], endpoint: str,
                action: Callable[..., _Reply] | None, path_args: tuple[str, ...]) -> tuple[_Reply, int]:
        """Decide the reply and the credits it costs, in Freshservice's order of checks."""
        settings = self.settings
        if settings.garbage_response == "html":
            return _Reply(200, raw=b"<html><head><title>Freshservice</title></head><body>"
                                   b"<h1>We'll be back shortly</h1></body></html>",
                          content_type="text/html; charset=utf-8"), 0
        if settings.garbage_response == "badjson":
            return _Reply(200, raw=b'{"tickets": [{"id": 1, "subject": "Printer jam", "stat'), 0
        with self._lock:
            forced = self._forced.popleft() if self._forced else None
        if forced is not None:
            return self._forced_reply(endpoint, forced)
        if not path.startswith(API_PREFIX + "/") and path != API_PREFIX:
            return _Reply(404, ERROR_BODIES[404]), 0
        if not self._authorised(handler.headers.get("Authorization")):
            return _Reply(401, ERROR_BODIES[401]), self._charge_if_possible(endpoint, 1)
        includes = _includes(params)
        nominal = 1
        if endpoint == "tickets.list":
            nominal += 2 * len(includes)
        elif endpoint == "tickets.view":
            nominal += len(includes)
        allowed, retry_after, window = self._reserve(endpoint, nominal)
        if not allowed:
            return _Reply(429, ERROR_BODIES[429], [("Retry-After", str(retry_after))]), 0
        with self._lock:
            drop = settings.drop_rate > 0 and self._rng.random() < settings.drop_rate
            error = None
            if not drop and settings.error_rate > 0 and self._rng.random() < settings.error_rate:
                error = self._rng.choice((500, 502, 503))
        if drop:
            reply = _Reply(0, drop=True)
        elif error is not None:
            reply = _Reply(error, ERROR_BODIES[error])
        elif method != "GET":
            reply = _Reply(405 if action is not None else 404,
                           ERROR_BODIES[405 if action is not None else 404])
        elif action is None:
            reply = _Reply(404, ERROR_BODIES[404])
        else:
            reply = action(handler, path, pairs, params, includes, *path_args)
        cost = nominal
        if reply.status >= 400 or reply.drop:
            # Failed calls still cost one credit; refund what the includes would have cost.
            cost = 1
            self._refund(endpoint, nominal - 1, window)
        return reply, cost

    def _forced_reply(self, endpoint: str, status: int) -> tuple[_Reply, int]:
        if status == 0:
            return _Reply(0, drop=True), self._charge_if_possible(endpoint, 1)
        if status == 429:
            return _Reply(429, ERROR_BODIES[429], [("Retry-After", "1")]), 0
        body = ERROR_BODIES.get(status, {"code": "error", "message": f"HTTP {status}"})
        return _Reply(status, body), self._charge_if_possible(endpoint, 1)

    def _authorised(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        user = decoded.split(":", 1)[0]
        return hmac.compare_digest(user.encode(), self.settings.api_key.encode())

    # ---- budget

    def _roll_window(self, now: float) -> None:
        window = max(self.settings.rate_window_seconds, 0.001)
        if self._window_start is None or now >= self._window_start + window:
            self._window_start = now
            self._window_used = 0
            self._window_sub_used = {}
            self._window_number += 1

    def _sublimit(self, endpoint: str) -> int | None:
        if endpoint == "tickets.list":
            return self.settings.list_tickets_sublimit
        if endpoint == "tickets.view":
            return self.settings.view_ticket_sublimit
        return None

    def _reserve(self, endpoint: str, cost: int) -> tuple[bool, int, int]:
        """Take `cost` credits from the window; (allowed, retry_after seconds, window number)."""
        with self._lock:
            now = time.monotonic()
            self._roll_window(now)
            total = self.settings.rate_limit_total
            sublimit = self._sublimit(endpoint)
            over_total = total is not None and self._window_used + cost > total
            over_sub = sublimit is not None and self._window_sub_used.get(endpoint, 0) + cost > sublimit
            if over_total or over_sub:
                window_end = self._window_start + max(self.settings.rate_window_seconds, 0.001)
                return False, max(1, math.ceil(window_end - now)), self._window_number
            self._window_used += cost
            self._window_sub_used[endpoint] = self._window_sub_used.get(endpoint, 0) + cost
            return True, 0, self._window_number

    def _refund(self, endpoint: str, credits: int, window: int) -> None:
        if credits <= 0:
            return
        with self._lock:
            if window == self._window_number:
                self._window_used = max(0, self._window_used - credits)
                self._window_sub_used[endpoint] = max(0, self._window_sub_used.get(endpoint, 0) - credits)

    def _charge_if_possible(self, endpoint: str, credits: int) -> int:
        """Charge a failed call's credit when the budget has it (it is never refused for it)."""
        with self._lock:
            self._roll_window(time.monotonic())
            total = self.settings.rate_limit_total
            if total is not None and self._window_used + credits > total:
                return 0
            self._window_used += credits
            self._window_sub_used[endpoint] = self._window_sub_used.get(endpoint, 0) + credits
            return credits

    def _rate_headers(self, cost: int) -> list[tuple[str, str]]:
        with self._lock:
            self._roll_window(time.monotonic())
            total = self.settings.rate_limit_total
            total = UNLIMITED_TOTAL if total is None else total
            remaining = max(0, total - self._window_used)
        return [("X-Ratelimit-Total", str(total)), ("X-Ratelimit-Remaining", str(remaining)),
                ("X-Ratelimit-Used-CurrentRequest", str(cost))]

    # ---- sending

    def _send(self, handler: BaseHTTPRequestHandler, reply: _Reply, endpoint: str, cost: int) -> None:
        with self._lock:
            counters = self._counters
            counters["requests"] += 1
            counters["credits"] += cost
            counters["by_endpoint"][endpoint]["requests"] += 1
            counters["by_endpoint"][endpoint]["credits"] += cost
            if reply.drop:
                counters["dropped"] += 1
            else:
                counters["status"][reply.status] = counters["status"].get(reply.status, 0) + 1
                if reply.status == 429:
                    counters["rate_limited"] += 1
        if reply.drop:
            # Close the connection without a byte of answer, like a reset behind a load balancer.
            handler.close_connection = True
            return
        if reply.raw is not None:
            body = reply.raw
        else:
            body = json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", reply.content_type)
            for name, value in self._rate_headers(cost):
                handler.send_header(name, value)
            handler.send_header("X-Freshservice-Api-Version", "latest=v2; requested=v2")
            for name, value in reply.headers:
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True

    # ---- routing

    def _route(self, path: str) -> tuple[str, Callable[..., _Reply] | None, tuple[str, ...]]:
        for pattern, endpoint, method_name in _ROUTES:
            match = pattern.match(path)
            if match:
                return endpoint, getattr(self, method_name), match.groups()
        if path.startswith(f"{API_PREFIX}/tickets"):
            return "other", None, ()
        for prefix, endpoint in (("departments", "departments"), ("companies", "companies"),
                                 ("agents", "agents"), ("requesters", "requesters")):
            if path.startswith(f"{API_PREFIX}/{prefix}/"):
                return endpoint, None, ()
        return "other", None, ()

    def _page_params(self, params: dict[str, str]) -> tuple[int, int] | _Reply:
        per_page_text = params.get("per_page", str(DEFAULT_PER_PAGE))
        page_text = params.get("page", "1")
        if not per_page_text.isdigit() or not 1 <= int(per_page_text) <= MAX_PER_PAGE:
            return _invalid("per_page", "It should be a/an Positive Integer less than or equal to 100")
        if not page_text.isdigit() or int(page_text) < 1:
            return _invalid("page", "It should be a/an Positive Integer")
        return int(page_text), int(per_page_text)

    def _paged(self, handler: BaseHTTPRequestHandler, path: str, pairs: list[tuple[str, str]],
               params: dict[str, str], wrapper: str, items: list[Any],
               shape: Callable[[Any], dict] = lambda item: item) -> _Reply:
        paging = self._page_params(params)
        if isinstance(paging, _Reply):
            return paging
        page, per_page = paging
        start = (page - 1) * per_page
        chunk = items[start:start + per_page]
        headers = []
        if start + per_page < len(items):
            headers.append(("Link", f'<{self._page_url(handler, path, pairs, page + 1)}>; rel="next"'))
        return _Reply(200, {wrapper: [shape(item) for item in chunk]}, headers)

    def _page_url(self, handler: BaseHTTPRequestHandler, path: str,
                  pairs: list[tuple[str, str]], page: int) -> str:
        # The link must point at the host:port the client used, not the bind address.
        host = handler.headers.get("Host") or f"{self.host}:{self.port}"
        kept = [(key, value) for key, value in pairs if key != "page"]
        kept.append(("page", str(page)))
        return f"http://{host}{path}?{urlencode(kept)}"

    # ---- departments, companies, people, form fields

    def _list_departments(self, handler, path, pairs, params, includes) -> _Reply:
        departments = sorted(self.account.departments.values(), key=lambda item: item["id"])
        return self._paged(handler, path, pairs, params, "departments", departments)

    def _view_department(self, handler, path, pairs, params, includes, department_id) -> _Reply:
        department = self.account.departments.get(int(department_id))
        if department is None:
            return _Reply(404, ERROR_BODIES[404])
        return _Reply(200, {"department": department})

    def _list_companies(self, handler, path, pairs, params, includes) -> _Reply:
        if not self.settings.companies_endpoint:
            return _Reply(404, ERROR_BODIES[404])
        departments = sorted(self.account.departments.values(), key=lambda item: item["id"])
        return self._paged(handler, path, pairs, params, "companies", departments)

    def _view_company(self, handler, path, pairs, params, includes, company_id) -> _Reply:
        department = self.account.departments.get(int(company_id))
        if not self.settings.companies_endpoint or department is None:
            return _Reply(404, ERROR_BODIES[404])
        return _Reply(200, {"company": department})

    def _list_agents(self, handler, path, pairs, params, includes) -> _Reply:
        if self.settings.forbidden_agents:
            return _Reply(403, ERROR_BODIES[403])
        # Documented order: by first name.
        agents = sorted(self.account.agents.values(),
                        key=lambda item: (item["first_name"], item["last_name"] or "", item["id"]))
        return self._paged(handler, path, pairs, params, "agents", agents)

    def _view_agent(self, handler, path, pairs, params, includes, agent_id) -> _Reply:
        if self.settings.forbidden_agents:
            return _Reply(403, ERROR_BODIES[403])
        agent = self.account.agents.get(int(agent_id))
        return _Reply(200, {"agent": agent}) if agent else _Reply(404, ERROR_BODIES[404])

    def _list_requesters(self, handler, path, pairs, params, includes) -> _Reply:
        if self.settings.forbidden_requesters:
            return _Reply(403, ERROR_BODIES[403])
        requesters = sorted(self.account.requesters.values(),
                            key=lambda item: (item["first_name"], item["last_name"] or "", item["id"]))
        return self._paged(handler, path, pairs, params, "requesters", requesters)

    def _view_requester(self, handler, path, pairs, params, includes, requester_id) -> _Reply:
        if self.settings.forbidden_requesters:
            return _Reply(403, ERROR_BODIES[403])
        requester = self.account.requesters.get(int(requester_id))
        return _Reply(200, {"requester": requester}) if requester else _Reply(404, ERROR_BODIES[404])

    def _ticket_form_fields(self, handler, path, pairs, params, includes) -> _Reply:
        if self.settings.forbidden_form_fields:
            return _Reply(403, ERROR_BODIES[403])
        return _Reply(200, {"ticket_fields": self.account.ticket_form_fields})

    # ---- tickets

    def _shape_ticket(self, ticket: dict, keys: tuple[str, ...] | None, includes: list[str]) -> dict:
        if keys is None:
            shaped = {key: value for key, value in ticket.items() if key not in _EMBED_ONLY_KEYS}
        else:
            shaped = {key: ticket.get(key) for key in keys}
        for include in includes:
            if include == "stats":
                shaped["stats"] = dict(ticket["stats"])
            elif include == "tags":
                shaped["tags"] = list(ticket["tags"])
            elif include == "requester":
                shaped["requester"] = self.account.requester_embed(ticket["requester_id"])
            elif include == "conversations":
                conversations = self.account.conversations.get(ticket["id"], [])
                shaped["conversations"] = conversations[:VIEW_CONVERSATION_EMBED_LIMIT]
        return shaped

    def _list_tickets(self, handler, path, pairs, params, includes) -> _Reply:
        unknown = [include for include in includes if include not in LIST_INCLUDES]
        if unknown:
            return _invalid("include", "Unexpected/invalid field in request", "invalid_field")
        if "requester" in includes and self.settings.forbidden_requesters:
            # Our choice where the docs are silent: a role that may not view requesters may not embed them.
            return _Reply(403, ERROR_BODIES[403])
        view = params.get("filter")
        if view is not None and view not in ("new_and_my_open", "watching", "spam", "deleted"):
            return _invalid("filter", "It should be one of these values: "
                                      "'new_and_my_open,watching,spam,deleted'")
        order_type = params.get("order_type", "desc")
        if order_type not in ("asc", "desc"):
            return _invalid("order_type", "It should be one of these values: 'asc,desc'")
        order_by = params.get("order_by", "created_at")
        if order_by not in ("created_at", "updated_at"):
            return _invalid("order_by", "It should be one of these values: 'created_at,updated_at'")
        if "updated_since" in params:
            try:
                since = format_timestamp(params["updated_since"])
            except ValueError:
                return _invalid("updated_since", "It should be in the 'valid date' format")
            window_key, window_start = "updated_at", since
        else:
            # Without updated_since Freshservice only returns tickets created in the last 30 days.
            window_key, window_start = "created_at", format_timestamp(self.account.now - LIST_DEFAULT_WINDOW)
        tickets = []
        for ticket in self.account.tickets_newest_first():
            if view == "spam":
                visible = ticket["spam"] and not ticket["deleted"]
            elif view == "deleted":
                visible = ticket["deleted"]
            elif view == "watching":
                visible = False
            else:
                visible = not ticket["spam"] and not ticket["deleted"]
                if view == "new_and_my_open":
                    visible = visible and ticket["status"] == 2
            if not visible or ticket[window_key] < window_start:
                continue
            if "requester_id" in params and str(ticket["requester_id"]) != params["requester_id"]:
                continue
            if "type" in params and ticket["type"] != params["type"]:
                continue
            tickets.append(ticket)
        if order_by == "updated_at":
            tickets.sort(key=lambda ticket: (ticket["updated_at"], ticket["id"]), reverse=True)
        if order_type == "asc":
            tickets.reverse()
        return self._paged(handler, path, pairs, params, "tickets", tickets,
                           lambda ticket: self._shape_ticket(ticket, LIST_TICKET_KEYS, includes))

    def _filter_tickets(self, handler, path, pairs, params, includes) -> _Reply:
        if "include" in params:
            return _invalid("include", "Unexpected/invalid field in request", "invalid_field")
        if "query" not in params:
            return _invalid("query", "It should be a/an String", "missing_field")
        try:
            query = compile_filter_query(params["query"])
        except QueryError as problem:
            return _validation_error(problem.error)
        page_text = params.get("page", "1")
        cap = self.settings.filter_page_cap
        if not page_text.isdigit() or int(page_text) < 1:
            return _invalid("page", "It should be a/an Positive Integer")
        page = int(page_text)
        if page > cap:
            return _invalid("page", f"It should be a/an Positive Integer less than or equal to {cap}")
        if query.named_departments & self.settings.failing_department_ids:
            return _Reply(500, ERROR_BODIES[500])
        scope = sorted(query.department_scope) if query.department_scope is not None else None
        matches = [ticket for ticket in self.account.tickets_newest_first(scope)
                   if not ticket["spam"] and not ticket["deleted"] and query.predicate(ticket)]
        # 30 a page whatever per_page says, and no link header (section 3.7).
        chunk = matches[(page - 1) * FILTER_PAGE_SIZE:page * FILTER_PAGE_SIZE]
        return _Reply(200, {"tickets": [self._shape_ticket(ticket, FILTER_TICKET_KEYS, [])
                                        for ticket in chunk], "total": len(matches)})

    def _visible_ticket(self, ticket_id: str) -> dict | _Reply:
        ticket = self.account.tickets.get(int(ticket_id))
        if ticket is None or ticket["deleted"]:
            return _Reply(404, ERROR_BODIES[404])
        if ticket["department_id"] in self.settings.failing_department_ids:
            return _Reply(500, ERROR_BODIES[500])
        return ticket

    def _view_ticket(self, handler, path, pairs, params, includes, ticket_id) -> _Reply:
        unknown = [include for include in includes if include not in VIEW_INCLUDES]
        if unknown:
            return _invalid("include", "Unexpected/invalid field in request", "invalid_field")
        if "requester" in includes and self.settings.forbidden_requesters:
            return _Reply(403, ERROR_BODIES[403])
        ticket = self._visible_ticket(ticket_id)
        if isinstance(ticket, _Reply):
            return ticket
        return _Reply(200, {"ticket": self._shape_ticket(ticket, None, includes)})

    def _ticket_conversations(self, handler, path, pairs, params, includes, ticket_id) -> _Reply:
        ticket = self._visible_ticket(ticket_id)
        if isinstance(ticket, _Reply):
            return ticket
        return self._paged(handler, path, pairs, params, "conversations",
                           self.account.conversations.get(ticket["id"], []))

    def _ticket_time_entries(self, handler, path, pairs, params, includes, ticket_id) -> _Reply:
        ticket = self._visible_ticket(ticket_id)
        if isinstance(ticket, _Reply):
            return ticket
        return self._paged(handler, path, pairs, params, "time_entries",
                           self.account.time_entries.get(ticket["id"], []))

    def _ticket_csat(self, handler, path, pairs, params, includes, ticket_id) -> _Reply:
        ticket = self._visible_ticket(ticket_id)
        if isinstance(ticket, _Reply):
            return ticket
        response = self.account.csat.get(ticket["id"])
        if response is None:
            return _Reply(404, ERROR_BODIES[404])
        return _Reply(200, {"csat_response": response})


_ROUTES: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(rf"^{API_PREFIX}/tickets/filter$"), "tickets.filter", "_filter_tickets"),
    (re.compile(rf"^{API_PREFIX}/tickets$"), "tickets.list", "_list_tickets"),
    (re.compile(rf"^{API_PREFIX}/tickets/(\d+)$"), "tickets.view", "_view_ticket"),
    (re.compile(rf"^{API_PREFIX}/tickets/(\d+)/conversations$"), "tickets.conversations",
     "_ticket_conversations"),
    (re.compile(rf"^{API_PREFIX}/tickets/(\d+)/time_entries$"), "tickets.time_entries",
     "_ticket_time_entries"),
    (re.compile(rf"^{API_PREFIX}/tickets/(\d+)/csat_response$"), "tickets.csat_response",
     "_ticket_csat"),
    (re.compile(rf"^{API_PREFIX}/departments$"), "departments", "_list_departments"),
    (re.compile(rf"^{API_PREFIX}/departments/(\d+)$"), "departments", "_view_department"),
    (re.compile(rf"^{API_PREFIX}/companies$"), "companies", "_list_companies"),
    (re.compile(rf"^{API_PREFIX}/companies/(\d+)$"), "companies", "_view_company"),
    (re.compile(rf"^{API_PREFIX}/agents$"), "agents", "_list_agents"),
    (re.compile(rf"^{API_PREFIX}/agents/(\d+)$"), "agents", "_view_agent"),
    (re.compile(rf"^{API_PREFIX}/requesters$"), "requesters", "_list_requesters"),
    (re.compile(rf"^{API_PREFIX}/requesters/(\d+)$"), "requesters", "_view_requester"),
    (re.compile(rf"^{API_PREFIX}/ticket_form_fields$"), "ticket_form_fields", "_ticket_form_fields"),
]


# --------------------------------------------------------------------------- command line


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m utils.simulator",
        description="Serve a simulated Freshservice API v2 with the demo account on a local port.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8089, help="port (default 8089; 0 picks a free one)")
    parser.add_argument("--key", default=SimulatorSettings.api_key, help="API key the simulator accepts")
    parser.add_argument("--rate-limit", type=int, default=None, metavar="N",
                        help="credits per window (default: unlimited)")
    parser.add_argument("--window", type=float, default=60.0, metavar="S",
                        help="rate-limit window in seconds (default 60)")
    parser.add_argument("--latency", type=float, default=0.0, metavar="S",
                        help="seconds added to every response")
    parser.add_argument("--now", default=None,
                        help="the demo account's current time, e.g. 2026-11-26T12:00:00Z (default: now)")
    parser.add_argument("--seed", type=int, default=2026, help="demo account seed (default 2026)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the simulator with the demo account until Ctrl-C."""
    args = _parse_args(argv)
    from utils.demo_account import build_demo_account

    try:
        now = to_utc(args.now) if args.now else None
    except ValueError:
        print(f"error: --now {args.now!r} is not an ISO 8601 date or datetime", file=sys.stderr)
        return 2
    account = build_demo_account(now=now, seed=args.seed)
    settings = SimulatorSettings(api_key=args.key, rate_limit_total=args.rate_limit,
                                 rate_window_seconds=args.window, latency_seconds=args.latency)
    simulator = Simulator(account, settings, host=args.host, port=args.port)
    try:
        url = simulator.start()
    except OSError as problem:
        print(f"error: cannot listen on {args.host}:{args.port}: {problem.strerror or problem}",
              file=sys.stderr)
        return 1
    stop = threading.Event()
    # SIGTERM ends the run as quietly as Ctrl-C does; SIGINT is re-armed because a shell
    # starts background jobs with it ignored, and Ctrl-C must still stop the simulator.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.default_int_handler)
    print(f"Freshservice simulator serving {url}/api/v2 "
          f"({len(account.departments)} departments, {len(account.tickets)} tickets, "
          f"now {format_timestamp(account.now)})")
    print(f"API key: {settings.api_key}")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
    print("Simulator stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
