"""The settings of every script: `integoreport.toml` in the project home, overridden by environment variables.

`load_settings` is the only way settings are read. The file is optional and hand-edited;
`integoreport.example.toml` documents every key. It is read and validated once, up front, so a typo
or a bad address stops the run before any network call: unknown keys, wrong types and bad values are
a `ConfigError` (exit 2) naming the file, the line and the key (or the environment variable). Secrets
never live in the file: `read_secret` (utils.core.secrets) takes them from an environment variable,
else from a file of their own in the home.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from utils.core.errors import ConfigError, DataError
from utils.core.files import NotARegularFile, read_regular_text
from utils.core.home import COMPANIES_FILE, home_dir
from utils.core.period import machine_timezone
from utils.core.secrets import SECRETS, SecretSpec, looks_secret, read_secret, warn_once
from utils.core.settings_reader import TableReader
from utils.core.settings_tables import (
    DEFAULT_MAILCHIMP_URL,
    DEFAULT_MSP_NAME,
    DEFAULT_SUBJECT,
    ClientSettings,
    DeliverySettings,
    MailchimpSettings,
    MetricsSettings,
    ReportSettings,
    SmtpSettings,
    TableSpec,
)
from utils.core.settings_values import (
    color_value,
    hours_value,
    parse_address,
    same_value,
    subject_problem,
    zone_value,
)
from utils.core.urls import is_ip, is_loopback

__all__ = [
    "DEFAULT_SUBJECT", "ENV_OVERRIDES", "SETTINGS_FILE", "ClientSettings", "DeliverySettings", "MailchimpSettings",
    "MetricsSettings", "ReportSettings", "Settings", "SmtpSettings", "TableSpec", "client_keys", "known_keys",
    "load_settings", "parse_address", "settings_path",
]

SETTINGS_FILE = "integoreport.toml"
DELIVERY_METHODS = ("smtp", "mailchimp", "outbox")
SMTP_SECURITY = ("starttls", "tls", "none")
SMTP_DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}

# Environment variables that win over the file's [report] keys (a source's own are in its TableSpec).
ENV_OVERRIDES: dict[tuple[str, str], str] = {
    ("report", "msp_name"): "INTEGOREPORT_MSP_NAME",
    ("report", "timezone"): "REPORT_TIMEZONE",
    ("report", "business_hours"): "INTEGOREPORT_BUSINESS_HOURS",
    ("report", "proactive_tags"): "INTEGOREPORT_PROACTIVE_TAGS",
    ("report", "show_csat_comments"): "INTEGOREPORT_SHOW_CSAT_COMMENTS",
    ("report", "logo_url"): "INTEGOREPORT_LOGO_URL",
    ("report", "accent_color"): "INTEGOREPORT_ACCENT_COLOR",
    ("report", "contact"): "INTEGOREPORT_CONTACT",
}

# The tables every install has and their keys; [clients.ID] tables share BASE_CLIENT_KEYS. A data
# source's own table, secret and client key come from the TableSpec its declaration holds (utils/sources):
# core names no source.
BASE_KEYS: dict[str, frozenset[str]] = {
    "report": frozenset({"msp_name", "timezone", "business_hours", "proactive_tags", "show_csat_comments",
                         "logo_url", "accent_color", "contact"}),
    "delivery": frozenset({"method", "from", "reply_to", "subject", "bcc", "smtp", "mailchimp"}),
    "delivery.smtp": frozenset({"host", "port", "security", "username"}),
    "delivery.mailchimp": frozenset({"url"}),
    "clients": frozenset(),
}
BASE_CLIENT_KEYS = frozenset({"to", "cc", "send"})


def known_keys(tables: Sequence[TableSpec]) -> dict[str, frozenset[str]]:
    """Every table and its keys, with these sources' tables."""
    return {**BASE_KEYS, **{spec.table: frozenset(spec.keys) - spec.env_only for spec in tables}}


def client_keys(tables: Sequence[TableSpec]) -> frozenset[str]:
    """The keys of a [clients.ID] table, with these sources' client keys."""
    return BASE_CLIENT_KEYS | {spec.client_key for spec in tables if spec.client_key}


log = logging.getLogger(__name__)

_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253}[A-Za-z0-9])?$")


@dataclass(frozen=True)
class Settings:
    """Everything the scripts read from integoreport.toml and the environment, validated."""

    home: Path
    path: Path  # the settings file (it may not exist)
    report: ReportSettings = field(default_factory=ReportSettings)
    delivery: DeliverySettings | None = None
    clients: Mapping[str, ClientSettings] = field(default_factory=dict)
    tables: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # each source table's checked values, by name
    timezone: str = field(default_factory=machine_timezone)  # the report zone: [report] timezone, else the machine's
    env: Mapping[str, str] = field(default_factory=lambda: os.environ, repr=False, compare=False)  # where the secrets are looked up

    def with_table(self, name: str, **values: Any) -> Settings:
        """These settings with some of a source's [name] values replaced (a command-line flag wins over every setting)."""
        return replace(self, tables={**self.tables, name: {**(self.tables.get(name) or {}), **values}})

    def table(self, name: str) -> Mapping[str, Any] | None:
        """A source's [name] table as read (each key checked by its TableSpec), or None when it is not configured."""
        return self.tables.get(name)

    def client(self, client_id: str) -> ClientSettings:
        """The client's settings, or the defaults when it has no [clients.ID] table."""
        return self.clients.get(str(client_id)) or ClientSettings(str(client_id))

    def secret(self, spec: SecretSpec) -> str:
        """A secret, from the environment these settings were read with, else its file in the home."""
        return read_secret(self.home, spec, self.env)


def settings_path(home: Path) -> Path:
    return home / SETTINGS_FILE


def load_settings(home: Path | None = None, env: Mapping[str, str] | None = None,
                  tables: Sequence[TableSpec] = ()) -> Settings:
    """Read `<home>/integoreport.toml` (optional), apply the environment overrides, validate everything.

    `tables` are the data sources' own tables (`utils.sources.settings_tables()`; none: only the tables
    every install has, and a source's [table] in the file is an unknown setting): their checked values
    land in `Settings.table(name)`, each client's value of their client key in `ClientSettings.source_id(name)`.
    """
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
    return _SettingsReader(path, text, data, env, home, tables).settings()


class _SettingsReader(TableReader):
    """The layout of integoreport.toml: which tables and keys exist and how each is checked."""

    def __init__(self, path: Path, text: str, data: dict[str, Any], env: Mapping[str, str], home: Path,
                 tables: Sequence[TableSpec]):
        overrides = {**ENV_OVERRIDES, **{(spec.table, key): variable for spec in tables for key, variable in spec.env.items()}}
        super().__init__(path, text, data, env, overrides)
        self.home, self.specs = home, tuple(tables)
        self.known, self.client_keys = known_keys(tables), client_keys(tables)
        self.secrets = {**SECRETS, **{spec.table: spec.secret for spec in tables if spec.secret}}

    def settings(self) -> Settings:
        self.check_keys()
        clients = self.clients()
        report = self.report()
        tables = {spec.table: values for spec in self.specs if (values := self.source_table(spec)) is not None}
        return Settings(home=self.home, path=self.path, report=report, delivery=self.delivery(), clients=clients, tables=tables,
                        timezone=report.timezone or machine_timezone(), env=self.env)

    def check_keys(self) -> None:
        for table, value in self.data.items():
            keys = (table,)
            if table not in self.known:
                raise self.unknown(keys, frozenset(name for name in self.known if "." not in name))
            if not isinstance(value, dict):
                raise self.error(keys, "must be a table: write it as [" + table + "]")
            if table == "clients":
                for client_id, client in value.items():
                    self.check_table((table, client_id), client, self.client_keys)
            else:
                self.check_table(keys, value, self.known[table])

    def check_table(self, keys: tuple[str, ...], table: Any, known: frozenset[str]) -> None:
        if not isinstance(table, dict):
            raise self.error(keys, "must be a table")
        name = ".".join(keys)
        for key, value in table.items():
            here = (*keys, key)
            if looks_secret(key):
                spec = self.secrets.get(name)
                variable, place = (spec.env_var, self.home / spec.file_name) if spec else \
                    ("the service's environment variable", self.home / "its own file")
                raise self.error(here, f"looks like a secret: secrets never go in {SETTINGS_FILE}; set {variable} "
                                       f"or put it in {place} (chmod 600)")
            if key not in known:
                raise self.unknown(here, known)
            child = f"{name}.{key}"
            if child in self.known:
                self.check_table(here, value, self.known[child])

    def checked(self, table: str, key: str, check: Any) -> Any:
        """The text at [table] key passed through `check`, whose ValueError or ConfigError names this key."""
        text = self.text(table, key)
        if text is None:
            return None
        _, keys, variable = self.value(table, key)
        return self.passed(text, check, keys, variable)

    # -- the tables --

    def report(self) -> ReportSettings:
        self.checked("report", "timezone", zone_value)
        self.checked("report", "business_hours", hours_value)
        tags = self.string_list("report", "proactive_tags")
        color = self.checked("report", "accent_color", color_value)
        return ReportSettings(
            msp_name=self.text("report", "msp_name") or DEFAULT_MSP_NAME,
            timezone=self.text("report", "timezone"),
            business_hours=self.text("report", "business_hours"),
            proactive_tags=tags[0] if tags is not None else ReportSettings.proactive_tags,
            logo_url=self.url("report", "logo_url", https_only=True),
            accent_color=color,
            contact=self.text("report", "contact"),
            show_csat_comments=self.flag("report", "show_csat_comments", False),
        )

    def source_table(self, spec: TableSpec) -> dict[str, Any] | None:
        """A source's [table], each present key passed through its check; None when the table is not there."""
        overridden = any(self.env.get(variable, "").strip() for variable in spec.env.values())
        if spec.table not in self.data and not overridden:
            return None
        for key in sorted(spec.required):
            if self.value(spec.table, key)[0] is None:
                example = spec.examples.get(key, '"..."')
                raise self.error((spec.table,), f"needs {key} = {example}", table=True)
        values = {}
        for key, check in spec.keys.items():
            raw, keys, variable = self.env_only_value(spec, key) if key in spec.env_only else self.value(spec.table, key)
            if raw is not None:
                values[key] = self.passed(raw, check, keys, variable)
        return values

    def env_only_value(self, spec: TableSpec, key: str) -> tuple[str | None, tuple[str, ...], str | None]:
        """An environment-only key's text as set (its check strips it, and shows it as given), None when unset or blank."""
        variable = spec.env[key]
        raw = self.env.get(variable)
        return (raw if raw is not None and raw.strip() else None), (spec.table, key), variable

    def source_ids(self, table: str) -> dict[str, Any]:
        """A [clients.ID] table's values of the sources' client keys, checked, by the source's table name."""
        ids = {}
        for spec in self.specs:
            raw, keys, _ = self.value(table, spec.client_key) if spec.client_key else (None, (), None)
            if raw is not None:
                ids[spec.table] = self.passed(raw, spec.client_check or same_value, keys, None)
        return ids

    def passed(self, raw: Any, check: Any, keys: tuple[str, ...], variable: str | None) -> Any:
        """`check(raw)`, its ValueError or ConfigError turned into an error naming the key (or the variable)."""
        try:
            return check(raw)
        except (ValueError, ConfigError) as exc:
            raise self.fail(keys, variable, str(exc)) from None

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
        known = _known_client_ids(self.home)
        clients = {}
        for client_id in self.data.get("clients", {}):
            if not re.fullmatch(r"\d+", client_id):
                raise self.error(("clients", client_id), "is not a client id: use the number from companies_list.json, "
                                                         "as in [clients.21000351601]", table=True)
            if known is not None and client_id not in known:
                line = self.line_of(("clients", client_id))
                warn_once(f"{self.path}{f':{line}' if line else ''}: [clients.{client_id}] is not in companies_list.json "
                          "(a typo, or a client that has gone?)", log)
            table = f"clients.{client_id}"
            clients[client_id] = ClientSettings(client_id=client_id, to=self.addresses(table, "to"), cc=self.addresses(table, "cc"),
                                                send=self.flag(table, "send", True), source_ids=self.source_ids(table))
        return clients


def _known_client_ids(home: Path) -> set[str] | None:
    """The ids in companies_list.json, or None when there is no readable list yet."""
    try:
        clients = json.loads(read_regular_text(home / COMPANIES_FILE))
        return {str(client["id"]) for client in clients}
    except (OSError, ValueError, TypeError, KeyError, RecursionError, DataError):
        return None
