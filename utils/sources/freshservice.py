"""Freshservice, declared once: the helpdesk every client has, the report's main body, its shared account sweep.

Freshservice is the one required source: without its tickets there is no report, so its failure fails
the client and its refused key (or spent 429 wait budget) stops the run. Its once-a-run work (reference
data, and for several clients one ticket sweep instead of queries per client) is its `prepare`. Its
settings are declared here like every source's: the [freshservice] url (FRESHSERVICE_URL, `--url`),
the API key (FRESHSERVICE_API_KEY or token.txt) and the rate pacing (environment only).
"""

from __future__ import annotations

import argparse
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

from utils.core.errors import ConfigError, one_line
from utils.core.period import Period
from utils.core.secrets import SecretSpec, read_secret
from utils.core.settings import Settings, TableSpec
from utils.core.settings_values import text_value
from utils.core.urls import NOT_A_URL, PLAIN_HTTP, USER_INFO, url_for_message, url_problem
from utils.reporting.attention import FRESHSERVICE_ATTENTION
from utils.services.freshservice_client import FreshserviceClient
from utils.services.freshservice_pull import DEFAULT_WORKERS, AccountContext, edition_of, pull_client_month
from utils.sources.source import Source, client_options, stopping_error

log = logging.getLogger(__name__)

FRESHSERVICE_API_KEY = SecretSpec("FRESHSERVICE_API_KEY", "token.txt", "Freshservice API key")
ENV_URL = "FRESHSERVICE_URL"
ENV_RATE_RESERVE = "FRESHSERVICE_RATE_RESERVE"  # environment only: pacing a simulator or a shared account
ENV_RATE_WINDOW = "FRESHSERVICE_RATE_WINDOW"
DEFAULT_RATE_RESERVE = 0.10  # share of X-Ratelimit-Total left for the account's other integrations
DEFAULT_RATE_WINDOW = 60.0  # Freshservice budgets credits per minute; a compressed-time simulator says otherwise
_ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_HOST_NAME = re.compile(r"^[A-Za-z0-9.-]+$")


def freshservice_url(value: str | None, what: str = "Freshservice URL") -> str:
    """Turn `acme`, `acme.freshservice.com` or a full URL into `https://acme.freshservice.com` form, checked
    by the one URL rule (utils.core.urls).

    A ConfigError otherwise, worded with `what` ("malformed Freshservice URL '...': ..."); the settings
    reader passes "" and names the key itself.
    """
    if value is None or not value.strip():
        raise ConfigError(f"no Freshservice URL: set url in the [freshservice] table of integoreport.toml or "
                          f"{ENV_URL} (for example 'acme' or 'https://acme.freshservice.com'), or pass --url")
    text = value.strip()
    shown = url_for_message(text)  # errors show it without a user name, password or parameter values
    malformed = f"malformed {what + ' ' if what else ''}{shown!r}"
    if "://" not in text:
        if _ACCOUNT_NAME.match(text):
            return f"https://{text.lower()}.freshservice.com"
        if not (_HOST_NAME.match(text) and "." in text and ".." not in text):
            raise ConfigError(f"{malformed}: use 'acme', 'acme.freshservice.com' or 'https://acme.freshservice.com'")
        text = "https://" + text
    problem = url_problem(text)
    parts = urlsplit(text) if problem != NOT_A_URL else None
    if problem == NOT_A_URL or parts is None:
        raise ConfigError(f"{malformed}: bad host name or port")
    if problem == USER_INFO:
        raise ConfigError(f"{malformed}: it must not carry a user name or password (the API key goes in "
                          f"{FRESHSERVICE_API_KEY.env_var} or {FRESHSERVICE_API_KEY.file_name})")
    if problem == PLAIN_HTTP:
        raise ConfigError(f"refusing plain http:// to {parts.hostname}: the API key would cross the network unencrypted; "
                          "use https://")
    if problem is not None or parts.query or parts.fragment:
        raise ConfigError(f"{malformed}: use 'https://acme.freshservice.com'")
    return _helpdesk_root(parts, malformed)


def _helpdesk_root(parts: SplitResult, malformed: str) -> str:
    host = parts.hostname or ""
    if not (_HOST_NAME.match(host) or ":" in host):
        raise ConfigError(f"{malformed}: bad host name")
    if parts.path.rstrip("/") not in ("", "/api/v2"):
        raise ConfigError(f"{malformed}: give the helpdesk address without a path")
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return f"{parts.scheme}://{netloc.lower()}"


def url_value(value: Any) -> str:
    """[freshservice] url (or FRESHSERVICE_URL), normalised; the reader names the key in front of the reason."""
    return freshservice_url(text_value(value), what="")


def reserve_value(value: str) -> float:
    """FRESHSERVICE_RATE_RESERVE as a share of the budget, from '0.1' or '10%'."""
    text = value.strip()
    try:
        share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise ValueError(f"must be a share such as 0.1 or 10%, not {value!r}") from None
    if not 0 <= share < 1:
        raise ValueError(f"must be between 0 and 1 (or 0% and 99%), not {value!r}")
    return share


def window_value(value: str) -> float:
    """FRESHSERVICE_RATE_WINDOW: the rate-limit window in seconds, more than 0 and at most an hour."""
    try:
        seconds = float(value.strip())
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or not 0 < seconds <= 3600:
        raise ValueError(f"must be the rate-limit window in seconds (more than 0, at most 3600), not {value!r}")
    return seconds


# [freshservice] url (FRESHSERVICE_URL); FRESHSERVICE_API_KEY or token.txt; the pacing from the environment only
FRESHSERVICE_TABLE = TableSpec(
    table="freshservice",
    keys={"url": url_value, "rate_reserve": reserve_value, "rate_window": window_value},
    env={"url": ENV_URL, "rate_reserve": ENV_RATE_RESERVE, "rate_window": ENV_RATE_WINDOW},
    env_only=frozenset({"rate_reserve", "rate_window"}),
    secret=FRESHSERVICE_API_KEY,
)


@dataclass(frozen=True)
class FreshserviceSettings:
    """The helpdesk as the settings give it: its URL (None: not set, a pull says so) and the rate pacing."""

    url: str | None = None  # normalised, e.g. https://acme.freshservice.com
    rate_reserve: float = DEFAULT_RATE_RESERVE
    rate_window: float = DEFAULT_RATE_WINDOW


def freshservice_settings(settings: Settings) -> FreshserviceSettings:
    """The [freshservice] table as read (every key checked by FRESHSERVICE_TABLE), with the defaults."""
    table = settings.table(FRESHSERVICE_TABLE.table) or {}
    return FreshserviceSettings(url=table.get("url"), rate_reserve=table.get("rate_reserve", DEFAULT_RATE_RESERVE),
                                rate_window=table.get("rate_window", DEFAULT_RATE_WINDOW))


def with_url(settings: Settings, url: str) -> Settings:
    """These settings with the helpdesk given on the command line (--url wins over every setting)."""
    return settings.with_table(FRESHSERVICE_TABLE.table, url=freshservice_url(url))


def add_url_argument(parser: argparse.ArgumentParser) -> None:
    """--url, for the commands that reach the helpdesk."""
    parser.add_argument("--url", help=f"the Freshservice helpdesk (acme, acme.freshservice.com or https://...); default ${ENV_URL}")


def load_api_key(home: Path, env: Mapping[str, str] | None = None) -> str:
    """The Freshservice API key, read as every secret is, and checked to fit in an HTTP header."""
    key = read_secret(home, FRESHSERVICE_API_KEY, env)
    try:
        key.encode("latin-1")
    except UnicodeEncodeError as exc:
        # HTTP headers carry Latin-1 only; requests would fail deep inside with an encoding error.
        raise ConfigError(f"the Freshservice API key has a character that cannot be sent (position {exc.start + 1}); "
                          f"copy the key again into {FRESHSERVICE_API_KEY.env_var} or {home / FRESHSERVICE_API_KEY.file_name}") from None
    return key


@dataclass
class AccountMonth:
    """What every Freshservice pull of one run shares: the account context (its sweep), each client's kind, the workers."""

    context: AccountContext
    entity_types: dict[str, str] = field(default_factory=dict)
    workers: int = DEFAULT_WORKERS


def make_client(settings: Settings, *, for_check: bool = False) -> FreshserviceClient:
    """The run's Freshservice client: the helpdesk URL and pacing from the settings, the key from FRESHSERVICE_API_KEY
    or token.txt; ConfigError when either is missing. `for_check`: the one check policy and timeout."""
    helpdesk = freshservice_settings(settings)
    url = freshservice_url(helpdesk.url)  # a ConfigError naming the file and FRESHSERVICE_URL when unset
    key = load_api_key(settings.home, settings.env)
    return FreshserviceClient(url, key, rate_reserve=helpdesk.rate_reserve, rate_window_seconds=helpdesk.rate_window,
                              **client_options(for_check))


def prepare(client: FreshserviceClient, clients: Sequence[Mapping[str, Any]], period: Period, workers: int) -> AccountMonth:
    """The run's account context; with several client-months, one sweep (over `period`) serves them all."""
    listed = [dict(entry) for entry in clients]
    # Freshservice for MSPs: the clients are workspaces, and the shared sweep reads every workspace.
    month = AccountMonth(AccountContext(client, edition=edition_of(listed)),
                         {str(entry["id"]): str(entry.get("entity_type", "department")) for entry in listed}, workers)
    if listed:
        prepare_shared_step(month.context, period, multiple_clients=len(listed) > 1)
    return month


def prepare_shared_step(context: AccountContext, period: Period, multiple_clients: bool = True) -> None:
    """Fetch once what every client needs: reference data and, for several clients, one sweep instead
    of queries per client.

    Only a refused key, bad configuration or a spent wait budget stops the run here; any other failure costs
    credits, not the month: each client then finds its own tickets.
    """
    try:
        context.load_reference_data()
    except Exception as exc:  # noqa: BLE001 - see the docstring
        stop = stopping_error(exc)
        if stop is not None:
            raise stop from None
        # Tried once per run: the reports go out with ids for names and built-in labels, and say so.
        reason = one_line(exc)
        context.warnings.append(f"agent names and custom status labels are not available in this report ({reason})")
        log.warning("agent names and custom status labels could not be read (%s); the reports say so", reason)
    if not multiple_clients:
        return
    try:
        context.prepare_batch(period)  # its reference data is loaded (or given up) above
    except Exception as exc:  # noqa: BLE001 - see the docstring
        stop = stopping_error(exc)
        if stop is not None:
            raise stop from None
        context.sweep_failed = context.sweep_since is None
        log.warning("the shared ticket sweep failed (%s); each client's tickets are found on their own instead", one_line(exc))
        log.debug("shared step failed", exc_info=True)


def pull(month: AccountMonth, settings: Settings, client_id: str, period: Period) -> dict:
    """One client's tickets of the month (one summary line a client is enough in a batch log)."""
    return pull_client_month(month.context, client_id, period, month.entity_types.get(client_id, "department"), month.workers,
                             progress_level=logging.DEBUG)


def check(settings: Settings) -> str:
    """One department read: proves the helpdesk URL and the API key for 1 credit."""
    # A ConfigError naming the file and FRESHSERVICE_URL when unset; the one check policy (answers in seconds).
    client = make_client(settings, for_check=True)
    client.get_json("departments", {"per_page": 1})
    return f"{client.base_url}: API key accepted (read one department)"


FRESHSERVICE = Source(
    name="freshservice",
    title="Freshservice",
    settings=FRESHSERVICE_TABLE,
    client_field=None,  # every client is one of its departments, companies or workspaces
    enabled=lambda settings: True,
    make_client=make_client,
    pull=pull,
    check=check,
    report=None,  # its figures are the report's main body
    attention=FRESHSERVICE_ATTENTION,
    required=True,
    prepare=prepare,
    demo="simulators.freshservice",  # its simulator serves the demo account (simulators/demo_freshservice.py)
    shown=lambda settings: freshservice_settings(settings).url or "not set",
)
