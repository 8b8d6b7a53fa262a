"""The web interface end to end in a real browser: headless Chromium (the OS's package) driven by Playwright.

With a password set: a wrong password is refused, the right one signs in; the demo's client list is
refreshed; the previous month's report is made for one (small) demo client and the run watched to its end;
the report is opened at phone width; a test email reaches the SMTP test server; a send to the client
is recorded; and a second send of the same month sends nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulators.smtp_server import SmtpTestServer, make_test_certificate
from tests.helpers.running import previous_month
from utils.web import auth
from utils.web.app import create_app

playwright_api = pytest.importorskip("playwright.sync_api")
waitress = pytest.importorskip("waitress")

CHROMIUM = Path(os.environ.get("INTEGOREPORT_CHROMIUM", "/usr/bin/chromium"))
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (.ci/run installs the OS package)")

PASSWORD = "a long test password 42"
CLIENT, CLIENT_NAME = "21000351605", "Kessler & Moss Accounting"  # the demo's smallest client with tickets: a short run
JANE = "jane@kesslermoss.example"
RUN_TIMEOUT_MS = 240_000  # the demo backfills five months for the client before its month
POLL_SECONDS = 0.1  # how often a job is asked about; its page refreshes itself only every 2 s


@pytest.fixture
def smtp(tmp_path_factory, monkeypatch) -> Iterator[SmtpTestServer]:
    certificate = make_test_certificate(tmp_path_factory.mktemp("cert"))
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # the send runs in this process: it trusts the test certificate
    server = SmtpTestServer("starttls", certificate, users={})
    server.start()
    yield server
    server.stop()


@pytest.fixture
def served(home, smtp, monkeypatch) -> Iterator[str]:
    """The demo interface on 127.0.0.1 with waitress (as main.py serves it), its home the test's."""
    monkeypatch.setenv("INTEGOREPORT_DEMO_HOME", str(home))
    (home / "integoreport.toml").write_text(
        '[report]\ntimezone = "UTC"\n\n[delivery]\nmethod = "smtp"\nfrom = "Acme IT <reports@acme.example>"\n\n'
        f'[delivery.smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "starttls"\n\n[clients.{CLIENT}]\nto = ["Jane Roe <{JANE}>"]\n',
        encoding="utf-8")
    auth.set_password(home, PASSWORD)
    server = waitress.create_server(create_app(home, demo=True), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


@pytest.fixture
def page(served) -> Iterator[object]:
    profile = tempfile.mkdtemp(prefix="integoreport-chromium-")
    with playwright_api.sync_playwright() as playwright:
        # A fresh profile (--user-data-dir, which Playwright passes for a persistent context), nothing fetched from the network.
        context = playwright.chromium.launch_persistent_context(profile, executable_path=str(CHROMIUM), headless=True, args=[
            "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"], viewport={"width": 1280, "height": 900})
        context.set_default_timeout(30_000)
        yield context.pages[0] if context.pages else context.new_page()
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


def open_confirmation(page, selector: str) -> None:
    """Click a link to a send's confirmation page and wait for it.

    Headless Chromium sometimes drops a click made just after a reload of a page with a framed
    report (seen with the Debian package, 2026-12); a second click is what a person would do too.
    The first wait is short (the navigation's commit, not its load), the later ones longer."""
    for timeout in (1_000, 3_000, 10_000):
        if "/send?mode=" not in page.url:
            page.click(selector)
        try:
            page.wait_for_url("**/send?mode=*", timeout=timeout, wait_until="commit")
            page.wait_for_load_state()
            return
        except playwright_api.TimeoutError:
            continue
    raise AssertionError(f"{selector} never opened the confirmation page")


def wait_for_job(page, timeout: int = 60_000) -> str:
    """Wait on a job's page until the job has finished; its state line.

    The page refreshes itself every 2 s, so waiting for that costs up to 2 s a job: the test asks the
    server for the same page (with the browser's cookies) every POLL_SECONDS instead, then shows it."""
    page.wait_for_url("**/jobs/*")
    deadline = time.monotonic() + timeout / 1000
    while "Finished at" not in page.request.get(page.url).text():
        assert time.monotonic() < deadline, f"{page.url} still running after {timeout} ms"
        time.sleep(POLL_SECONDS)
    try:
        page.goto(page.url)
    except playwright_api.Error:  # the page's own refresh was already on its way: it lands on the same page
        pass
    page.wait_for_selector("#job-state:has-text('Finished at')", timeout=timeout)
    return str(page.inner_text("#job-state"))


def test_sign_in_make_a_report_view_it_on_a_phone_send_it_once(page, served, smtp, home):
    expect = playwright_api.expect
    page.goto(served + "/")
    expect(page).to_have_url(served + "/signin")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    expect(page.locator("#signin-message")).to_have_text("Wrong password.")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(served + "/clients")

    page.click("#refresh-clients")
    assert "exit code 0" in wait_for_job(page)
    page.goto(served + "/clients")
    page.check(f"#client-{CLIENT}")
    page.click("#make-reports")  # the period left empty: the previous month
    expect(page.locator("h1")).to_contain_text(f"Reports for 1 client, {previous_month('UTC')}")
    assert "exit code 0" in wait_for_job(page, RUN_TIMEOUT_MS)
    expect(page.locator("#progress tr.done")).to_contain_text(CLIENT_NAME)
    page.click("text=open the report")

    page.set_viewport_size({"width": 390, "height": 844})
    page.click("#phone-view")
    assert page.get_attribute("#report-frame", "width") == "375"
    expect(page.frame_locator("#report-frame").locator("body")).to_contain_text(CLIENT_NAME)
    report_page = page.url

    page.fill("#test-to", "me@acme.example")
    page.click("#test-send")
    expect(page.locator("#confirmation")).to_contain_text("to: me@acme.example")
    page.click("#confirm")
    assert "exit code 0" in wait_for_job(page)
    assert [d.rcpt_tos for d in smtp.delivered] == [["me@acme.example"]]
    assert smtp.delivered[0].message["Subject"].startswith("[TEST] ")

    page.goto(report_page)
    open_confirmation(page, "#send")
    expect(page.locator("#confirmation")).to_contain_text(f"to: Jane Roe <{JANE}>")
    page.click("#confirm")
    assert "exit code 0" in wait_for_job(page)
    page.goto(report_page)
    expect(page.locator("#outcome")).to_contain_text("sent")
    assert [d.rcpt_tos for d in smtp.delivered][1:] == [[JANE]]

    open_confirmation(page, "#send")
    expect(page.locator("#already")).to_contain_text("sends nothing")
    page.click("#confirm")
    wait_for_job(page)
    expect(page.locator("#log")).to_contain_text("already sent")
    assert len(smtp.delivered) == 2  # the second send sent nothing
