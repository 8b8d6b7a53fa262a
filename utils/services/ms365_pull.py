"""Pull one client's Microsoft 365 posture into raw_data/ms365_CLIENT_ID.json.

    python data_pullers/ms365.py CLIENT_ID [--month YYYY-MM] [--tz ZONE] [--tenant TENANT]

Given a GraphClient (made by utils/sources/ms365.py from the `[ms365]` table and its secret; that
module also runs the command) and the client's tenant, gets one app-only token for the tenant and reads, one
call per endpoint for a tenant under 120 users: the Secure Score history (newest first, stopping
once it reaches the day before the month), the control profiles, the subscribed SKUs, the users
with their sign-in activity, and the MFA registration details. A part the tenant does not allow
(no Entra ID P1/P2, a permission not granted) is recorded in `unavailable` with a plain reason.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from utils.core import clock
from utils.core.period import Period
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


def check(graph: GraphClient, tenants: Mapping[str, str]) -> str:
    """`pull_info.py --check`: a token for every configured tenant ({client id: tenant}); what it reached.

    Every tenant is asked, and one error names each that refused, with its AADSTS code and what to
    do: an AppCredentialsRefused when the app itself was refused (its secret), else a TenantRefused.
    """
    refused: dict[str, TenantRefused] = {}
    for client_id, tenant in sorted(tenants.items()):
        try:
            graph.token(tenant)
        except TenantRefused as exc:
            refused[client_id] = exc
    if refused:
        raise _check_failure(graph.app_id, len(tenants), refused)
    return f"Microsoft 365 app {graph.app_id}: a token for each of the {len(tenants)} configured tenants"


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
