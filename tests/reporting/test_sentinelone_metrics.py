"""The `s1.*` metrics and the Endpoint protection section, on a site worked out by hand (tests/helpers/sentinelone.py)."""

from __future__ import annotations

import copy

import pytest

from tests.helpers.sentinelone import AS_OF, EXPECTED, build_site_data, hand_built_raw
from utils.reporting import sentinelone_metrics
from utils.reporting.section import compute_sections, section_views
from utils.sources import report_sections


def defined_keys(section: dict) -> dict:
    """Only the keys security-metrics.md defines (the section also carries the lists the report shows)."""
    return {key: section[key] for key in EXPECTED}


@pytest.mark.parametrize("string_booleans", [False, True], ids=["booleans", "string-booleans"])
def test_every_defined_metric_matches_the_hand_computed_figures(string_booleans):
    data, site_id = build_site_data()
    section = sentinelone_metrics.compute(hand_built_raw(data, site_id, string_booleans=string_booleans))
    assert defined_keys(section) == EXPECTED
    # Counts list the most frequent first, then by name, so two builds are byte-identical.
    assert list(section["threats"]["by_classification"]) == ["Malware", "PUA", "Trojan", "Unknown"]
    assert list(section["agents"]["by_os"]) == ["windows", "linux", "macos"]


def test_the_lists_behind_the_counts_name_the_endpoints():
    data, site_id = build_site_data()
    section = sentinelone_metrics.compute(hand_built_raw(data, site_id))
    assert section["hygiene"] == {"out_of_date": ["ACME-LT-002"], "offline": ["ACME-MB-001"], "infected": ["ACME-SRV-01"],
                                  "detect_only": ["ACME-SRV-01"]}
    assert [(row["name"], row["endpoint"], row["incident"]) for row in section["attention"]] == [
        ("old_dropper.exe", "ACME-SRV-01", "in_progress"), ("miner.sh", "ACME-SRV-01", "unresolved")]


def test_duplicates_across_pages_count_once_and_null_last_seen_is_offline():
    data, site_id = build_site_data()
    raw = hand_built_raw(data, site_id)
    raw["threats"].append(copy.deepcopy(raw["threats"][1]))
    raw["agents"][0]["lastActiveDate"] = None
    section = sentinelone_metrics.compute(raw)
    assert section["threats"]["created"] == 4
    assert section["agents"]["offline"] == 2


def test_nothing_detected_and_an_empty_site():
    data, site_id = build_site_data()
    raw = hand_built_raw(data, site_id)
    raw.update(threats=[], open_threats=[], agents=[])
    raw["site"] = {**raw["site"], "unlimitedLicenses": "True", "totalLicenses": None}
    section = sentinelone_metrics.compute(raw)
    assert section["threats"]["created"] == 0
    assert section["threats"]["by_classification"] == {} and section["threats"]["top_endpoints"] == []
    assert section["agents"] == {"total": 0, "by_os": {}, "out_of_date": 0, "offline": 0, "infected": 0, "detect_only": 0}
    assert section["licenses"] == {"active": 5, "total": None, "unlimited": True}
    assert sentinelone_metrics.summary(section) == "SentinelOne found no threats on your 0 protected endpoints this month."


def test_registered_as_the_endpoint_protection_source():
    source = next(section for section in report_sections() if section.name == "sentinelone")
    assert source is sentinelone_metrics.SECTION and (source.key, source.title) == ("s1", "Endpoint protection")
    data, site_id = build_site_data()
    sections = compute_sections(report_sections(), {"sentinelone": hand_built_raw(data, site_id)})
    views, sentences, notes = section_views(report_sections(), sections)
    assert [view["title"] for view in views] == ["Endpoint protection"] and notes == []
    assert sentences == ["SentinelOne detected 4 threats on your endpoints this month and stopped 2 (1 handled automatically). "
                         "2 threats are still open and being dealt with."]


def test_context_words_the_section_with_the_as_of_date_in_the_report_zone():
    data, site_id = build_site_data()
    view = sentinelone_metrics.context(sentinelone_metrics.compute(hand_built_raw(data, site_id)))
    assert view["as_of"] == "November 2, 2026"
    assert [tile["value"] for tile in view["tiles"]] == ["4", "2", "1", "2"]
    assert view["license_text"] == "5 of 10 licences in use"
    assert [row["count"] for row in view["hygiene"]] == ["1", "1", "1", "1"]
    assert view["attention"][1] == {"name": "miner.sh", "endpoint": "ACME-SRV-01", "since": "Oct\u00a031", "status": "Not stopped · Open"}
    assert view["mitigation_line"] == ("Of 4 threats detected: 2 stopped, 1 marked harmless after review, 1 not stopped; "
                                       "3 closed, 1 of them automatically.")
    assert AS_OF.startswith("2026-11-02")


def test_summary_when_all_is_well():
    data, site_id = build_site_data()
    section = sentinelone_metrics.compute(hand_built_raw(data, site_id))
    section["threats"].update(open_now=0)
    section["agents"].update(out_of_date=0, offline=0, infected=0, detect_only=0)
    assert sentinelone_metrics.summary(section) == ("SentinelOne detected 4 threats on your endpoints this month and stopped 2 "
                                                   "(1 handled automatically). Nothing is left open, and all 5 protected endpoints "
                                                   "are up to date and checking in.")


def test_the_report_shows_the_section_in_html_and_text():
    from tests.helpers.reports import build_outputs, raw_file
    from utils.reporting.email_checks import check_client_support, check_forbidden

    data, site_id = build_site_data()
    freshservice = raw_file([])
    section_raw = {**hand_built_raw(data, site_id), "period": freshservice["period"]}
    html, text, metrics = build_outputs(freshservice, extra_raw={"sentinelone": section_raw})
    assert defined_keys(metrics["s1"]) == {**EXPECTED, "as_of": AS_OF}
    for output in (html, text):
        assert "Endpoint protection" in output or "ENDPOINT PROTECTION" in output
        assert "miner.sh" in output and "ACME-SRV-01" in output and "November 2, 2026" in output
        assert "SentinelOne detected 4 threats on your endpoints this month and stopped 2" in " ".join(output.split())
    # The email-safety rules of the main template hold for the partial too (utils/reporting/email_checks.py).
    assert check_forbidden(html) == []
    assert [finding.line() for finding in check_client_support(html) if finding.severity == "error"] == []


def test_health_rows_only_for_what_was_found_and_one_sentence_for_the_rest():
    data, site_id = build_site_data()
    section = sentinelone_metrics.compute(hand_built_raw(data, site_id))
    section["agents"].update(offline=0, infected=0, detect_only=0)
    view = sentinelone_metrics.context(section)
    assert [(row["label"], row["count"], row["names"]) for row in view["hygiene"]] == [("Agent out of date", "1", "ACME-LT-002")]
    assert view["hygiene_clear_line"] == "No other endpoint is offline more than 14 days, infected or in detect-only mode."
    section["agents"].update(out_of_date=0)
    view = sentinelone_metrics.context(section)
    assert view["hygiene"] == []
    assert view["hygiene_clear_line"] == "No endpoint is out of date, offline more than 14 days, infected or in detect-only mode."


@pytest.mark.parametrize("site, total", [
    ({"totalLicenses": 10, "licenses": {"bundles": [{"totalSurfaces": 99}]}}, 10),  # the site's own total wins
    ({"licenses": {"bundles": [{"totalSurfaces": 25}, {"totalSurfaces": 5}]}}, 30),
    ({"totalLicenses": None, "licenses": {"bundles": [{"surfaces": [{"name": "Total Agents", "count": 12}]}]}}, 12),
    ({"totalLicenses": 0, "licenses": {"bundles": [{"totalSurfaces": 25}]}}, 25),  # 0 beside seated bundles: not counted here
    ({"totalLicenses": 0}, 0),
    ({"licenses": {"bundles": [{"totalSurfaces": "lots"}, "junk", {"surfaces": [{"count": -3}]}]}}, None),
    ({"licenses": "Complete"}, None),
    ({}, None),
])
def test_total_licences_from_the_site_or_its_bundles(site, total):
    assert sentinelone_metrics.site_total_licenses(site) == total
