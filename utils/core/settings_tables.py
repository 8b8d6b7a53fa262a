"""The validated tables of integoreport.toml, one frozen dataclass each; `utils.core.settings` fills them.

Every field has the default a missing key gets, so a test or the demo can build one directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time
from typing import Any, Literal

from utils.core.secrets import SecretSpec
from utils.core.settings_values import parse_business_hours

DEFAULT_MSP_NAME = "Your IT team"
DEFAULT_SUBJECT = "{client}: IT service report for {month}"
DEFAULT_PROACTIVE_TAGS = ("proactive", "maintenance")
DEFAULT_MAILCHIMP_URL = "https://mandrillapp.com/api/1.0"


@dataclass(frozen=True)
class MetricsSettings:
    """Business hours in the report time zone and the tags that mark proactive work."""

    business_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday is 0
    business_start: time = time(8, 0)
    business_end: time = time(18, 0)  # exclusive
    proactive_tags: tuple[str, ...] = DEFAULT_PROACTIVE_TAGS

    def describe_hours(self) -> str:
        """Business hours in words, such as 'Monday to Friday, 08:00 to 18:00'."""
        names = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
        days = sorted(self.business_days)
        if days and days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
            day_text = f"{names[days[0]]} to {names[days[-1]]}"
        else:
            day_text = ", ".join(names[d] for d in days) or "no days"
        return f"{day_text}, {self.business_start:%H:%M} to {self.business_end:%H:%M}"


@dataclass(frozen=True)
class ReportSettings:
    """Who sends the report, how it looks and what it counts: [report]."""

    msp_name: str = DEFAULT_MSP_NAME
    timezone: str | None = None  # as configured; None: the machine's zone (Settings.timezone is the one resolved)
    business_hours: str | None = None  # None: Mon-Fri 08:00-18:00
    proactive_tags: tuple[str, ...] = DEFAULT_PROACTIVE_TAGS
    logo_url: str | None = None
    accent_color: str | None = None
    contact: str | None = None
    show_csat_comments: bool = False

    @property
    def metrics(self) -> MetricsSettings:
        """The business hours and proactive tags, as the metrics use them."""
        if not self.business_hours:
            return MetricsSettings(proactive_tags=self.proactive_tags)
        days, start, end = parse_business_hours(self.business_hours)
        return MetricsSettings(business_days=days, business_start=start, business_end=end, proactive_tags=self.proactive_tags)


@dataclass(frozen=True)
class SmtpSettings:
    """[delivery.smtp]. Password: SMTP_PASSWORD or smtp_password.txt."""

    host: str
    port: int = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None


@dataclass(frozen=True)
class MailchimpSettings:
    """[delivery.mailchimp]. Key: MAILCHIMP_TRANSACTIONAL_KEY or mailchimp_key.txt."""

    url: str = DEFAULT_MAILCHIMP_URL


@dataclass(frozen=True)
class DeliverySettings:
    """How reports are sent: [delivery]. Addresses are normalised ('Name <addr>' or 'addr')."""

    method: Literal["smtp", "mailchimp", "outbox"]
    from_address: str
    reply_to: str | None = None
    subject: str = DEFAULT_SUBJECT
    bcc: tuple[str, ...] = ()
    smtp: SmtpSettings | None = None
    mailchimp: MailchimpSettings | None = None


@dataclass(frozen=True)
class ClientSettings:
    """One client's [clients.ID] table; every field has a default for a client without one."""

    client_id: str
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    send: bool = True
    source_ids: Mapping[str, Any] = field(default_factory=dict)  # each source's value of its client_key, by its table

    def source_id(self, table: str) -> str:
        """The client's own id at the source whose settings table is `table` (its value of the client key), '' when none."""
        return str(self.source_ids.get(table) or "").strip()


@dataclass(frozen=True)
class TableSpec:
    """A source's [table] in integoreport.toml, its secret and its key in [clients.ID].

    Core names no data source: each declaration (utils/sources) holds its own spec, and a script hands
    every declared spec to `load_settings(home, tables=...)`.
    """

    table: str  # its [table] in integoreport.toml
    keys: Mapping[str, Callable[[Any], Any]]  # key -> check: returns the value to keep, raises ValueError(reason)
    required: frozenset[str] = frozenset()
    env: Mapping[str, str] = field(default_factory=dict)  # key -> environment variable that wins over the file
    env_only: frozenset[str] = frozenset()  # keys read from their `env` variable alone, never from the file
    secret: SecretSpec | None = None
    client_key: str | None = None  # its key in [clients.ID], the client's own id at the source
    client_check: Callable[[Any], Any] | None = None  # the per-client value's check, as for `keys`
    examples: Mapping[str, str] = field(default_factory=dict)  # key -> what a missing required key's error suggests
