"""The web interface through Flask's test client: every page, and every bad input "Safe to leave running" lists.

The reports it shows are the demo's (the session's `demo_run`), copied into each test's home; runs,
checks and sends are the scripts' own code against the simulators on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import threading
import time
from pathlib import Path

import pytest

import main
import pull_info
from tests.helpers.batch import MONTH as ACCOUNT_MONTH  # the small account's month
from tests.helpers.batch import small_account
from tests.helpers.running import SIM_KEY, previous_month
from utils.core.cli import run_main
from utils.monthly.run_lock import RunLock
from utils.web import auth
from utils.web.app import create_app
from utils.web.auth import SignInLimiter
from utils.web.state import WebState

MONTH = previous_month("UTC")  # the month the app and the demo default to at the tests' "now" (report zone UTC)
HARROW = "21000351601"
PASSWORD = "correct horse battery"


@pytest.fixture
def web_home(home, demo_run) -> Path:
    """A home holding the demo's client list and reports (a copy: the tests may change it)."""
    shutil.copy(demo_run.demo_home / "companies_list.json", home / "companies_list.json")
    shutil.copytree(demo_run.demo_home / "reports", home / "reports")
    return home


@pytest.fixture(autouse=True)
def jobs_finish_within_the_test(monkeypatch):
    """Every app a test makes has its jobs finished before the test ends (its simulators stop then)."""
    made: list = []
    original = create_app

    def tracked(*args, **kwargs):
        made.append(original(*args, **kwargs))
        return made[-1]

    monkeypatch.setitem(globals(), "create_app", tracked)
    yield
    for app in made:
        for job in runner_of(app).runner.recent():
            wait_for_job(app, job.id)


@pytest.fixture
def app(web_home):
    return create_app(web_home)


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_of(client) -> str:
    client.get("/clients")
    with client.session_transaction() as session:
        return str(session["csrf"])


def runner_of(app) -> WebState:
    found = app.extensions["integoreport"]
    assert isinstance(found, WebState)
    return found


def wait_for_job(app, job_id: int, timeout: float = 120) -> None:
    job = runner_of(app).runner.get(job_id)
    assert job is not None
    deadline = time.monotonic() + timeout
    while job.running:
        assert time.monotonic() < deadline, job.snapshot()
        time.sleep(0.05)


def job_id_of(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    match = re.search(r"/jobs/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


# -- every page ---------------------------------------------------------------------------------

def test_every_page_answers_with_the_security_headers(client, web_home):
    report = next((web_home / "reports" / MONTH).glob(f"*-{HARROW}.html")).name
    pages = ["/clients", "/months", f"/months/{MONTH}", f"/months/{MONTH}/clients/{HARROW}", f"/months/{MONTH}/clients/{HARROW}?view=phone",
             "/check", "/settings", "/jobs", f"/months/{MONTH}/clients/{HARROW}/send?mode=send",
             f"/months/{MONTH}/clients/{HARROW}/send?mode=test&to=me%40acme.example", f"/months/{MONTH}/clients/{HARROW}/send?mode=resend"]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert "script-src" not in response.headers["Content-Security-Policy"]  # default-src 'none': no script at all
        assert response.headers["Referrer-Policy"] == "no-referrer"
    assert client.get("/").headers["Location"].endswith("/clients")
    clients_page = client.get("/clients").get_data(as_text=True)
    assert "Harrow &amp; Vance LLP" in clients_page and "<td>Freshservice</td>" in clients_page  # no other source configured
    demo_page = create_app(web_home, demo=True).test_client().get("/clients").get_data(as_text=True)
    assert "Freshservice, Microsoft 365, SentinelOne" in demo_page
    phone = client.get(f"/months/{MONTH}/clients/{HARROW}?view=phone").get_data(as_text=True)
    assert 'width="375"' in phone and "sandbox" in phone and report in phone


def test_report_files_are_served_sandboxed_and_downloadable(client, web_home):
    folder = web_home / "reports" / MONTH
    stem = next(folder.glob(f"*-{HARROW}.html")).stem
    for suffix, content_type in ((".html", "text/html"), (".txt", "text/plain"), (".json", "application/json")):
        response = client.get(f"/months/{MONTH}/files/{stem}{suffix}")
        assert response.status_code == 200 and response.content_type.startswith(content_type)
        assert response.data == (folder / f"{stem}{suffix}").read_bytes()
        assert response.headers["Content-Security-Policy"].startswith("sandbox;")
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    download = client.get(f"/months/{MONTH}/files/{stem}.html?download=1")
    assert download.headers["Content-Disposition"] == f'attachment; filename="{stem}.html"'
    eml = client.get(f"/months/{MONTH}/files/{stem}.eml")  # the demo wrote it to the outbox
    assert eml.status_code == 200 and eml.content_type == "message/rfc822" and "attachment" in eml.headers["Content-Disposition"]
    index = client.get(f"/months/{MONTH}/files/index.html")
    assert index.status_code == 200 and b"Harrow &amp; Vance LLP" in index.data


# -- nothing from the browser names a file ------------------------------------------------------

@pytest.mark.parametrize("path", [
    f"/months/{MONTH}/files/..%2F..%2Fcompanies_list.json", f"/months/{MONTH}/files/%2Fetc%2Fpasswd", "/months/..%2Freports/files/index.html",
    f"/months/{MONTH}/files/../../companies_list.json", f"/months/{MONTH}/files/delivery.json", f"/months/{MONTH}/files/index.json",
    f"/months/{MONTH}/files/outbox", "/months/2026-13", "/months/2026-9", "/months/..", "/months/2025-01",
    f"/months/{MONTH}/clients/1", f"/months/{MONTH}/clients/abc", f"/months/{MONTH}/clients/%20{HARROW}",
    f"/months/{MONTH}/clients/{HARROW}?view=../../x", f"/months/{MONTH}/clients/{HARROW}/send?mode=rm", "/jobs/999", "/jobs/abc",
    f"/months/{MONTH}/clients/\u0661\u0662",
])
def test_path_tricks_unknown_clients_and_bad_periods_are_not_found(client, path):
    assert client.get(path).status_code == 404


def test_a_link_planted_in_the_reports_folder_is_never_served(client, web_home, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the browser")
    folder = web_home / "reports" / MONTH
    (folder / f"planted-{HARROW}9.html").symlink_to(secret)
    os.symlink(secret, folder / "index-copy.html")
    assert client.get(f"/months/{MONTH}/files/planted-{HARROW}9.html").status_code == 404
    assert client.get(f"/months/{MONTH}/files/index-copy.html").status_code == 404


def test_server_text_is_escaped_everywhere(client, web_home):
    hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    (web_home / "companies_list.json").write_text(json.dumps([{"id": 7, "name": hostile, "entity_type": "department"}]))
    page = client.get("/clients").get_data(as_text=True)
    assert hostile not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# -- changing anything takes a POST with the session's CSRF token -------------------------------

@pytest.mark.parametrize("path", ["/runs", "/clients/refresh", "/check", f"/months/{MONTH}/clients/{HARROW}/send", "/signout"])
def test_every_change_needs_the_csrf_token(client, path):
    csrf_of(client)
    assert client.post(path, data={"period": "", "client": HARROW, "mode": "dry-run"}).status_code == 400
    assert client.post(path, data={"csrf_token": "forged", "client": HARROW, "mode": "dry-run"}).status_code == 400
    assert runner_of(client.application).runner.recent() == []


@pytest.mark.parametrize("path", ["/runs", "/clients/refresh", "/signout"])  # /check's and /send's GET only show a button
def test_changes_are_never_gets(client, path):
    assert client.get(path).status_code == 405
    assert runner_of(client.application).runner.recent() == []


@pytest.mark.parametrize(("form", "message"), [
    ({"period": "2026-13", "client": HARROW}, "not a period"), ({"period": "../2026-10", "client": HARROW}, "not a period"),
    ({"period": "2026-10", "client": "1"}, "not a client"), ({"period": "2026-10", "client": "../x"}, "not a client"),
    ({"period": "2026-10"}, "choose at least one client"), ({"period": "2099-01", "client": HARROW}, "in the future"),
])
def test_a_run_with_a_bad_period_or_client_is_refused(client, form, message):
    response = client.post("/runs", data={**form, "csrf_token": csrf_of(client)})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert runner_of(client.application).runner.recent() == []


def test_a_bad_test_address_is_refused(client):
    response = client.get(f"/months/{MONTH}/clients/{HARROW}/send?mode=test&to=not%20an%20address%0aBcc:x@evil.example")
    assert response.status_code == 400
    response = client.post(f"/months/{MONTH}/clients/{HARROW}/send", data={"mode": "test", "to": "", "csrf_token": csrf_of(client)})
    assert response.status_code == 400


# -- the password ---------------------------------------------------------------------------------

def test_with_a_password_every_page_asks_for_it(web_home):
    auth.set_password(web_home, PASSWORD)
    assert stat.S_IMODE((web_home / auth.PASSWORD_FILE).stat().st_mode) == 0o600
    assert PASSWORD not in (web_home / auth.PASSWORD_FILE).read_text()
    client = create_app(web_home).test_client()
    for page in ("/clients", f"/months/{MONTH}", f"/months/{MONTH}/files/index.html", "/settings", "/jobs/1"):
        assert client.get(page).headers["Location"].endswith("/signin"), page
    token = csrf_of(client)
    assert client.post("/check", data={"csrf_token": token}).status_code == 403
    wrong = client.post("/signin", data={"password": "wrong password", "csrf_token": token})
    assert wrong.status_code == 401 and "Wrong password" in wrong.get_data(as_text=True)
    right = client.post("/signin", data={"password": PASSWORD, "csrf_token": token})
    assert right.status_code == 302 and right.headers["Location"].endswith("/clients")
    cookie = right.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    assert client.get("/clients").status_code == 200
    with client.session_transaction() as session:
        assert session["csrf"] != token  # a new token after signing in
        token = session["csrf"]
    assert client.post("/signout", data={"csrf_token": token}).status_code == 302
    assert client.get("/clients").status_code == 302


def test_the_session_cookie_is_secure_over_tls(web_home):
    auth.set_password(web_home, PASSWORD)
    client = create_app(web_home).test_client()
    client.get("/signin", base_url="https://localhost")
    with client.session_transaction(base_url="https://localhost") as session:
        token = session["csrf"]
    response = client.post("/signin", data={"password": PASSWORD, "csrf_token": token}, base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]


def test_too_many_failed_sign_ins_are_refused_even_with_the_right_password(web_home):
    auth.set_password(web_home, PASSWORD)
    client = create_app(web_home, limiter=SignInLimiter(per_address=3, overall=10)).test_client()
    token = csrf_of(client)
    for _ in range(3):
        assert client.post("/signin", data={"password": "guess", "csrf_token": token}).status_code == 401
    refused = client.post("/signin", data={"password": PASSWORD, "csrf_token": token})
    assert refused.status_code == 429 and "Too many failed sign-ins" in refused.get_data(as_text=True)
    assert client.get("/clients").status_code == 302


def test_a_new_password_signs_everyone_out(web_home, monkeypatch):
    auth.set_password(web_home, PASSWORD)
    client = create_app(web_home).test_client()
    client.post("/signin", data={"password": PASSWORD, "csrf_token": csrf_of(client)})
    assert client.get("/clients").status_code == 200
    monkeypatch.setenv(auth.ENV_PASSWORD_HASH, auth.hash_password("another long password"))
    assert client.get("/clients").status_code == 302


def test_the_session_key_is_made_once_owner_only(web_home):
    first = auth.secret_key(web_home)
    assert auth.secret_key(web_home) == first and len(first) >= 64
    assert stat.S_IMODE((web_home / auth.SECRET_KEY_FILE).stat().st_mode) == 0o600


def test_settings_show_where_secrets_are_never_their_values(client, web_home, monkeypatch):
    monkeypatch.setenv("SMTP_PASSWORD", "smtp-secret-value-81")
    (web_home / "token.txt").write_text("fresh-secret-value-42")
    page = client.get("/settings").get_data(as_text=True)
    assert "smtp-secret-value-81" not in page and "fresh-secret-value-42" not in page
    assert "set in the environment (SMTP_PASSWORD)" in page and "set in token.txt in the home" in page
    assert "not set (SENTINELONE_API_TOKEN or sentinelone_token.txt)" in page


# -- runs: the batch's own code, its lock, its exit codes -----------------------------------------

def real_home(home: Path, simulator) -> None:
    (home / "token.txt").write_text(SIM_KEY)
    (home / "integoreport.toml").write_text(f'[freshservice]\nurl = "{simulator.url}"\n\n[report]\ntimezone = "UTC"\n')


def test_a_run_makes_the_reports_and_a_second_run_is_told_one_is_in_progress(home, start_simulator, capsys):
    account, ids = small_account()
    simulator = start_simulator(account, latency_seconds=0.05)
    real_home(home, simulator)
    (home / "companies_list.json").write_text(json.dumps([{"id": i, "name": n, "entity_type": "department"}
                                                          for i, n in zip(ids, ("Acme Law", "Beta Dental", "Quiet Co"), strict=True)]))
    app = create_app(home)
    client = app.test_client()
    token = csrf_of(client)
    job_id = job_id_of(client.post("/runs", data={"csrf_token": token, "period": ACCOUNT_MONTH, "client": [str(ids[0]), str(ids[1])]}))
    second = client.post("/runs", data={"csrf_token": token, "period": ACCOUNT_MONTH, "all": "1"})
    assert second.status_code == 409 and "is in progress" in second.get_data(as_text=True)
    deadline = time.monotonic() + 30
    while not (home / ".pull_info.lock").exists():  # the job's thread has taken the run lock (it may not have yet)
        assert time.monotonic() < deadline, "the run never took the lock"
        time.sleep(0.01)
    assert pull_info.main(["--month", ACCOUNT_MONTH]) == 1  # cron, meanwhile
    assert "another run is in progress" in capsys.readouterr().err
    running = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' in running and "Acme Law" in running
    wait_for_job(app, job_id)
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "exit code 0" in page and 'http-equiv="refresh"' not in page
    assert page.count("open the report") == 2 and "Quiet Co" not in page.split('id="log"')[0]
    assert "Acme Law: 5 tickets" in page
    rows = json.loads((home / "reports" / ACCOUNT_MONTH / "index.json").read_text())
    assert sorted(row["client"]["name"] for row in rows) == ["Acme Law", "Beta Dental"]


def test_cron_holding_the_lock_keeps_the_browser_out(home, start_simulator):
    simulator = start_simulator(small_account()[0])
    real_home(home, simulator)
    (home / "companies_list.json").write_text('[{"id": 5, "name": "Five", "entity_type": "department"}]')
    client = create_app(home).test_client()
    lock = RunLock(home)
    lock.acquire()
    try:
        response = client.post("/runs", data={"csrf_token": csrf_of(client), "period": "", "all": "1"})
    finally:
        lock.release()
    assert response.status_code == 409 and "another run is in progress" in response.get_data(as_text=True)
    assert simulator.counters()["requests"] == 0


def test_a_refused_key_ends_the_run_with_the_scripts_exit_code_and_message(home, start_simulator):
    simulator = start_simulator(small_account()[0])
    real_home(home, simulator)
    (home / "token.txt").write_text("a-wrong-key-123")
    (home / "companies_list.json").write_text('[{"id": 5, "name": "Five", "entity_type": "department"}]')
    app = create_app(home)
    client = app.test_client()
    job_id = job_id_of(client.post("/runs", data={"csrf_token": csrf_of(client), "period": MONTH, "all": "1"}))
    wait_for_job(app, job_id)
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "exit code 1" in page and "error: " in page and "a-wrong-key-123" not in page
    assert "401" in page or "refused" in page


def test_the_setup_check_shows_the_scripts_table(home, start_simulator):
    simulator = start_simulator(small_account()[0])
    real_home(home, simulator)
    app = create_app(home)
    client = app.test_client()
    job_id = job_id_of(client.post("/check", data={"csrf_token": csrf_of(client)}))
    wait_for_job(app, job_id)
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "service" in page and "Freshservice" in page and "OK" in page and "exit code 0" in page
    assert SIM_KEY not in page


def test_the_demo_client_list_is_refreshed_from_the_demo_account(home):
    app = create_app(home, demo=True)
    client = app.test_client()
    assert "No clients yet" in client.get("/clients").get_data(as_text=True)
    job_id = job_id_of(client.post("/clients/refresh", data={"csrf_token": csrf_of(client)}))
    wait_for_job(app, job_id)
    assert "Found 6 clients" in client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Harrow &amp; Vance LLP" in client.get("/clients").get_data(as_text=True)


def test_a_dry_run_writes_the_eml_without_touching_the_record(client, web_home):
    (web_home / "reports" / MONTH / "outbox").rename(web_home / "reports" / MONTH / "old-outbox")
    (web_home / "integoreport.toml").write_text('[delivery]\nmethod = "outbox"\nfrom = "Acme IT <reports@acme.example>"\n\n'
                                                f'[clients.{HARROW}]\nto = ["jane@harrow.example"]\n')
    job_id = job_id_of(client.post(f"/months/{MONTH}/clients/{HARROW}/send", data={"mode": "dry-run", "csrf_token": csrf_of(client)}))
    wait_for_job(client.application, job_id)
    assert list((web_home / "reports" / MONTH / "outbox").glob(f"*-{HARROW}.eml"))
    assert not (web_home / "reports" / MONTH / "delivery.json").exists()


# -- the scripts' signal handling from a background thread ---------------------------------------

def test_run_main_off_the_main_thread_leaves_the_signal_handlers_alone():
    before = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGHUP)}
    results: list[object] = []

    def body(_args) -> int:
        results.append({signum: signal.getsignal(signum) for signum in before})
        return 0

    thread = threading.Thread(target=lambda: results.append(run_main(pull_info.build_pull_info_parser(), body, [])))
    thread.start()
    thread.join()
    assert results == [before, 0]
    assert {signum: signal.getsignal(signum) for signum in before} == before


# -- main.py ----------------------------------------------------------------------------------------

def test_main_refuses_another_address_without_a_password(home, run_in_process):
    result = run_in_process(main.main, "--host", "0.0.0.0", "--port", "0")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: refusing to listen on 0.0.0.0 without a password: set one with python main.py --set-password (or listen on 127.0.0.1)"]
    assert run_in_process(main.main, "--port", "70000").returncode == 2


def test_main_sets_the_password_as_a_salted_hash(home, run_in_process, monkeypatch):
    answers = iter([PASSWORD, PASSWORD, "short", "short", PASSWORD, "another one entirely"])
    monkeypatch.setattr(main.getpass, "getpass", lambda _prompt: next(answers))
    result = run_in_process(main.main, "--set-password")
    assert result.returncode == 0 and "Password set" in result.stdout and PASSWORD not in result.stdout + result.stderr
    stored = (home / auth.PASSWORD_FILE).read_text().strip()
    assert auth.verify_password(PASSWORD, stored) and not auth.verify_password("wrong", stored)
    assert auth.hash_password(PASSWORD) != stored  # salted: the same password never hashes the same twice
    assert run_in_process(main.main, "--set-password").stderr.strip() == "error: the password must have at least 10 characters"
    assert run_in_process(main.main, "--set-password").stderr.strip() == "error: the two passwords differ; nothing was changed"
    assert (home / auth.PASSWORD_FILE).read_text().strip() == stored
