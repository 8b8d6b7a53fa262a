"""Freshservice, declared once: the helpdesk every client has, the report's main body, its shared account sweep.

Freshservice is the one required source: without its tickets there is no report, so its failure fails
the client and its refused key (or spent 429 wait budget) stops the run. Its once-a-run work (reference
data, and for several clients one ticket sweep instead of queries per client) is its `prepare`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from utils.core.errors import one_line
from utils.core.period import Period
from utils.core.settings import Settings
from utils.reporting.attention import FRESHSERVICE_ATTENTION
from utils.services.freshservice_client import FreshserviceClient
from utils.services.freshservice_pull import DEFAULT_WORKERS, AccountContext, edition_of, pull_client_month
from utils.sources.source import Source, stopping_error

log = logging.getLogger(__name__)

@dataclass
class AccountMonth:
    """What every Freshservice pull of one run shares: the account context (its sweep), each client's kind, the workers."""

    context: AccountContext
    entity_types: dict[str, str] = field(default_factory=dict)
    workers: int = DEFAULT_WORKERS


def make_client(settings: Settings, *, for_check: bool = False) -> FreshserviceClient:
    """The run's Freshservice client: the helpdesk URL from the settings, the key from FRESHSERVICE_API_KEY or token.txt.

    `for_check`: the one check policy and timeout."""
    return FreshserviceClient.from_settings(settings, for_check=for_check)


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
    # [freshservice] url and FRESHSERVICE_API_KEY: every install has them (without the helpdesk there is no
    # report), so core's settings reader knows them itself, typed (settings.freshservice) for its client.
    settings=None,
    client_field=None,
    enabled=lambda settings: True,
    make_client=make_client,
    pull=pull,
    check=check,
    report=None,  # its figures are the report's main body
    attention=FRESHSERVICE_ATTENTION,
    required=True,
    prepare=prepare,
    demo="simulators.freshservice",  # its simulator serves the demo account (simulators/demo_freshservice.py)
)
