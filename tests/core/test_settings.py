"""integoreport.toml: every key of the example, unknown keys with their line, env overrides, secrets."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from tests.helpers.running import finishes
from tests.helpers.settings import read_settings
from utils.core.cli import redact
from utils.core.errors import ConfigError
from utils.core.secrets import MAILCHIMP_KEY, SMTP_PASSWORD, read_secret
from utils.core.settings import ClientSettings, client_keys, known_keys, load_settings, parse_address
from utils.sources import settings_tables
from utils.sources.freshservice import freshservice_settings, load_api_key, make_client, with_url
from utils.sources.sentinelone import SENTINELONE_API_TOKEN

PROJECT_ROOT = Path(__file__).resolve().parents[2]

FULL = """\
[report]
msp_name = "Acme IT"                  # INTEGOREPORT_MSP_NAME
timezone = "America/Chicago"          # REPORT_TIMEZONE
business_hours = "Mon-Fri 08:00-18:00"
proactive_tags = ["proactive", "maintenance"]
logo_url = "https://acme.example/logo.png"
accent_color = "#1f6feb"
contact = "Call 555-0100"

[freshservice]
url = "acme"

[ms365]
app_id = "00000000-0000-0000-0000-000000000000"
login_url = "https://login.microsoftonline.com"
graph_url = "https://graph.microsoft.com"

[sentinelone]
url = "https://usea1-partners.sentinelone.net"

[delivery]
method = "smtp"
from = "Acme IT <reports@acme.example>"
reply_to = "help@acme.example"
subject = "{client}: IT service report for {month}"
bcc = []

[delivery.smtp]
host = "smtp.acme.example"
port = 587
security = "starttls"
username = "reports@acme.example"

[delivery.mailchimp]
url = "https://mandrillapp.com/api/1.0"

[clients.21000351601]
to = ["Jane Roe <jane@harrow.example>"]
cc = []
ms365_tenant = "harrowvance.onmicrosoft.com"
sentinelone_site = "657613730168123595"
send = true
"""


def write_settings(home: Path, text: str) -> Path:
    path = home / "integoreport.toml"
    path.write_text(text, encoding="utf-8")
    return path


def settings_error(home: Path, text: str, env: dict[str, str] | None = None) -> str:
    write_settings(home, text)
    with pytest.raises(ConfigError) as caught:
        read_settings(home, env or {})
    message = str(caught.value)
    assert "\n" not in message and caught.value.exit_code == 2
    return message


def test_no_file_gives_the_defaults(home):
    settings = read_settings(home, {})
    assert settings.report.msp_name == "Your IT team"
    assert settings.report.timezone is None and freshservice_settings(settings).url is None
    assert settings.table("ms365") is None and settings.table("sentinelone") is None and settings.delivery is None
    assert settings.client("42") == ClientSettings("42")


def test_the_issue_example_reads_every_key(home):
    write_settings(home, FULL)
    settings = read_settings(home, {})
    assert settings.report.msp_name == "Acme IT"
    assert settings.report.timezone == "America/Chicago"
    assert settings.report.proactive_tags == ("proactive", "maintenance")
    assert settings.report.accent_color == "#1F6FEB"
    assert settings.report.logo_url == "https://acme.example/logo.png"
    assert freshservice_settings(settings).url == "https://acme.freshservice.com"
    assert (settings.table("ms365") or {}).get("graph_url") == "https://graph.microsoft.com"
    assert (settings.table("sentinelone") or {}).get("url") == "https://usea1-partners.sentinelone.net"
    delivery = settings.delivery
    assert delivery is not None and delivery.method == "smtp" and delivery.from_address == "Acme IT <reports@acme.example>"
    assert delivery.smtp is not None and (delivery.smtp.host, delivery.smtp.port, delivery.smtp.username) == \
        ("smtp.acme.example", 587, "reports@acme.example")
    assert delivery.mailchimp is not None and delivery.mailchimp.url == "https://mandrillapp.com/api/1.0"
    client = settings.client("21000351601")
    assert client.to == ("Jane Roe <jane@harrow.example>",) and client.send is True
    assert client.source_id("sentinelone") == "657613730168123595" and client.source_id("ms365") == "harrowvance.onmicrosoft.com"


def test_the_committed_example_documents_and_accepts_every_key(home):
    example = (PROJECT_ROOT / "integoreport.example.toml").read_text(encoding="utf-8")
    read_settings(write_settings(home, example).parent, {})  # as shipped
    # Uncomment every documented table and key: the result is valid and names every known key.
    lines = []
    for line in example.splitlines():
        header = re.match(r"^# (\[[a-z0-9_.]+\])", line)
        key = re.match(r"^# ([a-z0-9_]+ = .*)$", line)
        lines.append(header.group(1) if header else key.group(1) if key else line)
    settings = read_settings(write_settings(home, "\n".join(lines)).parent, {})
    assert settings.table("ms365") and settings.table("sentinelone") and settings.delivery and settings.delivery.smtp
    documented = set(re.findall(r"^([a-z0-9_]+) = ", "\n".join(lines), flags=re.M))
    tables = settings_tables()
    expected = {key for table, keys in known_keys(tables).items() for key in keys if key not in ("smtp", "mailchimp")} | client_keys(tables)
    assert expected <= documented


@pytest.mark.parametrize("text, words", [
    ('[report]\nmsp_name = "A"\nmsp_nmae = "B"\n', ":3: [report] msp_nmae is not a known setting (did you mean 'msp_name'?)"),
    ('[report]\nmsp_name = "A"\n\n[repotr]\nx = 1\n', ":4: [repotr] is not a known setting (did you mean 'report'?)"),
    ('[delivery]\nmethod = "outbox"\nfrom = "a@b.example"\n[delivery.smtp]\nhost = "h.example"\nprot = 25\n',
     ":6: [delivery.smtp] prot is not a known setting"),
    ('[clients.21000351601]\nto = []\n\n[clients."22"]\nsend = true\nsned = false\n', ":6: [clients.22] sned is not a known"),
    ('[report]\n  "msp_name" = "A"\n  proactive.tags = ["x"]\n', ":3: [report] proactive is not a known setting"),
])
def test_unknown_keys_name_the_key_and_the_line(home, text, words):
    message = settings_error(home, text)
    assert words in message
    assert str(home / "integoreport.toml") in message


def test_malformed_file_is_one_line_with_its_position(home):
    message = settings_error(home, '[report]\nmsp_name = "Acme\n')
    assert "integoreport.toml is not valid TOML" in message and "line 2" in message


@pytest.mark.parametrize("text, words", [
    ("[report]\nmsp_name = 3\n", ":2: [report] msp_name must be a string"),
    ('[report]\nproactive_tags = "proactive"\n', ":2: [report] proactive_tags must be a list of strings"),
    ('[report]\ntimezone = "Mars/Olympus"\n', ":2: [report] timezone is not a known time zone"),
    ('[report]\nbusiness_hours = "always"\n', ":2: [report] business_hours must look like 'Mon-Fri 08:00-18:00'"),
    ('[freshservice]\nurl = "http://acme.example"\n', ":2: [freshservice] url refusing plain http://"),
    ('[delivery.smtp]\nhost = "h.example"\n', "[delivery] needs method"),
    ('[delivery]\nmethod = "pigeon"\nfrom = "a@b.example"\n', ":2: [delivery] method must be one of smtp, mailchimp, outbox"),
    ('[delivery]\nmethod = "smtp"\nfrom = "a@b.example"\n', ':2: [delivery] method is "smtp" but there is no [delivery.smtp]'),
    ('[delivery]\nmethod = "outbox"\nfrom = "a@b.example"\nsubject = "{client} {year}"\n', ":4: [delivery] subject uses {year}"),
    ('[ms365]\napp_id = "acme-app"\n', ":2: [ms365] app_id must be the app registration's Application (client) ID"),
    ('[ms365]\napp_id = "00000000-0000-0000-0000-000000000000"\ngraph_url = "http://graph.example"\n', ":3: [ms365] graph_url must use https://"),
    ("[sentinelone]\n", "[sentinelone] needs url"),
    ('[clients.acme]\nsend = true\n', ":1: [clients.acme] is not a client id"),
    ("[clients.21]\nsend = 1\n", ":2: [clients.21] send must be true or false"),
    ('[clients.21]\nsentinelone_site = "site-1"\n', ":2: [clients.21] sentinelone_site must be the SentinelOne site id"),
    ('[clients.21]\nms365_tenant = "harrow vance"\n', ":2: [clients.21] ms365_tenant must be a tenant domain"),
    ("report = 5\n", ":1: [report] must be a table"),
])
def test_wrong_types_and_values_name_the_key_and_the_line(home, text, words):
    assert words in settings_error(home, text)


@pytest.mark.parametrize("text, env, words", [
    ('[sentinelone]\nurl = "https://admin:SECRET-1a@x.sentinelone.net"\n', {},
     ":2: [sentinelone] url must not carry a user name or password: 'https://***@x.sentinelone.net'"),
    ('[sentinelone]\nurl = "https://x.sentinelone.net/?token=SECRET-1a"\n', {},
     ":2: [sentinelone] url must not carry a secret (token=...)"),
    ('[ms365]\napp_id = "00000000-0000-0000-0000-000000000000"\ngraph_url = "https://graph.example/v1?x=1&access_token=SECRET-1a"\n',
     {}, ":3: [ms365] graph_url must not carry a secret (access_token=...)"),
    ('[report]\nlogo_url = "https://me:SECRET-1a@cdn.example/logo.png"\n', {}, ":2: [report] logo_url must not carry a user name"),
    ('[report]\nlogo_url = "https://cdn.example/logo one.png?sig=SECRET-1a"\n', {}, "[report] logo_url is not a URL (it has spaces"),
    ('[freshservice]\nurl = "https://admin:SECRET-1a@acme.freshservice.com"\n', {},
     ":2: [freshservice] url malformed 'https://***@acme.freshservice.com': it must not carry a user name or password"),
    ('[freshservice]\nurl = "admin:SECRET-1a@acme"\n', {}, ":2: [freshservice] url malformed '***@acme'"),
    ("", {"FRESHSERVICE_URL": "https://acme.freshservice.com/?api_key=SECRET-1a"}, "FRESHSERVICE_URL malformed 'https://acme.freshservice.com/?***'"),
])
def test_a_url_with_credentials_names_the_key_and_the_problem_never_the_secret(home, text, env, words):
    message = settings_error(home, text, env)
    assert words in message
    assert "SECRET-1a" not in message and "admin" not in message and "me:" not in message


def test_a_url_with_credentials_stops_a_script_with_exit_2_and_no_secret(home, capsys):
    from utils.sources import sentinelone_command as sentinelone

    write_settings(home, '[sentinelone]\nurl = "https://ops:hunter2-SECRET@x.sentinelone.net/?token=tok-SECRET"\n')
    assert sentinelone.main(["21", "--site", "657613730168123595"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "[sentinelone] url must not carry a user name or password" in err
    assert "SECRET" not in err and "ops" not in err and "hunter2" not in err




@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_settings_file_that_is_a_pipe_or_a_device_is_one_line_exit_2(home, capsys, kind):
    import os

    import build_report

    path = home / "integoreport.toml"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/null")  # a device that reads as empty: the old code took it for "no settings"
    with pytest.raises(ConfigError) as caught:
        finishes(lambda: read_settings(home, {}), unblock=path)
    words = "a named pipe" if kind == "fifo" else "a device"
    assert f"refusing to read {path}: it is {words}, not a regular file" == str(caught.value)
    assert finishes(lambda: build_report.main([]), unblock=path) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err


def test_a_secret_file_that_is_a_pipe_is_a_settings_error_not_a_hang(home):
    import os

    os.mkfifo(home / "sentinelone_token.txt")
    with pytest.raises(ConfigError) as caught:
        finishes(lambda: read_secret(home, SENTINELONE_API_TOKEN, env={}),
                 unblock=home / "sentinelone_token.txt")
    assert "SentinelOne API token" in str(caught.value) and "a named pipe" in str(caught.value)


def test_a_client_list_that_is_a_pipe_does_not_hang_the_settings(home):
    import os

    os.mkfifo(home / "companies_list.json")
    write_settings(home, "[clients.21]\nsend = false\n")
    settings = finishes(lambda: read_settings(home, {}), unblock=home / "companies_list.json")
    assert settings.client("21").send is False


@pytest.mark.parametrize("text", [
    "[report]\nmsp_name = " + "[" * 5000 + "]" * 5000 + "\n",
    "[report]\nmsp_name = " + "{a = " * 5000 + "1" + "}" * 5000 + "\n",
], ids=["arrays", "inline-tables"])
def test_toml_nested_5000_deep_is_one_line_exit_2(home, capsys, text):
    import build_report

    assert "is not valid TOML: arrays or tables are nested too deeply" in settings_error(home, text)
    assert build_report.main([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unexpected" not in err and "nested too deeply" in err


def test_sentinelone_site_as_a_number_becomes_a_string(home):
    write_settings(home, "[clients.21]\nsentinelone_site = 657613730168123595\n")
    assert read_settings(home, {}).client("21").source_id("sentinelone") == "657613730168123595"


SMTP = '[delivery]\nmethod = "smtp"\nfrom = "a@b.example"\n[delivery.smtp]\nhost = "{host}"\n{extra}\n'


@pytest.mark.parametrize("extra, words", [
    ("port = 0", ":6: [delivery.smtp] port must be a whole number from 1 to 65535, not 0"),
    ("port = 70000", "from 1 to 65535, not 70000"),
    ('port = "587"', "port must be a whole number from 1 to 65535, not '587'"),
    ("port = true", "port must be a whole number"),
    ('security = "ssl"', ":6: [delivery.smtp] security must be one of starttls, tls, none"),
    ('security = "none"', ':6: [delivery.smtp] security "none" sends the password and the reports in clear text'),
])
def test_bad_smtp_ports_and_security(home, extra, words):
    assert words in settings_error(home, SMTP.format(host="smtp.acme.example", extra=extra))


def test_security_none_is_allowed_to_a_loopback_host_and_ports_default_by_security(home):
    write_settings(home, SMTP.format(host="127.0.0.1", extra='security = "none"\nport = 2525'))
    smtp = read_settings(home, {}).delivery.smtp  # type: ignore[union-attr]
    assert smtp is not None and (smtp.security, smtp.port) == ("none", 2525)
    write_settings(home, SMTP.format(host="smtp.acme.example", extra='security = "tls"'))
    assert read_settings(home, {}).delivery.smtp.port == 465  # type: ignore[union-attr]


@pytest.mark.parametrize("address", ["not an address", "jane@", "Jane <jane@", "a@b.example, c@d.example",
                                     "jane smith@harrow.example", "Jane Roe jane@harrow.example", "jane@harrow.example\r\nBcc: x@y.example"])
def test_bad_addresses_are_refused(home, address):
    text = f'[clients.21]\nto = ["ok@harrow.example", {json.dumps(address)}]\n'
    assert ":2: [clients.21] to " in settings_error(home, text)
    with pytest.raises(ValueError):
        parse_address(address)


def test_bad_sender_address_names_its_line(home):
    assert ":3: [delivery] from is not" in settings_error(home, '[delivery]\nmethod = "outbox"\nfrom = "reports at acme"\n')


def test_addresses_are_normalised():
    assert parse_address(" Jane Roe <jane@harrow.example> ") == "Jane Roe <jane@harrow.example>"
    assert parse_address('"Roe, Jane" <jane@harrow.example>') == '"Roe, Jane" <jane@harrow.example>'
    assert parse_address("jane@harrow.example") == "jane@harrow.example"


def test_environment_wins_over_the_file(home):
    write_settings(home, FULL)
    env = {"INTEGOREPORT_MSP_NAME": "Env IT", "REPORT_TIMEZONE": "Europe/London", "INTEGOREPORT_BUSINESS_HOURS": "Mon-Sat 07:00-19:00",
           "INTEGOREPORT_PROACTIVE_TAGS": "vip, patching", "FRESHSERVICE_URL": "other", "INTEGOREPORT_ACCENT_COLOR": "#000000"}
    settings = read_settings(home, env)
    assert settings.report.msp_name == "Env IT"
    assert settings.report.timezone == "Europe/London"
    assert settings.report.business_hours == "Mon-Sat 07:00-19:00"
    assert settings.report.proactive_tags == ("vip", "patching")
    assert settings.report.accent_color == "#000000"
    assert freshservice_settings(settings).url == "https://other.freshservice.com"
    key = {"FRESHSERVICE_API_KEY": "k-123456"}
    assert make_client(read_settings(home, key)).base_url == "https://acme.freshservice.com"
    assert make_client(read_settings(home, {**key, "FRESHSERVICE_URL": "other"})).base_url == "https://other.freshservice.com"
    assert make_client(with_url(read_settings(home, {**key, "FRESHSERVICE_URL": "other"}), "third")).base_url == \
        "https://third.freshservice.com"


def test_a_bad_environment_value_names_the_variable(home):
    write_settings(home, FULL)
    for variable, value in [("REPORT_TIMEZONE", "Nowhere/Else"), ("INTEGOREPORT_ACCENT_COLOR", "red"),
                            ("INTEGOREPORT_SHOW_CSAT_COMMENTS", "maybe"), ("INTEGOREPORT_LOGO_URL", "http://acme.example/l.png")]:
        with pytest.raises(ConfigError) as caught:
            read_settings(home, {variable: value})
        assert str(caught.value).startswith(variable)


@pytest.mark.parametrize("text, words", [
    ('[report]\naccent_color = "blue"\n', ":2: [report] accent_color must be a colour as #RRGGBB"),
    ('[report]\naccent_color = "#12345"\n', "accent_color must be a colour as #RRGGBB"),
    ('[report]\nlogo_url = "http://acme.example/logo.png"\n', ":2: [report] logo_url must be an https:// address"),
    ('[report]\nlogo_url = "javascript:alert(1)"\n', "logo_url must be an https:// address"),
    ('[report]\nlogo_url = "https://acme.example/a logo.png"\n', "logo_url is not a URL"),
    ('[report]\ncontact = """Call us\nor write"""\n', ":2: [report] contact must be one line"),
])
def test_branding_is_validated(home, text, words):
    assert words in settings_error(home, text)


@pytest.mark.parametrize("text, words", [
    ('[freshservice]\nurl = "acme"\napi_key = "abc-secret"\n', ":3: [freshservice] api_key looks like a secret: secrets never go in "
                                                                 "integoreport.toml; set FRESHSERVICE_API_KEY or put it in"),
    ('[delivery.smtp]\nhost = "h.example"\npassword = "hunter2-secret"\n', "set SMTP_PASSWORD or put it in"),
    ('[ms365]\napp_id = "00000000-0000-0000-0000-000000000000"\nclient_secret = "abc-secret"\n', "set MS365_CLIENT_SECRET"),
    ('[sentinelone]\nurl = "https://s1.example"\ntoken = "abc-secret"\n', "sentinelone_token.txt"),
    ('[delivery.mailchimp]\nkey = "abc-secret"\n', "MAILCHIMP_TRANSACTIONAL_KEY"),
    ('[report]\nsecret = "abc-secret"\n', ":2: [report] secret looks like a secret"),
])
def test_a_secret_in_the_file_is_an_error_saying_where_it_goes(home, text, words):
    message = settings_error(home, text)
    assert words in message
    assert "abc-secret" not in message and "hunter2" not in message


def test_read_secret_env_then_file_with_bom_and_redaction(home):
    path = home / "smtp_password.txt"
    path.write_text("\ufeff  file-password-1 \n", encoding="utf-8")
    path.chmod(0o600)
    assert read_secret(home, SMTP_PASSWORD, {}) == "file-password-1"
    assert read_secret(home, SMTP_PASSWORD, {"SMTP_PASSWORD": " env-password-2 "}) == "env-password-2"
    assert redact("login with file-password-1 and env-password-2") == "login with [REDACTED] and [REDACTED]"


def test_freshservice_key_reads_token_txt_with_a_bom(home):
    (home / "token.txt").write_bytes("\ufeffbom-key-123\r\n".encode())
    (home / "token.txt").chmod(0o600)
    assert load_api_key(home, {}) == "bom-key-123"


def test_missing_secret_names_both_places(home):
    with pytest.raises(ConfigError) as caught:
        read_secret(home, SENTINELONE_API_TOKEN, {})
    message = str(caught.value)
    assert message.startswith("no SentinelOne API token") and "SENTINELONE_API_TOKEN" in message
    assert str(home / "sentinelone_token.txt") in message and caught.value.exit_code == 2


def test_secret_file_readable_by_others_warns_once_without_the_secret(home, caplog):
    path = home / "mailchimp_key.txt"
    path.write_text("md-key-4567")
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        for _ in range(2):
            read_secret(home, MAILCHIMP_KEY, {})
    warnings = [r.getMessage() for r in caplog.records if "readable by other users" in r.getMessage()]
    assert warnings == [f"{path} is readable by other users; run: chmod 600 {path}"]
    assert "md-key-4567" not in caplog.text


def test_client_unknown_to_the_client_list_is_a_warning(home, caplog):
    (home / "companies_list.json").write_text(json.dumps([{"id": 21, "name": "Harrow"}]))
    write_settings(home, "[clients.21]\nsend = true\n\n[clients.99]\nsend = false\n")
    with caplog.at_level(logging.WARNING):
        settings = read_settings(home, {})
    assert settings.client("99").send is False
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(messages) == 1 and ":4: [clients.99] is not in companies_list.json" in messages[0]


def test_file_with_a_bom_and_crlf_lines_reads(home):
    (home / "integoreport.toml").write_bytes('\ufeff[report]\r\nmsp_name = "Bom IT"\r\n'.encode())
    assert read_settings(home, {}).report.msp_name == "Bom IT"


# ---------------------------------------------------------------------------------------------
# The scripts read their settings through load_settings


def test_build_report_takes_the_report_settings_from_the_file_and_the_environment(home, tmp_path, monkeypatch):
    import build_report
    from tests.helpers.reports import raw_file, ticket

    raw_path = tmp_path / "raw.json"
    raw_path.write_text(json.dumps(raw_file([ticket(1, "2026-10-10T15:00:00Z", tags=["patching"])])))
    write_settings(home, '[report]\nmsp_name = "Toml IT"\nbusiness_hours = "Mon-Sat 07:00-19:00"\nproactive_tags = ["patching"]\n')
    assert build_report.main([str(raw_path), "--out", str(tmp_path / "r.html"), "--json", str(tmp_path / "m.json")]) == 0
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert "Toml IT" in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert metrics["after_hours"]["created"] == 0  # Saturday 11:00 in New York is within Mon-Sat 07:00-19:00
    assert metrics["proactive"]["created"] == 1
    monkeypatch.setenv("INTEGOREPORT_MSP_NAME", "Env IT")
    monkeypatch.setenv("INTEGOREPORT_BUSINESS_HOURS", "Mon-Fri 08:00-18:00")
    assert build_report.main([str(raw_path), "--out", str(tmp_path / "r.html"), "--json", str(tmp_path / "m.json")]) == 0
    assert "Env IT" in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert json.loads((tmp_path / "m.json").read_text())["after_hours"]["created"] == 1


def test_a_settings_error_stops_every_script_with_exit_2_before_any_work(home, capsys):
    import build_report
    import pull_info
    from utils import client_manager
    from utils.sources import freshservice_command as freshservice

    write_settings(home, '[report]\nmsp_name = "Acme IT"\nmsp_nmae = "typo"\n')
    for main, argv in [(pull_info.main, []), (build_report.main, []), (freshservice.main, ["21"]), (client_manager.main, [])]:
        assert main(argv) == 2
        error = capsys.readouterr().err.strip()
        assert error.startswith("error: ") and ":3: [report] msp_nmae is not a known setting" in error and "\n" not in error
    assert sorted(path.name for path in home.iterdir()) == ["integoreport.toml"]


@pytest.mark.parametrize("script", ["pull_info.py", "build_report.py", "send_reports.py", "utils/client_manager.py",
                                    *sorted(f"data_pullers/{path.name}" for path in (PROJECT_ROOT / "data_pullers").glob("[a-z]*.py"))])
def test_every_script_runs_as_a_path_from_another_folder(script, tmp_path):
    from tests.helpers.running import run_script

    result = run_script(script, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: ") and "Traceback" not in result.stderr


def test_the_docs_never_send_a_reader_outside_the_repository():
    for path in [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        assert "../shared" not in text and "shared/reference" not in text and "shared/tools" not in text, path.name


# ---------------------------------------------------------------------------------------------
# One reader, one table of secrets, one URL rule, one line for every error


def test_the_report_zone_is_resolved_once_by_the_reader_and_never_read_again(home, monkeypatch):
    from utils.core.period import machine_timezone, resolve_timezone

    assert read_settings(home, {}).timezone == machine_timezone()
    settings = read_settings(home, {"REPORT_TIMEZONE": "Asia/Tokyo"})
    assert settings.timezone == "Asia/Tokyo" and settings.report.timezone == "Asia/Tokyo"
    monkeypatch.setenv("REPORT_TIMEZONE", "Europe/Paris")  # the environment is not read a second time
    assert resolve_timezone(None, settings.timezone) == "Asia/Tokyo"
    assert resolve_timezone("UTC", settings.timezone) == "UTC"  # --tz still wins


def test_the_metrics_settings_come_from_the_same_reader(home):
    write_settings(home, '[report]\nbusiness_hours = "Mon-Sat 07:00-19:00"\nproactive_tags = ["patching"]\n')
    metrics = read_settings(home, {}).report.metrics
    assert metrics.business_days == frozenset(range(6)) and metrics.proactive_tags == ("patching",)
    assert metrics.describe_hours() == "Monday to Saturday, 07:00 to 19:00"


def test_the_freshservice_pacing_is_read_with_the_settings(home):
    helpdesk = freshservice_settings(read_settings(home, {"FRESHSERVICE_RATE_WINDOW": "2.5", "FRESHSERVICE_RATE_RESERVE": "20%"}))
    assert (helpdesk.rate_window, helpdesk.rate_reserve) == (2.5, 0.20)
    with pytest.raises(ConfigError, match="FRESHSERVICE_RATE_WINDOW"):
        read_settings(home, {"FRESHSERVICE_RATE_WINDOW": "soon"})


def test_a_secret_read_through_the_settings_uses_their_environment(home):
    settings = read_settings(home, {"SENTINELONE_API_TOKEN": "s1-token-from-env"})
    assert settings.secret(SENTINELONE_API_TOKEN) == "s1-token-from-env"
    assert redact("token s1-token-from-env") == "token [REDACTED]"


def test_every_secret_error_names_the_place_from_the_one_table(home):
    from utils.core.secrets import SECRETS

    own = {spec.table: spec.secret for spec in settings_tables() if spec.secret}
    assert set(own) == {"freshservice", "ms365", "sentinelone"}  # each declared source's secret, from its own TableSpec
    assert not set(own) & set(SECRETS)  # core's table holds delivery's secrets only
    for table, spec in {**SECRETS, **own}.items():
        message = settings_error(home, f'[{table}]\nsecret_value_key = "abc-secret"\n')
        assert f"set {spec.env_var} or put it in {home / spec.file_name}" in message, (table, message)
        with pytest.raises(ConfigError, match=spec.what):
            read_secret(home, spec, {})


@pytest.mark.parametrize("host, loopback", [("localhost", True), ("127.0.0.1", True), ("127.9.9.9", True), ("::1", True),
                                            ("[::1]", True), ("10.0.0.1", False), ("smtp.example.com", False)])
def test_one_loopback_rule_for_urls_and_smtp(home, host, loopback):
    from utils.core.urls import PLAIN_HTTP, is_loopback, url_problem

    assert is_loopback(host) is loopback
    url_host = f"[{host.strip('[]')}]" if ":" in host else host
    assert (url_problem(f"http://{url_host}:8080") != PLAIN_HTTP) is loopback
    smtp = '[delivery]\nmethod = "smtp"\nfrom = "a@b.example"\n[delivery.smtp]\nhost = "{host}"\nsecurity = "none"\n'
    if loopback and ":" not in host:
        write_settings(home, smtp.format(host=host))
        assert read_settings(home, {}).delivery.smtp.security == "none"  # type: ignore[union-attr]
    elif not loopback:
        assert 'security "none" sends the password' in settings_error(home, smtp.format(host=host))


def test_one_line_redacts_collapses_and_strips_control_characters():
    from utils.core.errors import DataError, one_line, register_secret

    register_secret("one-line-secret-99")
    assert one_line(DataError("bad\x1b[31m value\n\tfrom one-line-secret-99\u202e")) == "bad[31m value from [REDACTED]"
    assert one_line(KeyError("missing")) == "unexpected KeyError: 'missing'"
    assert one_line(DataError("")) == "DataError"


def test_no_other_way_of_turning_an_error_into_a_line_is_left():
    for path in [*(PROJECT_ROOT / "utils").rglob("*.py"), *PROJECT_ROOT.glob("*.py")]:
        text = path.read_text(encoding="utf-8")
        assert "def _one_line" not in text and "clean_text(redact(str(exc)))" not in text, path


# ---------------------------------------------------------------------------------------------
# A data source's own table, read from its TableSpec


def toy_table():
    from utils.core.secrets import SecretSpec
    from utils.core.settings import TableSpec
    from utils.core.settings_values import url_value

    def level(value):
        if value not in ("low", "high"):
            raise ValueError(f"must be low or high, not {value!r}")
        return value

    def agent_group(value):
        if not isinstance(value, str) or not value.startswith("grp-"):
            raise ValueError(f"must be an agent group such as grp-7, not {value!r}")
        return value

    toy = TableSpec(table="rmm", keys={"url": url_value, "level": level}, required=frozenset({"url"}),
                    env={"url": "RMM_URL"}, secret=SecretSpec("RMM_API_KEY", "rmm_key.txt", "RMM API key"),
                    client_key="rmm_group", client_check=agent_group, examples={"url": '"https://rmm.example"'})
    return (*settings_tables(), toy)


def test_a_source_table_is_read_from_its_table_spec(home):
    tables = toy_table()
    write_settings(home, '[rmm]\nurl = "https://rmm.example/"\nlevel = "high"\n\n[clients.21]\nrmm_group = "grp-7"\n'
                         'ms365_tenant = "harrow.onmicrosoft.com"\n')
    settings = load_settings(home, {}, tables=tables)
    assert settings.table("rmm") == {"url": "https://rmm.example", "level": "high"}
    assert settings.client("21").source_ids == {"rmm": "grp-7", "ms365": "harrow.onmicrosoft.com"}
    assert settings.client("21").source_id("ms365") == "harrow.onmicrosoft.com" and settings.table("ms365") is None
    assert load_settings(home, {"RMM_URL": "https://other.example"}, tables=tables).tables["rmm"]["url"] == "https://other.example"
    assert "[rmm] is not a known setting" in settings_error(home, "[rmm]\nlevel = \"low\"\n")  # without its spec: refused


@pytest.mark.parametrize("text, env, words", [
    ('[rmm]\nlevel = "low"\n', {}, ':1: [rmm] needs url = "https://rmm.example"'),
    ('[rmm]\nurl = "https://rmm.example"\nlevel = "medium"\n', {}, ":3: [rmm] level must be low or high, not 'medium'"),
    ('[rmm]\nurl = "https://rmm.example"\nlevle = "low"\n', {}, ":3: [rmm] levle is not a known setting (did you mean 'level'?)"),
    ('[rmm]\nurl = "https://rmm.example"\napi_key = "abc-secret"\n', {}, "looks like a secret: secrets never go in "
                                                                        "integoreport.toml; set RMM_API_KEY or put it in"),
    ("[rmm]\n", {"RMM_URL": "http://rmm.example"}, "RMM_URL must use https://"),
    ('[clients.21]\nrmm_group = 7\n', {}, ":2: [clients.21] rmm_group must be an agent group such as grp-7, not 7"),
])
def test_a_source_tables_errors_name_the_key_and_the_line(home, text, env, words):
    write_settings(home, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(home, env, tables=toy_table())
    assert words in str(caught.value) and "abc-secret" not in str(caught.value)


def test_the_built_in_sources_are_table_specs(home):
    from utils.sources.ms365 import MS365_TABLE
    from utils.sources.sentinelone import SENTINELONE_TABLE

    write_settings(home, FULL)
    settings = read_settings(home, {})
    assert settings.tables["ms365"]["app_id"] == "00000000-0000-0000-0000-000000000000"
    assert settings.tables["sentinelone"] == {"url": "https://usea1-partners.sentinelone.net"}
    assert settings.client("21000351601").source_ids == {"ms365": "harrowvance.onmicrosoft.com", "sentinelone": "657613730168123595"}
    assert (MS365_TABLE.client_key, SENTINELONE_TABLE.client_key) == ("ms365_tenant", "sentinelone_site")
    assert MS365_TABLE.secret and MS365_TABLE.secret.env_var == "MS365_CLIENT_SECRET"
