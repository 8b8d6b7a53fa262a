"""Every `m365.*` metric on small hand-built raw files, with the right answers worked out here."""

from __future__ import annotations

import copy

import pytest

from tests.helpers.ms365 import AS_OF, raw
from utils.reporting.ms365_metrics import compute, context, product_name, summary


def score(created: str, current: float, maximum: float = 80.0, controls: list | None = None, comparative: list | None = None) -> dict:
    return {"createdDateTime": created, "currentScore": current, "maxScore": maximum,
            "averageComparativeScores": comparative or [], "controlScores": controls or []}




# -- Secure Score ------------------------------------------------------------------------------

def test_secure_score_end_start_change_comparative_and_daily_in_the_report_zone():
    scores = [
        score("2026-11-01T05:00:00Z", 50.0),  # 1 November 01:00 in New York: after the month
        score("2026-11-01T00:00:00Z", 44.0, comparative=[{"basis": "AllTenants", "averageScore": 38.2},
                                                         {"basis": "TotalSeats", "averageScore": 35.1}]),  # 31 Oct 20:00 NY
        score("2026-10-15T00:00:00Z", 41.0),  # 14 October in New York
        score("2026-10-01T03:00:00Z", 40.0),  # 30 September 23:00 in New York: the month's start point
        score("2026-09-29T00:00:00Z", 39.0),
    ]
    section = compute(raw(secure_scores=scores))["secure_score"]
    assert section["end"] == {"score": 44.0, "max": 80.0, "rate": 0.55}
    assert section["start"] == {"score": 40.0, "max": 80.0, "rate": 0.5}
    assert section["change"] == 4.0
    assert section["comparative"] == {"AllTenants": 38.2, "TotalSeats": 35.1}
    assert section["daily"] == [{"date": "2026-10-14", "score": 41.0, "max": 80.0}, {"date": "2026-10-31", "score": 44.0, "max": 80.0}]


def test_secure_score_without_a_point_before_the_month_has_no_start_or_change():
    section = compute(raw(secure_scores=[score("2026-10-20T00:00:00Z", 30.0)]))["secure_score"]
    assert section["start"] is None and section["change"] is None
    assert section["end"]["score"] == 30.0 and section["comparative"] == {}


def test_secure_score_unavailable_is_null_not_zero():
    metrics = compute(raw(secure_scores=None, control_profiles=None,
                          unavailable={"secure_score": "permission SecurityEvents.Read.All not granted",
                                       "control_profiles": "permission SecurityEvents.Read.All not granted"}))
    assert metrics["secure_score"] == {"end": None, "start": None, "change": None, "comparative": None, "daily": None}
    assert metrics["improvement_actions"] is None
    assert metrics["unavailable"] == {"secure_score": "permission SecurityEvents.Read.All not granted"}


def test_improvement_actions_gap_order_rank_and_id_and_only_five():
    controls = [{"controlName": name, "score": got} for name, got in
                [("A", 2.0), ("B", 5.0), ("C", 0.0), ("D", 9.0), ("E", 10.0), ("F", 1.0), ("G", 0.0), ("Old", 0.0), ("Orphan", 0.0), ("H", 4.0)]]
    profiles = [
        {"id": "A", "title": "Action A", "controlCategory": "Identity", "maxScore": 10.0, "rank": 3, "userImpact": "Low", "actionUrl": "https://a"},
        {"id": "B", "title": "Action B", "controlCategory": "Apps", "maxScore": 10.0, "rank": 1, "userImpact": "Moderate"},
        {"id": "C", "title": "Action C", "controlCategory": "Data", "maxScore": 5.0, "rank": 2},
        {"id": "D", "title": "Action D", "maxScore": 10.0, "rank": 4},
        {"id": "E", "title": "Action E", "maxScore": 10.0, "rank": 5},  # no gap
        {"id": "F", "title": "Action F", "maxScore": 6.0, "rank": 9},
        {"id": "G", "title": "Action G", "maxScore": 5.0, "rank": 2},
        {"id": "Old", "title": "Retired", "maxScore": 50.0, "rank": 1, "deprecated": True},
        {"id": "H", "title": "Action H", "maxScore": 9.0, "rank": 9},
    ]
    end = score("2026-10-31T00:00:00Z", 30.0, controls=controls)
    actions = compute(raw(secure_scores=[end], control_profiles=profiles))["improvement_actions"]
    # gaps: A 8, B 5, C 5, D 1, F 5, G 5, H 5. Ties at 5 by rank: B(1), C(2), G(2: C before G by id), then F/H (rank 9, by id).
    assert [(action["id"], action["gap"]) for action in actions] == [("A", 8.0), ("B", 5.0), ("C", 5.0), ("G", 5.0), ("F", 5.0)]
    assert actions[0] == {"id": "A", "title": "Action A", "category": "Identity", "gap": 8.0, "user_impact": "Low", "action_url": "https://a"}



def state(value: str, when: str) -> dict:
    return {"state": value, "updatedDateTime": when, "comment": "", "updatedBy": "admin@contoso.example", "assignedTo": ""}


def test_controls_whose_newest_state_is_ignored_or_third_party_are_never_recommended():
    names = ("Ignored", "Third", "Reviewed", "Unignored", "Reordered", "Nulls", "Plain")
    controls = [{"controlName": name, "score": 0.0} for name in names]
    profiles = [{"id": name, "title": name, "maxScore": 10.0 - index, "rank": index} for index, name in enumerate(names)]
    profiles[0]["controlStateUpdates"] = [state("Default", "2026-09-01T10:00:00Z"), state("Ignored", "2026-10-03T10:00:00Z")]
    profiles[1]["controlStateUpdates"] = [state("ThirdParty", "2026-10-04T10:00:00.1234567Z")]
    profiles[2]["controlStateUpdates"] = [state("Reviewed", "2026-10-04T10:00:00Z")]  # planned: still recommended
    profiles[3]["controlStateUpdates"] = [state("Ignored", "2026-08-01T10:00:00Z"), state("Default", "2026-10-01T10:00:00Z")]
    # Listed out of order: the newest by updatedDateTime decides, not the last in the list.
    profiles[4]["controlStateUpdates"] = [state("ThirdParty", "2026-10-20T10:00:00Z"), state("Default", "2026-06-01T10:00:00Z")]
    profiles[5]["controlStateUpdates"] = [None, {"state": None}]  # nothing readable: as if no state
    end = score("2026-10-31T00:00:00Z", 30.0, controls=controls)
    actions = compute(raw(secure_scores=[end], control_profiles=profiles))["improvement_actions"]
    assert [action["id"] for action in actions] == ["Reviewed", "Unignored", "Nulls", "Plain"]

# -- licences ----------------------------------------------------------------------------------

def test_licences_leave_out_free_skus_and_sort_by_product_name():
    skus = [
        {"skuPartNumber": "SPB", "consumedUnits": 23, "capabilityStatus": "Enabled",
         "prepaidUnits": {"enabled": 25, "suspended": 0, "warning": 0, "lockedOut": 0}},
        {"skuPartNumber": "FLOW_FREE", "consumedUnits": 40, "capabilityStatus": "Enabled", "prepaidUnits": {"enabled": 10000}},
        {"skuPartNumber": "CPC_E_2C_8GB_128GB", "consumedUnits": 3, "capabilityStatus": "Warning",
         "prepaidUnits": {"enabled": 2, "suspended": 1, "warning": 2, "lockedOut": 1}},
        {"skuPartNumber": "EXCHANGESTANDARD", "consumedUnits": 1, "capabilityStatus": "Enabled",
         "prepaidUnits": {"enabled": 4, "suspended": 0, "warning": 0, "lockedOut": 0}},
    ]
    metrics = compute(raw(subscribed_skus=skus))
    assert metrics["licenses"] == [
        {"sku": "CPC_E_2C_8GB_128GB", "name": "CPC_E_2C_8GB_128GB", "purchased": 2, "assigned": 3, "unassigned": 0, "status": "Warning"},
        {"sku": "EXCHANGESTANDARD", "name": "Exchange Online (Plan 1)", "purchased": 4, "assigned": 1, "unassigned": 3, "status": "Enabled"},
        {"sku": "SPB", "name": "Microsoft 365 Business Premium", "purchased": 25, "assigned": 23, "unassigned": 2, "status": "Enabled"},
    ]
    assert metrics["licenses_unassigned"] == 5
    assert metrics["licenses_at_risk"] == 4  # 2 warning + 1 suspended + 1 locked out, the free SKU left out
    assert product_name("O365_BUSINESS_PREMIUM") == "Microsoft 365 Business Standard"


def test_licences_unavailable_are_null():
    metrics = compute(raw(subscribed_skus=None, unavailable={"licenses": "permission Organization.Read.All not granted"}))
    assert metrics["licenses"] is None and metrics["licenses_unassigned"] is None and metrics["licenses_at_risk"] is None


# -- users -------------------------------------------------------------------------------------

def person(name: str, enabled: bool = True, kind: str = "Member", licensed: bool = True, interactive: str | None = None,
           background: str | None = None, activity: bool = True) -> dict:
    entry = {"displayName": name, "accountEnabled": enabled, "userType": kind,
             "assignedLicenses": [{"skuId": "s"}] if licensed else []}
    if activity:
        entry["signInActivity"] = {"lastSignInDateTime": interactive, "lastNonInteractiveSignInDateTime": background}
    return entry


def test_user_counts_and_inactive_licensed_accounts():
    # as_of 2026-11-02T13:00Z; the cut-off is 30 days before: 2026-10-03T13:00Z.
    users = [
        person("Recent", interactive="2026-10-30T09:00:00Z"),
        person("Background only recent", interactive="2026-08-01T09:00:00Z", background="2026-10-20T09:00:00Z"),
        person("Old", interactive="2026-10-03T12:59:00Z"),  # inactive: just before the cut-off
        person("Never"),  # never signed in: inactive
        person("No activity object", activity=False),  # inactive too
        person("Unlicensed old", licensed=False, interactive="2026-01-01T00:00:00Z"),  # member, not licensed
        person("Leaver", enabled=False, interactive="2026-09-01T00:00:00Z"),  # disabled, licensed
        person("Shared mailbox", enabled=False, licensed=False),
        person("Guest", kind="Guest", licensed=True),
    ]
    assert compute(raw(users=users))["users"] == {"members": 6, "licensed": 5, "disabled_licensed": 1, "inactive_licensed": 3,
                                                   "disabled_members": 2}


def test_without_sign_in_activity_inactive_is_null_and_without_users_all_are():
    metrics = compute(raw(users=[person("A")], unavailable={"sign_in": "needs Entra ID P1 or P2"}))
    assert metrics["users"] == {"members": 1, "licensed": 1, "disabled_licensed": 0, "inactive_licensed": None,
                                "disabled_members": 0}
    metrics = compute(raw(users=None, unavailable={"users": "permission User.Read.All not granted",
                                                   "sign_in": "permission User.Read.All not granted"}))
    assert metrics["users"] == {"members": None, "licensed": None, "disabled_licensed": None, "inactive_licensed": None,
                                "disabled_members": None}


# -- MFA ---------------------------------------------------------------------------------------

def record(name: str, registered: bool, admin: bool = False, kind: str = "member") -> dict:
    return {"userDisplayName": name, "userType": kind, "isAdmin": admin, "isMfaRegistered": registered}


def test_mfa_coverage_admins_without_and_names_admins_first():
    records = [record(f"Person {letter}", registered=False) for letter in "LKJIHGFEDCBA"]  # 12 members without
    records += [record("Zed Admin", registered=False, admin=True), record("Ok Admin", registered=True, admin=True)]
    records += [record(f"Fine {n}", registered=True) for n in range(6)]
    records += [record("Guest Admin", registered=False, admin=True, kind="guest"), record("Guest", registered=False, kind="guest")]
    mfa = compute(raw(mfa_registrations=records))["mfa"]
    assert mfa["eligible"] == 20 and mfa["registered"] == 7
    assert mfa["rate"] == pytest.approx(7 / 20)
    assert mfa["admins_without"] == 2  # Zed Admin and the guest admin
    assert mfa["without_names"] == ["Zed Admin"] + [f"Person {letter}" for letter in "ABCDEFGHI"]


def test_mfa_unavailable_and_empty():
    mfa = compute(raw(mfa_registrations=None, unavailable={"mfa": "needs Entra ID P1 or P2"}))["mfa"]
    assert mfa == {"eligible": None, "registered": None, "rate": None, "admins_without": None, "without_names": None}
    assert compute(raw(mfa_registrations=[]))["mfa"]["rate"] is None


def test_unavailable_keeps_only_the_report_parts_in_order_and_as_of_is_generated_at():
    metrics = compute(raw(unavailable={"mfa": "needs Entra ID P1 or P2", "control_profiles": "x", "sign_in": "needs Entra ID P1 or P2"},
                          mfa_registrations=None))
    assert list(metrics["unavailable"]) == ["sign_in", "mfa"]
    assert metrics["as_of"] == AS_OF
    assert set(metrics) == {"as_of", "secure_score", "improvement_actions", "licenses", "licenses_unassigned", "licenses_at_risk",
                            "users", "mfa", "unavailable"}


# -- wording -----------------------------------------------------------------------------------

def test_summary_sentence_and_context_reasons():
    base = raw(secure_scores=[score("2026-10-31T00:00:00Z", 44.0), score("2026-09-30T00:00:00Z", 40.5)],
               mfa_registrations=[record("A", False, admin=True), record("B", True), record("C", False)])
    metrics = compute(base)
    assert summary(metrics) == ("Your Microsoft 365 Secure Score is 44 of 80 (55%), up 3.5 points over the month; "
                                "2 people are not yet registered for multifactor sign-in, including 1 administrator.")
    view = context(metrics)
    assert view["as_of"] == "November 2, 2026"
    assert view["mfa"]["names"] == ["A", "C"] and view["mfa"]["admins_without"] == 1
    no_p1 = copy.deepcopy(base)
    no_p1.update(mfa_registrations=None, unavailable={"mfa": "needs Entra ID P1 or P2", "sign_in": "needs Entra ID P1 or P2"})
    metrics = compute(no_p1)
    assert summary(metrics) == "Your Microsoft 365 Secure Score is 44 of 80 (55%), up 3.5 points over the month."
    view = context(metrics)
    assert view["mfa"]["reason"] == "Not available: needs Entra ID P1 or P2."
    assert view["users"]["sign_in_reason"] == "Not available: needs Entra ID P1 or P2."
    assert summary(compute(raw())) is None


def test_section_renders_in_html_and_text_with_its_reasons_and_the_summary():
    from tests.helpers.reports import build_outputs, raw_file, ticket

    days = [score(f"2026-10-{day:02d}T12:00:00Z", 40.0 + day / 2) for day in range(1, 32)]
    ms365 = raw(secure_scores=[score("2026-09-30T12:00:00Z", 40.0), *days][::-1],
                subscribed_skus=[{"skuPartNumber": "SPB", "consumedUnits": 9, "capabilityStatus": "Enabled",
                                  "prepaidUnits": {"enabled": 10, "warning": 0, "suspended": 0, "lockedOut": 0}}],
                users=[person("Ada <b>Admin</b>")], mfa_registrations=None,
                unavailable={"mfa": "needs Entra ID P1 or P2", "sign_in": "needs Entra ID P1 or P2"})
    html, text, metrics = build_outputs(raw_file([ticket(1, "2026-10-03T10:00:00Z")]), extra_raw={"ms365": ms365})
    assert metrics["m365"]["secure_score"]["end"]["score"] == 55.5
    assert "Microsoft 365</h2>" in html and "Microsoft 365 Business Premium" in html
    assert html.count("Not available: needs Entra ID P1 or P2.") == 2  # sign-in activity and MFA
    assert "Your Microsoft 365 Secure Score is 55.5 of 80 (69%), up 15.5 points over the month." in html
    assert "as of November 2, 2026" in html and "{{" not in html
    assert "MICROSOFT 365" in text and "Microsoft 365 Business Premium: 10 bought, 9 in use, 1 spare" in text
    assert "Not available: needs Entra ID P1 or P2." in text


def test_without_a_score_from_before_the_period_the_section_says_so_in_words():
    from tests.helpers.reports import build_outputs, raw_file, ticket

    # The first daily score is from the 20th: Microsoft keeps about 90 days, so a period pulled late has no start.
    ms365 = raw(secure_scores=[score(f"2026-10-{day:02d}T12:00:00Z", 40.0 + day) for day in range(31, 19, -1)])
    html, text, metrics = build_outputs(raw_file([ticket(1, "2026-10-03T10:00:00Z")]), extra_raw={"ms365": ms365})
    assert metrics["m365"]["secure_score"]["change"] is None and metrics["m365"]["secure_score"]["end"]["score"] == 71.0
    for part in (html, " ".join(text.split())):
        assert "from before the start of the month to compare with (Microsoft keeps about 90 days of them)" in part
        assert "n/a points" not in part and "the month (n/a)" not in part
