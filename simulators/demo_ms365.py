"""The demo's Microsoft 365 tenants: one per demo client company except the newest (Alder Peak).

`build_demo_tenants(now)` always builds the same tenants for the same `now`. Each has 90 days of
daily Secure Score that climbs during the previous month as the MSP fixes controls, a catalogue of
improvement actions (one deprecated), paid SKUs with a few unassigned seats plus a free viral SKU,
users with guests, shared mailboxes, one leaver still holding a licence, a few people who stopped
signing in, one who never did, and MFA registration with a handful of people (and one admin at the
architecture studio) still unregistered. The charity is on Business Standard, with no Entra ID
P1/P2, so its sign-in activity and MFA registration are "not available".

All people and domains are invented; e-mail domains use the reserved .example TLD.
"""

from __future__ import annotations

import argparse
import random
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from simulators.demo_freshservice import FIRST_NAMES, LAST_NAMES, LOCAL_OFFSET
from simulators.graph import GraphSimulator, GraphTenant
from utils.core import clock
from utils.core.settings import SETTINGS_FILE, ClientSettings, Settings
from utils.services.graph_client import GraphClient
from utils.sources.ms365 import MS365, MS365_TABLE
from utils.sources.source import Connected

DEMO_APP_ID = "0d3c2b1a-5e4f-4a6b-9c8d-7e6f5a4b3c2d"
DEMO_SECRET = "demo-graph-secret-not-secret"
HISTORY_DAYS = 90
_NAMESPACE = uuid.UUID("8f6c2a4e-1b3d-4e5f-a7b9-c0d1e2f3a4b5")

# Improvement actions: id, title, category, max score, rank, user impact, implementation cost, service.
PROFILES = (
    ("AdminMFAV2", "Ensure multifactor authentication is enabled for all users in administrative roles", "Identity", 10, 1, "Low", "Low", "AzureAD"),
    ("MFARegistrationV2", "Ensure all users can complete multifactor authentication", "Identity", 9, 2, "Moderate", "Moderate", "AzureAD"),
    ("BlockLegacyAuthentication", "Enable Conditional Access policies to block legacy authentication", "Identity", 8, 3, "Moderate", "Moderate", "AzureAD"),
    ("mdo_safeattachments", "Ensure Safe Attachments policy is enabled", "Apps", 8, 4, "Low", "Low", "MDO"),
    ("mdo_safelinksforemail", "Ensure Safe Links for email is enabled", "Apps", 8, 5, "Low", "Low", "MDO"),
    ("mdo_antiphishingpolicies", "Ensure that an anti-phishing policy has been created", "Apps", 7, 6, "Low", "Low", "MDO"),
    ("SigninRiskPolicy", "Ensure sign-in risk policy is enabled", "Identity", 7, 7, "Moderate", "Moderate", "AzureAD"),
    ("UserRiskPolicy", "Ensure user risk policy is enabled", "Identity", 7, 8, "Moderate", "Moderate", "AzureAD"),
    ("DLPEnabled", "Turn on data loss prevention policies", "Data", 6, 9, "Moderate", "Moderate", "MIP"),
    ("exo_mailboxaudit", "Ensure mailbox auditing for all users is enabled", "Apps", 5, 10, "Low", "Low", "EXO"),
    ("IntegratedApps", "Do not allow users to grant consent to unreliable applications", "Identity", 4, 11, "Moderate", "Low", "AzureAD"),
    ("mdo_commonattachmentsfilter", "Ensure the Common Attachment Types Filter is enabled", "Apps", 4, 12, "Low", "Low", "MDO"),
    ("meeting_restrictanonymousjoin_v1", "Only invited users should be automatically admitted to Teams meetings", "Apps", 3, 13, "Moderate", "Low", "Teams"),
    ("exo_storageproviderrestricted", "Ensure additional storage providers are restricted in Outlook on the web", "Apps", 3, 14, "Moderate", "Low", "EXO"),
    ("AuditLogSearch", "Ensure Microsoft 365 audit log search is enabled", "Data", 3, 15, "Low", "Low", "MIP"),
    ("SelfServicePasswordReset", "Enable self-service password reset", "Identity", 1, 16, "Low", "Low", "AzureAD"),
    ("OneAdmin", "Designate more than one global admin", "Identity", 1, 17, "Low", "Low", "AzureAD"),
    ("RoleOverlap", "Use least privileged administrative roles", "Identity", 1, 18, "Low", "Low", "AzureAD"),
    ("PWAgePolicyNew", "Ensure the password expiration policy is set to never expire", "Identity", 8, 19, "Moderate", "Low", "AzureAD"),
    ("CustomerLockBoxEnabled", "Ensure the customer lockbox feature is enabled", "Data", 1, 20, "Low", "Low", "MIP"),
)
DEPRECATED_PROFILE = ("AdminMFA", "Require MFA for administrative roles (retired)", "Identity", 10, 21, "Low", "Low", "AzureAD")


@dataclass(frozen=True)
class DemoTenant:
    """How one demo client's tenant looks."""

    client_key: str  # the demo Freshservice company (simulators/demo_freshservice.py COMPANIES)
    department_id: str  # its department id in the demo account: the client id
    domain: str
    mail_domain: str
    industry: str
    members: int  # enabled member accounts of people
    skus: tuple[tuple[str, int, int], ...]  # (code, spare seats, warning units); the first is everyone's main licence
    premium: bool
    without_mfa: int  # members not registered for MFA
    admin_without_mfa: bool
    done: tuple[str, ...]  # controls fully in place before the month
    fixes: tuple[tuple[int, str], ...]  # (day of the previous month, control fixed that day)
    all_tenants_average: float
    seats_average: float
    industry_average: float
    seed: int


DEMO_TENANTS = (
    DemoTenant("law", "21000351601", "harrowvance.onmicrosoft.com", "harrowvance.example", "Legal", 178,
               (("SPE_E3", 4, 0), ("POWER_BI_PRO", 2, 2), ("VISIOCLIENT", 0, 0), ("EXCHANGESTANDARD", 1, 0), ("FLOW_FREE", 0, 0)),
               True, 9, False,
               ("AdminMFAV2", "mdo_safeattachments", "mdo_safelinksforemail", "exo_mailboxaudit", "AuditLogSearch",
                "SelfServicePasswordReset", "OneAdmin", "PWAgePolicyNew", "mdo_commonattachmentsfilter"),
               ((4, "BlockLegacyAuthentication"), (11, "mdo_antiphishingpolicies"), (19, "IntegratedApps"), (26, "RoleOverlap")),
               52.4, 48.9, 55.1, 11),
    DemoTenant("dental", "21000351602", "brightsmiledental.onmicrosoft.com", "brightsmiledental.example", "Healthcare", 25,
               (("SPB", 3, 0), ("EXCHANGESTANDARD", 1, 0)),
               True, 3, False,
               ("AdminMFAV2", "mdo_safeattachments", "exo_mailboxaudit", "SelfServicePasswordReset", "PWAgePolicyNew", "OneAdmin"),
               ((6, "mdo_safelinksforemail"), (14, "BlockLegacyAuthentication"), (22, "mdo_commonattachmentsfilter")),
               52.4, 44.7, 50.3, 12),
    DemoTenant("architecture", "21000351603", "northlinearch.onmicrosoft.com", "northline-arch.example", "Construction", 35,
               (("SPB", 2, 0), ("CPC_E_2C_8GB_128GB", 1, 0), ("TEAMS_EXPLORATORY", 0, 0)),
               True, 2, True,
               ("mdo_safeattachments", "mdo_safelinksforemail", "exo_mailboxaudit", "PWAgePolicyNew", "OneAdmin", "AuditLogSearch"),
               ((9, "mdo_antiphishingpolicies"), (23, "SelfServicePasswordReset")),
               52.4, 46.2, 43.8, 13),
    DemoTenant("nonprofit", "21000351604", "riverbendtrust.onmicrosoft.com", "riverbendtrust.example", "Nonprofit", 13,
               (("O365_BUSINESS_PREMIUM", 2, 0), ("O365_BUSINESS_ESSENTIALS", 3, 3)),
               False, 0, False,
               ("exo_mailboxaudit", "PWAgePolicyNew", "OneAdmin"),
               ((17, "mdo_commonattachmentsfilter"),),
               52.4, 41.3, 39.6, 14),
    DemoTenant("accounting", "21000351605", "kesslermoss.onmicrosoft.com", "kesslermoss.example", "Finance", 6,
               (("SPB", 2, 0),),
               True, 1, False,
               ("AdminMFAV2", "mdo_safeattachments", "mdo_safelinksforemail", "exo_mailboxaudit", "PWAgePolicyNew",
                "BlockLegacyAuthentication", "SelfServicePasswordReset"),
               ((8, "mdo_antiphishingpolicies"), (21, "DLPEnabled")),
               52.4, 47.5, 58.2, 15),
)


def build_demo_tenants(now: datetime | None = None) -> dict[str, GraphTenant]:
    """{demo client id (the Freshservice department id): its tenant}, built for `now`."""
    now = (now or clock.now()).astimezone(UTC)
    return {demo.department_id: _build_tenant(demo, now) for demo in DEMO_TENANTS}


def _sku_id(code: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "sku:" + code))


def _build_tenant(demo: DemoTenant, now: datetime) -> GraphTenant:
    rng = random.Random(demo.seed)
    tenant_id = str(uuid.uuid5(_NAMESPACE, demo.domain))
    tenant = GraphTenant(tenant_id=tenant_id, domain=demo.domain, premium=demo.premium)
    tenant.control_profiles = [_profile(row, deprecated=False) for row in PROFILES] + [_profile(DEPRECATED_PROFILE, deprecated=True)]
    tenant.secure_scores = _score_history(demo, tenant_id, now, rng)
    tenant.users, tenant.registrations = _people(demo, now, rng)
    tenant.skus = _skus(demo, tenant.users)
    return tenant


def _profile(row: tuple, deprecated: bool) -> dict:
    control_id, title, category, max_score, rank, impact, cost, service = row
    return {"id": control_id, "title": title, "controlCategory": category, "maxScore": float(max_score), "rank": rank,
            "userImpact": impact, "implementationCost": cost, "deprecated": deprecated, "tier": "Core", "service": service,
            "actionUrl": f"https://security.microsoft.com/securescore?viewid=actions&actionId={control_id}",
            "threats": ["Account Breach", "Elevation of Privilege"] if category == "Identity" else ["Phishing", "Malware"],
            "remediation": f"<p>{title}.</p>"}


def _score_history(demo: DemoTenant, tenant_id: str, now: datetime, rng: random.Random) -> list[dict]:
    """One Secure Score a day for 90 days, newest first, climbing as the month's fixes land."""
    # The months of the demo's clients (US Eastern, as in demo_freshservice), so the climb lands in the report month.
    local_now = now + LOCAL_OFFSET
    this_month = local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) - LOCAL_OFFSET
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    fixed_on = {control: last_month + timedelta(days=day - 1) for day, control in demo.fixes}
    # Partly done controls give the score its fractions (MFA registration grows with the people registered).
    partial = {"MFARegistrationV2": 0.6 + 0.04 * rng.randint(0, 5), "IntegratedApps": 0.5, "DLPEnabled": 0.25}
    profiles = [row for row in PROFILES]
    max_score = float(sum(row[3] for row in profiles))
    first_day = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=HISTORY_DAYS - 1)
    history = []
    for offset in range(HISTORY_DAYS):
        day = first_day + timedelta(days=offset)
        controls: list[dict[str, Any]] = []
        scores: list[float] = []
        for control_id, _title, category, maximum, *_ in profiles:
            if control_id in demo.done or (control_id in fixed_on and day >= fixed_on[control_id]):
                score = float(maximum)
            else:
                score = round(maximum * partial.get(control_id, 0.0), 2)
            controls.append({"controlCategory": category, "controlName": control_id, "description": "", "score": score})
            scores.append(score)
        current = round(sum(scores), 2)
        history.append({
            "id": f"{tenant_id}_{day:%Y-%m-%d}", "azureTenantId": tenant_id, "createdDateTime": f"{day:%Y-%m-%dT%H:%M:%SZ}",
            "currentScore": current, "maxScore": max_score, "activeUserCount": demo.members, "licensedUserCount": demo.members,
            "enabledServices": ["HasExchange", "HasSharePoint", "HasOD4B"],
            "averageComparativeScores": [
                {"basis": "AllTenants", "averageScore": demo.all_tenants_average},
                {"basis": "TotalSeats", "averageScore": demo.seats_average, "seatSizeRangeLowerValue": "1", "seatSizeRangeUpperValue": "200"},
                {"basis": "IndustryTypes", "averageScore": demo.industry_average, "industryName": demo.industry}],
            "controlScores": controls,
        })
    history.reverse()  # Graph serves the newest first
    return history


def _people(demo: DemoTenant, now: datetime, rng: random.Random) -> tuple[list[dict], list[dict]]:
    """Users and their MFA registration: members, two admins, guests, shared mailboxes, one licensed leaver."""
    main_sku = _sku_id(demo.skus[0][0])
    used: set[tuple[str, str]] = set()
    people: list[dict] = []

    def name() -> tuple[str, str]:
        while True:
            pair = (rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))
            if pair not in used:
                used.add(pair)
                return pair

    def stamp(days_ago: float) -> str:
        return f"{now - timedelta(days=days_ago):%Y-%m-%dT%H:%M:%SZ}"

    for index in range(demo.members):
        first, last = name()
        roll = rng.random()
        if index == 0:  # a new starter whose account nobody has used yet
            activity: dict | None = None
        elif roll < 0.06:  # stopped signing in (long leave, left without an offboarding ticket)
            activity = {"lastSignInDateTime": stamp(rng.randint(35, 140)), "lastNonInteractiveSignInDateTime": stamp(rng.randint(32, 34)),
                        "lastSuccessfulSignInDateTime": None}
        else:
            last_seen = stamp(rng.uniform(0.1, 12))
            activity = {"lastSignInDateTime": last_seen, "lastNonInteractiveSignInDateTime": stamp(rng.uniform(0.01, 2)),
                        "lastSuccessfulSignInDateTime": last_seen}
        people.append({"first": first, "last": last, "enabled": True, "type": "Member", "admin": False,
                       "skus": [main_sku], "activity": activity})
    for label in ("IT Admin", "Intego Admin"):
        people.append({"first": label, "last": "", "enabled": True, "type": "Member", "admin": True, "skus": [],
                       "activity": {"lastSignInDateTime": stamp(rng.uniform(1, 6)), "lastNonInteractiveSignInDateTime": None,
                                    "lastSuccessfulSignInDateTime": stamp(rng.uniform(1, 6))}})
    first, last = name()  # a leaver disabled last month whose licence nobody took back
    people.append({"first": first, "last": last, "enabled": False, "type": "Member", "admin": False, "skus": [main_sku],
                   "activity": {"lastSignInDateTime": stamp(41), "lastNonInteractiveSignInDateTime": stamp(40),
                                "lastSuccessfulSignInDateTime": stamp(41)}})
    for mailbox in ("Reception", "Accounts", "Info"):
        people.append({"first": mailbox, "last": "", "enabled": False, "type": "Member", "admin": False, "skus": [], "activity": None})
    for _ in range(max(1, demo.members // 12)):
        first, last = name()
        people.append({"first": first, "last": last, "enabled": True, "type": "Guest", "admin": False, "skus": [],
                       "activity": {"lastSignInDateTime": stamp(rng.randint(3, 200)), "lastNonInteractiveSignInDateTime": None,
                                    "lastSuccessfulSignInDateTime": None}})
    # Extra SKUs go to the first people after the new starter (a few seats stay spare).
    for code, _spare, _warning in demo.skus[1:]:
        if code in ("FLOW_FREE", "TEAMS_EXPLORATORY"):
            count = max(2, demo.members // 8)
        else:
            count = {"POWER_BI_PRO": 10, "VISIOCLIENT": 3, "EXCHANGESTANDARD": 2, "CPC_E_2C_8GB_128GB": 2}.get(code, 3)
        if code == "O365_BUSINESS_ESSENTIALS":  # the charity's volunteers get Basic instead of Standard
            for person in people[demo.members - 4:demo.members]:
                person["skus"] = [_sku_id(code)]
            continue
        for person in people[1:1 + count]:
            person["skus"].append(_sku_id(code))

    users, registrations = [], []
    unregistered = set(rng.sample(range(1, demo.members), demo.without_mfa)) if demo.without_mfa else set()
    for index, person in enumerate(people):
        display = f"{person['first']} {person['last']}".strip()
        local = ".".join(part for part in (person["first"], person["last"]) if part).lower().replace(" ", "").replace("'", "")
        local = local.encode("ascii", "ignore").decode() or f"user{index}"
        upn = f"{local}@{demo.mail_domain}" if person["type"] == "Member" else f"{local}_{demo.mail_domain.split('.')[0]}-partner.example#EXT#@{demo.domain}"
        user_id = str(uuid.uuid5(_NAMESPACE, f"{demo.domain}:{index}"))
        users.append({"id": user_id, "displayName": display, "userPrincipalName": upn, "accountEnabled": person["enabled"],
                      "userType": person["type"], "assignedLicenses": [{"skuId": sku, "disabledPlans": []} for sku in person["skus"]],
                      "signInActivity": person["activity"]})
        if display in ("Reception", "Accounts", "Info"):
            continue  # shared mailboxes have no registration record worth showing; Graph lists them as not capable
        registered = index not in unregistered
        if person["admin"] and person["first"] == "IT Admin" and demo.admin_without_mfa:
            registered = False
        registrations.append({"id": user_id, "userPrincipalName": upn, "userDisplayName": display,
                              "userType": person["type"].lower(), "isAdmin": person["admin"], "isMfaRegistered": registered,
                              "isMfaCapable": registered, "isPasswordlessCapable": False,
                              "methodsRegistered": ["microsoftAuthenticatorPush", "mobilePhone"] if registered else [],
                              "lastUpdatedDateTime": f"{now - timedelta(days=3):%Y-%m-%dT%H:%M:%SZ}"})
    return users, registrations


def _skus(demo: DemoTenant, users: list[dict]) -> list[dict]:
    skus = []
    for code, spare, warning in demo.skus:
        sku_id = _sku_id(code)
        consumed = sum(1 for user in users for licence in user["assignedLicenses"] if licence["skuId"] == sku_id)
        viral = code in ("FLOW_FREE", "TEAMS_EXPLORATORY")
        skus.append({"skuId": sku_id, "skuPartNumber": code, "appliesTo": "User", "accountId": "", "id": f"{sku_id}",
                     "capabilityStatus": "Warning" if warning else "Enabled", "consumedUnits": consumed,
                     "prepaidUnits": {"enabled": 10000 if viral else consumed + spare, "suspended": 0, "warning": warning, "lockedOut": 0}})
    return skus


def start_demo_source(home: Path) -> tuple[GraphSimulator, Connected]:
    """For `pull_info.py --demo` (Microsoft 365's `demo`): the demo tenants served on 127.0.0.1 and the source reading them."""
    tenants = build_demo_tenants()
    simulator = GraphSimulator(list(tenants.values()), app_id=DEMO_APP_ID, client_secret=DEMO_SECRET)
    url = simulator.start()
    table = MS365_TABLE.table
    settings = Settings(home=home, path=home / SETTINGS_FILE, tables={table: {"app_id": DEMO_APP_ID, "login_url": url, "graph_url": url}},
                        clients={client_id: ClientSettings(client_id, source_ids={table: tenant.domain}) for client_id, tenant in tenants.items()})
    return simulator, Connected(MS365, settings, GraphClient(url, DEMO_SECRET, app_id=DEMO_APP_ID, login_url=url))


def main(argv: list[str] | None = None) -> int:
    """Serve the demo tenants until Ctrl-C."""
    parser = argparse.ArgumentParser(description="Serve a simulated Microsoft Graph with the demo tenants.")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args(argv)
    simulator = GraphSimulator(list(build_demo_tenants().values()), app_id=DEMO_APP_ID, client_secret=DEMO_SECRET, port=args.port)
    return simulator.serve_until_stopped(f"Graph simulator on {simulator.start()} (app id {DEMO_APP_ID}); Ctrl-C stops it")


if __name__ == "__main__":
    sys.exit(main())
