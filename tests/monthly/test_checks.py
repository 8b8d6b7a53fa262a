"""`pull_info.py --check` against the simulator: OK, a refused key, no answer, missing settings; the registry."""

from __future__ import annotations

from pathlib import Path

import pull_info
from simulators.freshservice_data import Account
from tests.helpers.running import SIM_KEY
from tests.helpers.settings import read_settings
from utils.core.errors import APIError, ConfigError
from utils.monthly.checks import OK, SKIPPED, CheckResult, exit_code, format_table, run_checks


def small_account() -> Account:
    account = Account()
    account.add_department("Harrow Vance LLP")
    return account


def write_settings(home: Path, text: str) -> None:
    (home / "integoreport.toml").write_text(text, encoding="utf-8")


def rows(output: str) -> dict[str, str]:
    """The table's lines by service name (the first word or two of each line)."""
    lines = output.strip().splitlines()
    assert lines[0].split() == ["service", "reached", "result"]
    found = {}
    for line in lines[1:]:
        for name in ("Freshservice", "Microsoft 365", "SentinelOne", "Email delivery"):
            if line.startswith(name):
                found[name] = line
    return found


def test_check_ok_reads_one_department_and_writes_nothing(start_simulator, home, monkeypatch, capsys):
    simulator = start_simulator(small_account())
    write_settings(home, f'[freshservice]\nurl = "{simulator.url}"\n')
    monkeypatch.setenv("FRESHSERVICE_API_KEY", SIM_KEY)
    assert pull_info.main(["--check"]) == 0
    table = rows(capsys.readouterr().out)
    assert table["Freshservice"].endswith(f"{simulator.url}: API key accepted (read one department)  {OK}")
    for service in ("Microsoft 365", "SentinelOne", "Email delivery"):
        assert table[service].endswith(SKIPPED)
    assert simulator.counters()["requests"] == 1
    assert sorted(path.name for path in home.iterdir()) == ["integoreport.toml"]


def test_check_with_a_refused_key_is_exit_1_with_the_reason_and_never_the_key(start_simulator, home, monkeypatch, capsys):
    simulator = start_simulator(small_account())
    monkeypatch.setenv("FRESHSERVICE_URL", simulator.url)
    monkeypatch.setenv("FRESHSERVICE_API_KEY", "wrong-key-5521")
    assert pull_info.main(["--check"]) == 1
    output = capsys.readouterr()
    line = rows(output.out)["Freshservice"]
    assert "401" in line or "refused" in line.lower()
    assert "wrong-key-5521" not in output.out + output.err
    assert sorted(path.name for path in home.iterdir()) == []


def test_check_of_an_unreachable_helpdesk_is_exit_1_naming_the_connection(home, monkeypatch, capsys, closed_port):
    monkeypatch.setenv("FRESHSERVICE_URL", f"http://127.0.0.1:{closed_port}")
    monkeypatch.setenv("FRESHSERVICE_API_KEY", SIM_KEY)
    assert pull_info.main(["--check"]) == 1
    line = rows(capsys.readouterr().out)["Freshservice"]
    assert "connect" in line.lower() and "Freshservice" in line


def test_check_url_option_wins(start_simulator, home, monkeypatch, capsys, closed_port):
    simulator = start_simulator(small_account())
    monkeypatch.setenv("FRESHSERVICE_URL", f"http://127.0.0.1:{closed_port}")
    monkeypatch.setenv("FRESHSERVICE_API_KEY", SIM_KEY)
    assert pull_info.main(["--check", "--url", simulator.url]) == 0
    assert OK in rows(capsys.readouterr().out)["Freshservice"]


def test_missing_key_or_url_is_a_settings_error_exit_2_and_the_other_rows_still_show(home, capsys):
    write_settings(home, '[freshservice]\nurl = "acme"\n\n[sentinelone]\nurl = "https://usea1-partners.sentinelone.net"\n')
    assert pull_info.main(["--check"]) == 2
    table = rows(capsys.readouterr().out)
    assert "no Freshservice API key" in table["Freshservice"]
    assert "no SentinelOne API token" in table["SentinelOne"] and "sentinelone_token.txt" in table["SentinelOne"]
    assert table["Email delivery"].endswith(SKIPPED)
    write_settings(home, "")
    assert pull_info.main(["--check"]) == 2
    assert "no Freshservice URL" in rows(capsys.readouterr().out)["Freshservice"]


def test_a_broken_settings_file_is_one_line_exit_2_before_any_call(home, capsys):
    write_settings(home, '[freshservice]\nurl = "acme"\nulr = "typo"\n')
    assert pull_info.main(["--check"]) == 2
    output = capsys.readouterr()
    assert output.out == ""
    assert output.err.strip().startswith("error: ") and ":3: [freshservice] ulr is not a known setting" in output.err


def test_check_and_demo_do_not_mix(home, capsys):
    assert pull_info.main(["--check", "--demo"]) == 2
    assert "without --demo" in capsys.readouterr().err


def test_registry_isolates_each_check_and_maps_exit_codes(home):
    settings = read_settings(home, {})

    def refused(_settings):
        raise APIError("Example answered 403")

    def surprise(_settings):
        raise KeyError("boom")

    def missing(_settings):
        raise ConfigError("no Example key: set EXAMPLE_KEY")

    checks = {"Up": lambda s: "example.test: fine\n(second line)", "Off": lambda s: None, "Down": refused, "Odd": surprise}
    results = run_checks(settings, checks)
    assert results == [CheckResult("Up", "example.test: fine (second line)", OK), CheckResult("Off", "-", SKIPPED),
                       CheckResult("Down", "-", "Example answered 403"), CheckResult("Odd", "-", "unexpected KeyError: 'boom'")]
    assert exit_code(results) == 1
    assert exit_code(results[:2]) == 0
    assert exit_code(run_checks(settings, {"Down": refused, "Missing": missing})) == 2
    table = format_table(results).splitlines()
    assert table[0].startswith("service  reached") and len({line.index(" ") for line in table[1:] if line.startswith(("Up ", "Off "))}) == 2
    assert len({line.find("  ", len("service")) for line in table}) == 1  # the second column starts at the same place
