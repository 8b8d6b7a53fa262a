"""The one per-client isolation loop (the batch and the backfill), and one source isolated within a client.

A client's failure, whatever it is, never stops the others; a refused key, bad configuration or a
spent 429 wait budget of a required source stops the run (every client would fail alike). Ctrl-C,
SIGTERM and SIGHUP stop it too, and the client under way is marked as not finished.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TypeVar

from utils.core.errors import AuthenticationError, ConfigError, WaitBudgetSpent, one_line
from utils.monthly.state import ClientOutcome, StepResult
from utils.sources.source import Connected, stopping_error

log = logging.getLogger(__name__)

T = TypeVar("T")


def each_client(items: Iterable[T], work: Callable[[T], None], failed: Callable[[T, str], None], label: Callable[[T], str]) -> None:
    """Run `work` for every item (a client, or a client and a month); a failure is handed to `failed`, never raised."""
    for item in items:
        try:
            work(item)
        except Exception as exc:  # noqa: BLE001 - one client's failure, whatever it is, never stops the others
            stop = stopping_error(exc)
            if stop is not None:
                failed(item, f"the run stopped: {one_line(stop)}")
                raise stop from None
            reason = one_line(exc)
            failed(item, reason)
            log.error("%s failed: %s", label(item), reason)
            log.debug("%s failed", label(item), exc_info=True)
        except BaseException as exc:  # Ctrl-C, SIGTERM, SIGHUP: the index shows this client as not finished
            failed(item, f"the run was stopped ({exc or 'interrupted'}) before this client finished")
            raise


def run_source(connected: Connected, call: Callable[[], str], outcome: ClientOutcome, disabled: dict[str, str]) -> None:
    """One source for one client; any failure is recorded on the outcome, never raised (Ctrl-C is)."""
    name = connected.name
    client_id = str(outcome.client["id"])
    label = f"{outcome.client.get('name')} ({client_id}): {name}"
    try:
        if not connected.configured(client_id):
            outcome.steps[name] = StepResult("skipped")
            return
        if name in disabled:  # only clients the source is configured for share its refusal
            outcome.steps[name] = StepResult("failed", disabled[name])
            return
        outcome.steps[name] = StepResult("ok", call())
    except (AuthenticationError, ConfigError, WaitBudgetSpent) as exc:
        # A refused key, a wrong setting or a spent 429 wait budget fails every client alike: stop asking,
        # keep the others going.
        disabled[name] = one_line(exc)
        outcome.steps[name] = StepResult("failed", disabled[name])
        log.error("%s failed: %s; not tried for the remaining clients", label, disabled[name])
    except Exception as exc:  # noqa: BLE001 - one source's failure never stops the client or the batch
        outcome.steps[name] = StepResult("failed", one_line(exc))
        log.error("%s failed: %s", label, outcome.steps[name].detail)
        log.debug("%s failed", label, exc_info=True)
