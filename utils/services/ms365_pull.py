"""Pull one client's Microsoft 365 posture into raw_data/ms365_CLIENT_ID.json.

    python data_pullers/ms365.py CLIENT_ID [--month YYYY-MM] [--tz ZONE] [--tenant TENANT]

Reads the client's `ms365_tenant` and the `[ms365]` app settings from integoreport.toml (the secret
from MS365_CLIENT_SECRET or ms365_secret.txt), gets one app-only token for the tenant and reads, one
call per endpoint for a tenant under 120 users: the Secure Score history (newest first, stopping
once it reaches the day before the month), the control profiles, the subscribed SKUs, the users
with their sign-in activity, and the MFA registration details. A part the tenant does not allow
(no Entra ID P1/P2, a permission not granted) is recorded in `unavailable` with a plain reason.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from utils.core import clock
from utils.core.cli import build_parser, run_main
from utils.core.config import RAW_DIR, ensure_writable_dir
from utils.core.errors import EXIT_OK, ConfigError
from utils.core.files import is_valid_id, write_json_atomic
from utils.core.period import Period, add_period_arguments, period_of, resolve_timezone
from utils.core.settings import Settings, load_settings
from utils.services import raw_file
from utils.services.graph_client import AppCredentialsRefused, GraphClient, GraphError, NotPremium, PermissionDenied, TenantRefused
from utils.services.http import usage_block
from utils.services.tickets import parse_timestamp

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SOURCE = "ms365"

# Page sizes: as large as each endpoint allows. Users with signInActivity selected: at most 120.
SCORES_TOP = 90  # Graph keeps about 90 daily scores
USERS_TOP_WITH_SIGN_IN = 120
USERS_TOP = 999
REGISTRATIONS_TOP = 999
USER_FIELDS = "id,displayName,userPrincipalName,accountEnabled,userType,assignedLicenses"

PERMISSIONS = {"secure_score": "SecurityEvents.Read.All", "control_profiles": "SecurityEvents.Read.All",
               "licenses": "Organization.Read.All", "users": "User.Read.All", "sign_in": "AuditLog.Read.All",
               "mfa": "AuditLog.Read.All"}
# Every application permission the app needs (README, "Microsoft 365"). Directory.Read.All reads no
# endpoint of its own, but without it Graph can answer the "non-premium tenant" 403 on sign-in activity
# and MFA registration of a tenant that does have Entra ID P1/P2.
APPLICATION_PERMISSIONS = ("SecurityEvents.Read.All", "Organization.Read.All", "User.Read.All", "AuditLog.Read.All",
                           "Directory.Read.All")
# That 403 is therefore worded as what it may mean, not as a fact about the client's licence.
NEEDS_PREMIUM = "needs Entra ID P1 or P2, or the Directory.Read.All permission"


def reason_for(part: str, error: GraphError) -> str:
    """The plain reason a part could not be read, for the report."""
    if isinstance(error, NotPremium):
        return NEEDS_PREMIUM
    return f"permission {PERMISSIONS[part]} not granted"


def describe_unavailable(unavailable: dict[str, str]) -> str:
    """'; not available: sign_in, mfa (needs Entra ID P1 or P2, or ...)' for a log line, or ''."""
    if not unavailable:
        return ""
    by_reason: dict[str, list[str]] = {}
    for part, reason in unavailable.items():
        by_reason.setdefault(reason, []).append(part.replace("_", " "))
    return "; not available: " + "; ".join(f"{', '.join(parts)} ({reason})" for reason, parts in by_reason.items())


def scores_for_period(scores: list[dict], period: Period) -> list[dict]:
    """The month's daily scores plus the newest one before it (the month's starting point), newest first."""
    dated = [(moment, item) for item in scores if (moment := parse_timestamp(item.get("createdDateTime"))) is not None]
    dated.sort(key=lambda pair: pair[0], reverse=True)
    inside = [item for moment, item in dated if period.start <= moment < period.end]
    before = next((item for moment, item in dated if moment < period.start), None)
    return inside + ([before] if before is not None else [])


def pull_tenant(graph: GraphClient, tenant: str, period: Period) -> dict[str, Any]:
    """Everything the metrics need from one tenant; unavailable parts are None with a reason in `unavailable`."""
    unavailable: dict[str, str] = {}
    data: dict[str, Any] = {}

    def reached_start(page: list[dict]) -> bool:  # newest first: older pages cannot matter once the month's eve is in
        return any((moment := parse_timestamp(item.get("createdDateTime"))) is not None and moment < period.start for item in page)

    try:
        data["secure_scores"] = scores_for_period(
            graph.get_all(tenant, "/security/secureScores", {"$top": SCORES_TOP}, stop=reached_start), period)
    except (PermissionDenied, NotPremium) as exc:
        data["secure_scores"], unavailable["secure_score"] = None, reason_for("secure_score", exc)
    try:
        data["control_profiles"] = graph.get_all(tenant, "/security/secureScoreControlProfiles")
    except (PermissionDenied, NotPremium) as exc:
        data["control_profiles"], unavailable["control_profiles"] = None, reason_for("control_profiles", exc)
    try:
        data["subscribed_skus"] = graph.get_all(tenant, "/subscribedSkus")
    except (PermissionDenied, NotPremium) as exc:
        data["subscribed_skus"], unavailable["licenses"] = None, reason_for("licenses", exc)
    data["users"] = _users(graph, tenant, unavailable)
    try:
        data["mfa_registrations"] = graph.get_all(tenant, "/reports/authenticationMethods/userRegistrationDetails",
                                                  {"$top": REGISTRATIONS_TOP})
    except (PermissionDenied, NotPremium) as exc:
        data["mfa_registrations"], unavailable["mfa"] = None, reason_for("mfa", exc)
    data["unavailable"] = unavailable
    return data


def _users(graph: GraphClient, tenant: str, unavailable: dict[str, str]) -> list[dict] | None:
    """Users with sign-in activity; without it (no P1/P2, no AuditLog permission) the plain list, once more."""
    try:
        return graph.get_all(tenant, "/users", {"$select": USER_FIELDS + ",signInActivity", "$top": USERS_TOP_WITH_SIGN_IN})
    except (PermissionDenied, NotPremium) as exc:
        sign_in_error = exc
    try:
        users = graph.get_all(tenant, "/users", {"$select": USER_FIELDS, "$top": USERS_TOP})
    except PermissionDenied as exc:
        unavailable["users"] = reason_for("users", exc)
        unavailable["sign_in"] = unavailable["users"]
        return None
    unavailable["sign_in"] = reason_for("sign_in", sign_in_error)
    return users


def pull_client_month(graph: GraphClient, client_id: str, tenant: str, period: Period) -> dict[str, Any]:
    """The raw document for one client and month (what raw_data/ms365_<ID>.json holds)."""
    before, tokens_before = graph.usage_for(tenant), graph.tokens_fetched.get(tenant, 0)
    data = pull_tenant(graph, tenant, period)
    usage = graph.usage_for(tenant).minus(before)
    for part, reason in data["unavailable"].items():
        log.debug("%s: %s not available: %s", client_id, part.replace("_", " "), reason)
    return {
        "schema_version": SCHEMA_VERSION,
        "source": SOURCE,
        # In the report's zone, so the "as of" date the report prints is the local date of the pull.
        "generated_at": clock.now().astimezone(period.zone).isoformat(timespec="seconds"),
        "period": period.as_dict(),
        "client": {"id": str(client_id), "tenant": tenant},
        **data,
        "requests": usage.requests,  # as `usage.requests`; kept for the readers that predate `usage`
        "usage": usage_block(usage, tokens=graph.tokens_fetched.get(tenant, 0) - tokens_before),
    }


def check(settings: Settings, graph: GraphClient | None = None) -> str | None:
    """`pull_info.py --check`: a token for every configured tenant; None when [ms365] is not set.

    Returns what it reached. Every tenant is asked, and one error names each that refused, with its
    AADSTS code and what to do: an AppCredentialsRefused when the app itself was refused (its
    secret), else a TenantRefused.
    """
    if settings.ms365 is None:
        return None
    graph = graph or GraphClient.from_settings(settings, for_check=True)  # the one check policy: answers in seconds
    tenants = {client_id: entry.ms365_tenant.strip() for client_id, entry in settings.clients.items() if entry.ms365_tenant}
    refused: dict[str, TenantRefused] = {}
    for client_id, tenant in sorted(tenants.items()):
        try:
            graph.token(tenant)
        except TenantRefused as exc:
            refused[client_id] = exc
    if refused:
        raise _check_failure(settings.ms365.app_id, len(tenants), refused)
    return f"Microsoft 365 app {settings.ms365.app_id}: a token for each of the {len(tenants)} configured tenants"


def _check_failure(app_id: str, total: int, refused: dict[str, TenantRefused]) -> TenantRefused:
    """One error naming every refused tenant; the app's own refusal (its secret) first and once."""
    app = next((exc for exc in refused.values() if isinstance(exc, AppCredentialsRefused)), None)
    parts = [f"client {client_id}: {exc}" for client_id, exc in refused.items() if not isinstance(exc, AppCredentialsRefused)]
    if app is not None:
        alike = sum(isinstance(exc, AppCredentialsRefused) for exc in refused.values())
        parts.insert(0, f"the app itself was refused ({alike} of them): {app}")
    codes = {exc.code for exc in refused.values()}
    if len(refused) == total > 1 and codes == {700016}:  # not found in any directory: the app id, not the consents
        parts.insert(0, f"every tenant answered AADSTS700016: check app_id {app_id} in [ms365]")
    message = f"Microsoft 365: {len(refused)} of {total} tenants refused the app: " + "; ".join(parts)
    return AppCredentialsRefused(message) if app is not None else TenantRefused(message)


def raw_data_path(home: Path, client_id: str) -> Path:
    """raw_data/ms365_<ID>.json; a DataError for an id that is not all digits (it names a file)."""
    return raw_file.raw_data_path(home, SOURCE, client_id)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if not is_valid_id(args.client_id):
        raise ConfigError(f"client id must be a number, not {args.client_id!r} (see companies_list.json)")
    tenant = (args.tenant or settings.client(args.client_id).ms365_tenant or "").strip()
    if not tenant:
        raise ConfigError(f"client {args.client_id} has no Microsoft 365 tenant: set ms365_tenant in "
                          f"[clients.{args.client_id}] of {settings.path} or pass --tenant")
    period = period_of(args, resolve_timezone(args.tz, settings.timezone))
    graph = GraphClient.from_settings(settings)
    ensure_writable_dir(settings.home / RAW_DIR, private=True)
    document = pull_client_month(graph, args.client_id, tenant, period)
    path = write_json_atomic(raw_data_path(settings.home, args.client_id), document, private=True)
    log.info("Microsoft 365, client %s (tenant %s), %s: %d requests%s; wrote %s", args.client_id, tenant, period.label,
             document["requests"], describe_unavailable(document["unavailable"]), path)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = build_parser("Pull one client's Microsoft 365 Secure Score, licences, users and MFA into raw_data/ms365_CLIENT_ID.json.",
                          network=False)
    parser.add_argument("client_id", help="the client's id (its Freshservice department or company id)")
    add_period_arguments(parser, "the month to report on")
    parser.add_argument("--tz", help="the report time zone (default: [report] timezone, $REPORT_TIMEZONE or the machine's)")
    parser.add_argument("--tenant", help="the tenant (GUID or name.onmicrosoft.com) instead of the client's ms365_tenant")
    return run_main(parser, run, argv)

