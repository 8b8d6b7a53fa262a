"""The settings of every script: `integoreport.toml` in the project home, overridden by environment variables.

The file is optional and hand-edited; `integoreport.example.toml` documents every key. It is read
and validated once, up front, so a typo or a bad address stops the run before any network call:
unknown keys, wrong types and bad values are a `ConfigError` (exit 2) naming the file, the line
and the key. Secrets never live in the file: `read_secret` takes them from an environment variable,
else from a file of their own in the home (the `token.txt` rule).
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import re
import stat
import tomllib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from utils.core.errors import ConfigError, DataError
from utils.core.files import NotARegularFile, read_regular_text
from utils.core.portable import MODE_BITS_ARE_ACCESS_CONTROL
from utils.core.settings_values import (
    is_ip,
    is_loopback,
    locate_keys,
    parse_address,
    query_names,
    subject_problem,
    url_for_message,
    url_problem,
)

SETTINGS_FILE = "integoreport.toml"
DEFAULT_MSP_NAME = "Your IT team"
DEFAULT_SUBJECT = "{client}: IT service report for {month}"
DEFAULT_LOGIN_URL = "https://login.microsoftonline.com"
DEFAULT_GRAPH_URL = "https://graph.microsoft.com"
DEFAULT_MAILCHIMP_URL = "https://mandrillapp.com/api/1.0"
DELIVERY_METHODS = ("smtp", "mailchimp", "outbox")
SMTP_SECURITY = ("starttls", "tls", "none")
SMTP_DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}

# Environment variables that win over the file's [report] and [freshservice] keys.
ENV_OVERRIDES: dict[tuple[str, str], str] = {
    ("report", "msp_name"): "INTEGOREPORT_MSP_NAME",
    ("report", "timezone"): "REPORT_TIMEZONE",
    ("report", "business_hours"): "INTEGOREPORT_BUSINESS_HOURS",
    ("report", "proactive_tags"): "INTEGOREPORT_PROACTIVE_TAGS",
    ("report", "show_csat_comments"): "INTEGOREPORT_SHOW_CSAT_COMMENTS",
    ("report", "logo_url"): "INTEGOREPORT_LOGO_URL",
    ("report", "accent_color"): "INTEGOREPORT_ACCENT_COLOR",
    ("report", "contact"): "INTEGOREPORT_CONTACT",
    ("freshservice", "url"): "FRESHSERVICE_URL",
}

# Where each table's secret goes instead of the file: (environment variable, file in the home).
SECRET_PLACES: dict[str, tuple[str, str]] = {
    "freshservice": ("FRESHSERVICE_API_KEY", "token.txt"),
    "ms365": ("MS365_CLIENT_SECRET", "ms365_secret.txt"),
    "sentinelone": ("SENTINELONE_API_TOKEN", "sentinelone_token.txt"),
    "delivery.smtp": ("SMTP_PASSWORD", "smtp_password.txt"),
    "delivery.mailchimp": ("MAILCHIMP_TRANSACTIONAL_KEY", "mailchimp_key.txt"),
}
SECRET_KEY_NAMES = frozenset({"password", "passwd", "pass", "secret", "client_secret", "key", "api_key", "apikey",
                              "token", "api_token", "access_token"})


def looks_secret(name: str) -> bool:
    """A setting or URL parameter named like a secret (password, token, api_key, client_secret, ...)."""
    lowered = name.lower()
    return lowered in SECRET_KEY_NAMES or lowered.endswith(("_password", "_secret", "_token", "_key"))


# Every table and its keys; [clients.ID] tables share CLIENT_KEYS.
KNOWN_KEYS: dict[str, frozenset[str]] = {
    "report": frozenset({"msp_name", "timezone", "business_hours", "proactive_tags", "show_csat_comments",
                         "logo_url", "accent_color", "contact"}),
    "freshservice": frozenset({"url"}),
    "ms365": frozenset({"app_id", "login_url", "graph_url"}),
    "sentinelone": frozenset({"url"}),
    "delivery": frozenset({"method", "from", "reply_to", "subject", "bcc", "smtp", "mailchimp"}),
    "delivery.smtp": frozenset({"host", "port", "security", "username"}),
    "delivery.mailchimp": frozenset({"url"}),
    "clients": frozenset(),
}
CLIENT_KEYS = frozenset({"to", "cc", "ms365_tenant", "sentinelone_site", "send"})

log = logging.getLogger(__name__)
_warned: set[str] = set()

_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_TENANT = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253}[A-Za-z0-9])?$")
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253}[A-Za-z0-9])?$")


@dataclass(frozen=True)
class ReportSettings:
    """Who sends the report and how it looks: [report]."""

    msp_name: str = DEFAULT_MSP_NAME
    timezone: str | None = None  # None: the machine's zone
    business_hours: str | None = None  # None: Mon-Fri 08:00-18:00
    proactive_tags: tuple[str, ...] = ("proactive", "maintenance")
    logo_url: str | None = None
    accent_color: str | None = None
    contact: str | None = None
    show_csat_comments: bool = False


@dataclass(frozen=True)
class Ms365Settings:
    """The Microsoft 365 app registration: [ms365]. Secret: MS365_CLIENT_SECRET or ms365_secret.txt."""

    app_id: str
    login_url: str = DEFAULT_LOGIN_URL
    graph_url: str = DEFAULT_GRAPH_URL


@dataclass(frozen=True)
class SentinelOneSettings:
    """The SentinelOne console: [sentinelone]. Token: SENTINELONE_API_TOKEN or sentinelone_token.txt."""

    url: str


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
    ms365_tenant: str | None = None
    sentinelone_site: str | None = None
    send: bool = True


@dataclass(frozen=True)
class Settings:
    """Everything the scripts read from integoreport.toml and the environment, validated."""

    home: Path
    path: Path  # the settings file (it may not exist)
    report: ReportSettings = field(default_factory=ReportSettings)
    freshservice_url: str | None = None  # normalised, e.g. https://acme.freshservice.com
    ms365: Ms365Settings | None = None
    sentinelone: SentinelOneSettings | None = None
    delivery: DeliverySettings | None = None
    clients: Mapping[str, ClientSettings] = field(default_factory=dict)

    def client(self, client_id: str) -> ClientSettings:
        """The client's settings, or the defaults when it has no [clients.ID] table."""
        return self.clients.get(str(client_id)) or ClientSettings(str(client_id))


# ---------------------------------------------------------------------------------------------
# Secrets


def read_secret(home: Path, env_var: str, file_name: str, what: str, env: Mapping[str, str] | None = None) -> str:
    """A secret: `env_var` if set, else `file_name` in the home (utf-8, BOM allowed, stripped).

    Warns once when the file is readable by other users; registers the secret for redaction.
    """
    from utils.core.cli import register_secret  # utils.core.cli is a heavier module; only secrets need it

    env = os.environ if env is None else env
    value = env.get(env_var, "").strip()
    if not value:
        path = home / file_name
        try:
            value = read_regular_text(path, encoding="utf-8-sig").strip()
        except FileNotFoundError:
            value = ""
        except NotARegularFile as exc:
            raise ConfigError(f"cannot read the {what}: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the {what} from {path}: {getattr(exc, 'strerror', None) or exc}") from None
        if not value:
            raise ConfigError(f"no {what}: set {env_var} or put it in {path}")
        _warn_if_readable_by_others(path)
    register_secret(value)
    return value


def _warn_if_readable_by_others(path: Path) -> None:
    if not MODE_BITS_ARE_ACCESS_CONTROL:  # Windows: ACLs decide, and every file's mode looks readable by all
        return
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        _warn_once(f"{path} is readable by other users; run: chmod 600 {path}")


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        log.warning("%s", message)


# ---------------------------------------------------------------------------------------------
# Loading


def settings_path(home: Path) -> Path:
    return home / SETTINGS_FILE


def load_settings(home: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read `<home>/integoreport.toml` (optional), apply the environment overrides, validate everything."""
    from utils.core.config import home_dir  # utils.core.config builds on this module for its secrets

    env = os.environ if env is None else env
    home = home_dir(env) if home is None else home
    path = settings_path(home)
    try:
        text = read_regular_text(path, encoding="utf-8-sig")  # a pipe or device would hang the run or fill memory
    except (FileNotFoundError, NotADirectoryError):  # no file (or no home yet): every default applies
        text = ""
    except NotARegularFile as exc:
        raise ConfigError(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except RecursionError:  # tomllib parses nested arrays and inline tables by recursion
        raise ConfigError(f"{path} is not valid TOML: arrays or tables are nested too deeply") from None
    return _Reader(path, text, data, env, home).settings()


class _Reader:
    """Validates one parsed file; every error names the file, the line and the key (or the variable)."""

    def __init__(self, path: Path, text: str, data: dict[str, Any], env: Mapping[str, str], home: Path):
        self.path, self.data, self.env, self.home = path, data, env, home
        self.lines = locate_keys(text)

    # -- where a value came from, for messages --

    def line_of(self, keys: tuple[str, ...]) -> int | None:
        for length in range(len(keys), 0, -1):  # the key's own line, else its table's header
            if keys[:length] in self.lines:
                return self.lines[keys[:length]]
        return None

    def error(self, keys: tuple[str, ...], message: str, *, table: bool = False) -> ConfigError:
        """An error at `keys`: a key (`[a.b] key ...`) or, with `table`, the table itself (`[a.b] ...`)."""
        line = self.line_of(keys)
        where = f"{self.path}:{line}" if line else str(self.path)
        name = f"[{'.'.join(keys)}]" if table or len(keys) == 1 else f"[{'.'.join(keys[:-1])}] {keys[-1]}"
        return ConfigError(f"{where}: {name} {message}")

    def env_error(self, variable: str, message: str) -> ConfigError:
        return ConfigError(f"{variable} {message}")

    # -- the checks --

    def settings(self) -> Settings:
        self.check_keys()
        clients = self.clients()
        return Settings(home=self.home, path=self.path, report=self.report(), freshservice_url=self.freshservice_url(),
                        ms365=self.ms365(), sentinelone=self.sentinelone(), delivery=self.delivery(), clients=clients)

    def check_keys(self) -> None:
        for table, value in self.data.items():
            keys = (table,)
            if table not in KNOWN_KEYS:
                raise self.unknown(keys, frozenset(name for name in KNOWN_KEYS if "." not in name))
            if not isinstance(value, dict):
                raise self.error(keys, "must be a table: write it as [" + table + "]")
            if table == "clients":
                for client_id, client in value.items():
                    self.check_table((table, client_id), client, CLIENT_KEYS)
            else:
                self.check_table(keys, value, KNOWN_KEYS[table])

    def check_table(self, keys: tuple[str, ...], table: Any, known: frozenset[str]) -> None:
        if not isinstance(table, dict):
            raise self.error(keys, "must be a table")
        name = ".".join(keys)
        for key, value in table.items():
            here = (*keys, key)
            if looks_secret(key):
                variable, file_name = SECRET_PLACES.get(name, ("the service's environment variable", "its own file"))
                raise self.error(here, f"looks like a secret: secrets never go in {SETTINGS_FILE}; set {variable} "
                                       f"or put it in {self.home / file_name} (chmod 600)")
            if key not in known:
                raise self.unknown(here, known)
            child = f"{name}.{key}"
            if child in KNOWN_KEYS:
                self.check_table(here, value, KNOWN_KEYS[child])

    def unknown(self, keys: tuple[str, ...], known: frozenset[str]) -> ConfigError:
        close = difflib.get_close_matches(keys[-1], list(known), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(sorted(known))})" if known else ""
        return self.error(keys, f"is not a known setting{hint}")

    def value(self, table: str, key: str) -> tuple[Any, tuple[str, ...], str | None]:
        """The raw value, where it is in the file, and the environment variable it came from (if any)."""
        keys = tuple(table.split(".")) + (key,)
        variable = ENV_OVERRIDES.get((table, key))
        if variable and self.env.get(variable, "").strip():
            return self.env[variable].strip(), keys, variable
        section: Any = self.data
        for part in keys[:-1]:
            section = section.get(part, {}) if isinstance(section, dict) else {}
        return section.get(key) if isinstance(section, dict) else None, keys, None

    def fail(self, keys: tuple[str, ...], variable: str | None, message: str) -> ConfigError:
        return self.env_error(variable, message) if variable else self.error(keys, message)

    def text(self, table: str, key: str, *, required: bool = False, one_line: bool = True) -> str | None:
        value, keys, variable = self.value(table, key)
        if value is None:
            if required:
                raise self.error(keys[:-1], f"needs {key} = \"...\"", table=True)
            return None
        if not isinstance(value, str):
            raise self.fail(keys, variable, f"must be a string in quotes, not {type(value).__name__}")
        value = value.strip()
        if one_line and ("\r" in value or "\n" in value):
            raise self.fail(keys, variable, "must be one line")
        if not value:
            raise self.fail(keys, variable, "is empty")
        return value

    def flag(self, table: str, key: str, default: bool) -> bool:
        value, keys, variable = self.value(table, key)
        if value is None:
            return default
        if variable:
            lowered = value.lower()
            if lowered not in ("0", "1", "true", "false", "yes", "no", "on", "off"):
                raise self.env_error(variable, f"must be 1 or 0 (yes/no), not {value!r}")
            return lowered in ("1", "true", "yes", "on")
        if not isinstance(value, bool):
            raise self.error(keys, f"must be true or false, not {value!r}")
        return value

    def string_list(self, table: str, key: str) -> tuple[tuple[str, ...], tuple[str, ...], str | None] | None:
        value, keys, variable = self.value(table, key)
        if value is None:
            return None
        if variable:
            return tuple(item.strip() for item in value.split(",") if item.strip()), keys, variable
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error(keys, 'must be a list of strings, such as ["a", "b"]')
        return tuple(item.strip() for item in value if item.strip()), keys, None

    def url(self, table: str, key: str, default: str | None = None, *, https_only: bool = False) -> str | None:
        text = self.text(table, key)
        if text is None:
            return default
        _, keys, variable = self.value(table, key)
        problem = url_problem(text, https_only)
        secret = next((name for name in query_names(text) if looks_secret(name)), None)
        if not problem and secret is not None:
            problem = f"must not carry a secret ({secret}=...): secrets never go in {SETTINGS_FILE} or in a URL"
        if problem:
            # Shown without its user name, password or parameter values: any of them may be a secret.
            raise self.fail(keys, variable, f"{problem}: {url_for_message(text)!r}")
        return text.rstrip("/")

    def addresses(self, table: str, key: str) -> tuple[str, ...]:
        found = self.string_list(table, key)
        if found is None:
            return ()
        items, keys, variable = found
        return tuple(self.address_of(item, keys, variable) for item in items)

    def address_of(self, text: str, keys: tuple[str, ...], variable: str | None = None) -> str:
        try:
            return parse_address(text)
        except ValueError as exc:
            raise self.fail(keys, variable, str(exc)) from None

    # -- the tables --

    def report(self) -> ReportSettings:
        timezone = self.text("report", "timezone")
        if timezone is not None:
            try:
                ZoneInfo(timezone)
            except (ZoneInfoNotFoundError, ValueError):
                _, keys, variable = self.value("report", "timezone")
                raise self.fail(keys, variable, f"is not a known time zone ({timezone!r}): use an IANA name "
                                                "such as Europe/London or America/New_York") from None
        hours = self.text("report", "business_hours")
        if hours is not None:
            from utils.reporting.metrics import parse_business_hours

            try:
                parse_business_hours(hours)
            except ConfigError:
                _, keys, variable = self.value("report", "business_hours")
                raise self.fail(keys, variable, f"must look like 'Mon-Fri 08:00-18:00', not {hours!r}") from None
        tags = self.string_list("report", "proactive_tags")
        color = self.text("report", "accent_color")
        if color is not None and not _COLOR.match(color):
            _, keys, variable = self.value("report", "accent_color")
            raise self.fail(keys, variable, f"must be a colour as #RRGGBB (six hexadecimal digits), not {color!r}")
        return ReportSettings(
            msp_name=self.text("report", "msp_name") or DEFAULT_MSP_NAME,
            timezone=timezone,
            business_hours=hours,
            proactive_tags=tags[0] if tags is not None else ReportSettings.proactive_tags,
            logo_url=self.url("report", "logo_url", https_only=True),
            accent_color=color.upper() if color else None,
            contact=self.text("report", "contact"),
            show_csat_comments=self.flag("report", "show_csat_comments", False),
        )

    def freshservice_url(self) -> str | None:
        from utils.core.config import normalise_url

        text = self.text("freshservice", "url")
        if text is None:
            return None
        try:
            return normalise_url(text)
        except ConfigError as exc:
            _, keys, variable = self.value("freshservice", "url")
            raise self.fail(keys, variable, str(exc).replace("Freshservice URL ", "").strip()) from None

    def ms365(self) -> Ms365Settings | None:
        if "ms365" not in self.data:
            return None
        app_id = self.text("ms365", "app_id", required=True) or ""
        try:
            uuid.UUID(app_id)
        except ValueError:
            raise self.error(("ms365", "app_id"), f"must be the app registration's Application (client) ID, "
                                                  f"a GUID such as 00000000-0000-0000-0000-000000000000, not {app_id!r}") from None
        return Ms365Settings(app_id=app_id, login_url=self.url("ms365", "login_url", DEFAULT_LOGIN_URL) or DEFAULT_LOGIN_URL,
                             graph_url=self.url("ms365", "graph_url", DEFAULT_GRAPH_URL) or DEFAULT_GRAPH_URL)

    def sentinelone(self) -> SentinelOneSettings | None:
        if "sentinelone" not in self.data:
            return None
        if self.text("sentinelone", "url") is None:
            raise self.error(("sentinelone",), 'needs url = "https://<your console>.sentinelone.net"')
        return SentinelOneSettings(url=self.url("sentinelone", "url") or "")

    def delivery(self) -> DeliverySettings | None:
        if "delivery" not in self.data:
            return None
        method = self.text("delivery", "method", required=True)
        if method not in DELIVERY_METHODS:
            raise self.error(("delivery", "method"), f"must be one of {', '.join(DELIVERY_METHODS)}, not {method!r}")
        sender = self.address_of(self.text("delivery", "from", required=True) or "", ("delivery", "from"))
        reply_to = self.text("delivery", "reply_to")
        subject = self.text("delivery", "subject") or DEFAULT_SUBJECT
        problem = subject_problem(subject)
        if problem:
            raise self.error(("delivery", "subject"), problem)
        smtp = self.smtp() if "smtp" in self.data["delivery"] else None
        if method == "smtp" and smtp is None:
            raise self.error(("delivery", "method"), 'is "smtp" but there is no [delivery.smtp] table with the host')
        mailchimp = None
        if "mailchimp" in self.data["delivery"] or method == "mailchimp":
            mailchimp = MailchimpSettings(url=self.url("delivery.mailchimp", "url", DEFAULT_MAILCHIMP_URL) or DEFAULT_MAILCHIMP_URL)
        return DeliverySettings(
            method=method,  # type: ignore[arg-type]  # checked against DELIVERY_METHODS above
            from_address=sender,
            reply_to=self.address_of(reply_to, ("delivery", "reply_to")) if reply_to else None,
            subject=subject,
            bcc=self.addresses("delivery", "bcc"),
            smtp=smtp,
            mailchimp=mailchimp,
        )

    def smtp(self) -> SmtpSettings:
        table = "delivery.smtp"
        host = self.text(table, "host", required=True) or ""
        if not (_HOST.match(host) or is_ip(host)):
            raise self.error(("delivery", "smtp", "host"), f"must be a host name such as smtp.example.com, not {host!r}")
        security = self.text(table, "security") or "starttls"
        if security not in SMTP_SECURITY:
            raise self.error(("delivery", "smtp", "security"), f"must be one of {', '.join(SMTP_SECURITY)}, not {security!r}")
        if security == "none" and not is_loopback(host):
            raise self.error(("delivery", "smtp", "security"), f'"none" sends the password and the reports in clear text: '
                                                              f"allowed only to a loopback host, not {host!r}")
        port, keys, _ = self.value(table, "port")
        if port is None:
            port = SMTP_DEFAULT_PORTS[security]
        elif isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise self.error(keys, f"must be a whole number from 1 to 65535, not {port!r}")
        return SmtpSettings(host=host, port=port, security=security,  # type: ignore[arg-type]  # checked above
                            username=self.text(table, "username"))

    def clients(self) -> dict[str, ClientSettings]:
        tables = self.data.get("clients", {})
        known = _known_client_ids(self.home)
        clients = {}
        for client_id in tables:
            if not re.fullmatch(r"\d+", client_id):
                raise self.error(("clients", client_id), "is not a client id: use the number from companies_list.json, "
                                                         "as in [clients.21000351601]", table=True)
            if known is not None and client_id not in known:
                line = self.line_of(("clients", client_id))
                _warn_once(f"{self.path}{f':{line}' if line else ''}: [clients.{client_id}] is not in companies_list.json "
                           "(a typo, or a client that has gone?)")
            table = f"clients.{client_id}"
            site, keys, _ = self.value(table, "sentinelone_site")
            if site is not None:
                if isinstance(site, int) and not isinstance(site, bool):
                    site = str(site)  # SentinelOne ids are strings of digits; accept the number too
                if not isinstance(site, str) or not re.fullmatch(r"\d+", site.strip()):
                    raise self.error(keys, f"must be the SentinelOne site id, digits in quotes, not {site!r}")
                site = site.strip()
            tenant = self.text(table, "ms365_tenant")
            if tenant is not None and not _TENANT.match(tenant):
                raise self.error(("clients", client_id, "ms365_tenant"),
                                 f"must be a tenant domain such as contoso.onmicrosoft.com or its id, not {tenant!r}")
            clients[client_id] = ClientSettings(client_id=client_id, to=self.addresses(table, "to"), cc=self.addresses(table, "cc"),
                                                ms365_tenant=tenant, sentinelone_site=site, send=self.flag(table, "send", True))
        return clients


# ---------------------------------------------------------------------------------------------


def _known_client_ids(home: Path) -> set[str] | None:
    """The ids in companies_list.json, or None when there is no readable list yet."""
    try:
        clients = json.loads(read_regular_text(home / "companies_list.json"))
        return {str(client["id"]) for client in clients}
    except (OSError, ValueError, TypeError, KeyError, RecursionError, DataError):
        return None


# ---------------------------------------------------------------------------------------------
# A data source's own settings, declared with the source (utils/sources) and read by this module


@dataclass(frozen=True)
class SecretSpec:
    """Where a secret comes from instead of the settings file: an environment variable, else a file in the home."""

    env_var: str  # e.g. "MS365_CLIENT_SECRET"
    file_name: str  # e.g. "ms365_secret.txt"
    what: str  # for messages: "Microsoft 365 client secret"


@dataclass(frozen=True)
class TableSpec:
    """A source's [table] in integoreport.toml, its secret and its key in [clients.ID]."""

    table: str  # e.g. "ms365"
    keys: Mapping[str, Callable[[Any], Any]]  # key -> check: returns the value to keep, raises ValueError(reason)
    required: frozenset[str] = frozenset()
    env: Mapping[str, str] = field(default_factory=dict)  # key -> environment variable that wins over the file
    secret: SecretSpec | None = None
    client_key: str | None = None  # e.g. "ms365_tenant"
    client_check: Callable[[Any], Any] | None = None  # the per-client value's check, as for `keys`
