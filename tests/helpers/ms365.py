"""Microsoft 365 test data: the app's credentials, a small Graph tenant, and a hand-built ms365 raw file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from simulators.graph import GraphTenant
from tests.helpers.reports import OCTOBER_NY

APP_ID = "0f0e0d0c-0b0a-4909-8807-060504030201"
SECRET = "graph-test-secret~4c1d9e"
TENANT_ID = "6c3d1e2f-0000-4000-8000-00000000abcd"
DOMAIN = "contoso.onmicrosoft.com"
# How the "non-premium tenant" 403 is worded: Microsoft also answers it to apps without Directory.Read.All.
PREMIUM_OR_DIRECTORY = "needs Entra ID P1 or P2, or the Directory.Read.All permission"


def make_tenant(users: int = 5, **switches) -> GraphTenant:
    """A small tenant: 60 days of scores (newest first), 3 profiles, 2 SKUs, `users` users, their MFA records."""
    first = datetime(2026, 9, 6, tzinfo=UTC)
    days = [(first + timedelta(days=offset)).strftime("%Y-%m-%d") for offset in range(60)]  # to 2026-11-04
    tenant = GraphTenant(TENANT_ID, DOMAIN, **switches)
    tenant.secure_scores = [score(day, 30.0 + index * 0.25) for index, day in enumerate(days)][::-1]
    tenant.control_profiles = [{"id": name, "title": name, "controlCategory": "Identity", "maxScore": 10.0, "rank": rank,
                                "deprecated": False} for rank, name in enumerate(("AdminMFAV2", "MFARegistrationV2", "OneAdmin"), 1)]
    tenant.skus = [{"skuId": "sku-1", "skuPartNumber": "SPB", "capabilityStatus": "Enabled", "consumedUnits": users,
                    "prepaidUnits": {"enabled": users + 2, "suspended": 0, "warning": 0, "lockedOut": 0}},
                   {"skuId": "sku-2", "skuPartNumber": "FLOW_FREE", "capabilityStatus": "Enabled", "consumedUnits": 3,
                    "prepaidUnits": {"enabled": 10000, "suspended": 0, "warning": 0, "lockedOut": 0}}]
    tenant.users = [user(index) for index in range(users)]
    tenant.registrations = [{"id": f"u{index}", "userPrincipalName": f"p{index}@contoso.example", "userDisplayName": f"Person {index:03d}",
                             "userType": "member", "isAdmin": index == 0, "isMfaRegistered": index % 2 == 0}
                            for index in range(users)]
    return tenant


def other_tenant(number: int, **switches) -> GraphTenant:
    return GraphTenant(f"7d0d0d0d-0000-4000-8000-00000000000{number}", f"client{number}.onmicrosoft.com", **switches)


AS_OF = "2026-11-02T08:00:00-05:00"


def raw(**fields) -> dict:
    base = {"schema_version": 1, "source": "ms365", "generated_at": AS_OF, "period": dict(OCTOBER_NY),
            "client": {"id": "1", "tenant": "contoso.onmicrosoft.com"}, "secure_scores": [], "control_profiles": [],
            "subscribed_skus": [], "users": [], "mfa_registrations": [], "unavailable": {}}
    base.update(fields)
    return base


def score(day: str, current: float) -> dict:
    return {"id": f"{TENANT_ID}_{day}", "azureTenantId": TENANT_ID, "createdDateTime": f"{day}T00:00:00Z", "currentScore": current,
            "maxScore": 80.0, "averageComparativeScores": [{"basis": "AllTenants", "averageScore": 40.0}],
            "controlScores": [{"controlCategory": "Identity", "controlName": "AdminMFAV2", "score": 5.0}]}


def user(index: int, **fields) -> dict:
    base = {"id": f"u{index}", "displayName": f"Person {index:03d}", "userPrincipalName": f"p{index}@contoso.example",
            "accountEnabled": True, "userType": "Member", "assignedLicenses": [{"skuId": "sku-1", "disabledPlans": []}],
            "signInActivity": {"lastSignInDateTime": "2026-11-01T10:00:00Z", "lastNonInteractiveSignInDateTime": None}}
    base.update(fields)
    return base
