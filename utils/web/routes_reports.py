"""The reports: each month's index, one client's report as the client sees it, its files, and sending it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for

from utils.core.errors import DataError, IntegoError
from utils.core.settings import Settings, load_settings
from utils.delivery.outbound import DONE_OUTCOMES, build_message, check_addresses, read_outcomes
from utils.sources import settings_tables
from utils.web import actions, home_data
from utils.web.jobs import Busy
from utils.web.state import state

blueprint = Blueprint("reports", __name__)

# A report file shown in the interface: no script, no plugin, no form, no link out of the frame; the
# report's own inline styles and its images (the MSP's logo may be a remote https image) are allowed.
REPORT_CSP = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; font-src https: data:; "
              "frame-ancestors 'self'")
FRAME_WIDTHS = {"desktop": 720, "phone": 375}
SEND_MODES = ("test", "send", "resend", "dry-run")


def valid_month(month: str) -> str:
    """`month` when it parses as a month and the home has a reports folder for it; 404 otherwise."""
    if not home_data.MONTH.match(month) or not home_data.month_folder(state().home, month).is_dir():
        abort(404)
    return month


def known_client(client_id: str) -> str:
    """The client's name when `client_id` is a number from the client list; 404 otherwise."""
    name = home_data.client_name(state().home, client_id) if client_id.isdigit() and client_id.isascii() else None
    if name is None:
        abort(404)
    return name


@blueprint.get("/months")
def months() -> str:
    return render_template("web/months.html", months=home_data.months(state().home))


@blueprint.get("/months/<month>")
def month(month: str) -> str:
    valid_month(month)
    files = home_data.month_files(state().home, month)
    return render_template("web/month.html", month=month, rows=home_data.month_rows(state().home, month), has_index="index.html" in files)


@blueprint.get("/months/<month>/clients/<client_id>")
def report(month: str, client_id: str) -> str:
    valid_month(month)
    name = known_client(client_id)
    home = state().home
    built = home_data.report_of(home, month, client_id)
    if built is None:
        abort(404)
    view = request.args.get("view", "desktop")
    if view not in FRAME_WIDTHS:
        abort(404)
    files = home_data.month_files(home, month)
    downloads = [(label, path.name) for label, path in (("HTML", built.html_path), ("text", built.text_path),
                                                         ("metrics JSON", built.html_path.with_suffix(".json")),
                                                         (".eml", built.html_path.parent / "outbox" / built.outbox_name))
                 if path.name in files]
    outcome = read_outcomes(home_data.month_folder(home, month)).get(client_id)
    return render_template("web/report.html", month=month, client_id=client_id, name=name, report_file=built.html_path.name,
                           view=view, width=FRAME_WIDTHS[view], downloads=downloads, outcome=outcome, eml_name=built.outbox_name)


@blueprint.get("/months/<month>/files/<name>")
def report_file(month: str, name: str) -> Response:
    """A file of the month, found by listing its folder: the browser's name is only looked up, never joined to a path."""
    valid_month(month)
    path = home_data.month_files(state().home, month).get(name)
    if path is None:
        abort(404)
    try:
        body = home_data.read_served_file(state().home, path)
    except (DataError, OSError):
        abort(404)
    response = Response(body, content_type=home_data.CONTENT_TYPES[path.suffix])
    response.headers["Content-Security-Policy"] = REPORT_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    if request.args.get("download") == "1" or path.suffix == ".eml":
        response.headers["Content-Disposition"] = f'attachment; filename="{path.name}"'  # a name found on disk, <slug>-<id>.ext
    return response


@blueprint.get("/months/<month>/clients/<client_id>/send")
def confirm_send(month: str, client_id: str) -> Any:
    valid_month(month)
    name = known_client(client_id)
    mode = request.args.get("mode", "")
    if mode not in SEND_MODES:
        abort(404)
    test_to = request.args.get("to", "").strip() if mode == "test" else None
    if mode == "test":
        try:
            check_addresses([test_to or ""])
        except IntegoError as exc:
            abort(400, str(exc).replace("--test-to ", "the test address: "))
    plan = send_plan(month, client_id, mode, test_to)
    return render_template("web/confirm_send.html", month=month, client_id=client_id, name=name, mode=mode, test_to=test_to, **plan)


@blueprint.post("/months/<month>/clients/<client_id>/send")
def send(month: str, client_id: str) -> Any:
    valid_month(month)
    known_client(client_id)
    mode = request.form.get("mode", "")
    test_to = request.form.get("to", "").strip() if mode == "test" else None
    if mode not in SEND_MODES:
        abort(400, "not a way of sending")
    if mode == "test":
        try:
            check_addresses([test_to or ""])
        except IntegoError as exc:
            abort(400, str(exc).replace("--test-to ", "the test address: "))
    try:
        job = actions.start_send(state().runner, month, client_id, mode, test_to)
    except Busy as exc:
        return render_template("web/busy.html", message=str(exc), job=exc.job), 409
    return redirect(url_for("main.job", job_id=job.id))


def send_plan(month: str, client_id: str, mode: str, test_to: str | None) -> dict[str, Any]:
    """What a send would do, in the page's words: the subject, every recipient, or why nothing would be sent."""
    home = state().home
    try:
        settings: Settings | None = load_settings(home, tables=settings_tables())
    except IntegoError as exc:
        return {"problem": str(exc)}
    assert settings is not None
    built = home_data.report_of(home, month, client_id)
    if built is None:
        return {"problem": f"no report built for {month}"}
    if mode == "dry-run":
        return {"note": f"The email is written to reports/{month}/outbox/{built.outbox_name}; nothing is sent."}
    if settings.delivery is None:
        return {"problem": "no [delivery] table in integoreport.toml: nothing can be sent (see docs/sending.md)"}
    client = settings.client(client_id)
    to, cc, bcc = ((test_to or "",), (), ()) if mode == "test" else (client.to, client.cc, settings.delivery.bcc)
    if mode != "test" and (not client.send or not client.to):
        return {"problem": f"no recipients for this client: add to = [...] under [clients.{client_id}]" if client.send
                else "send = false in this client's settings"}
    try:
        message = build_message(built, settings.delivery, settings.report.msp_name, month, to, cc, bcc, test=mode == "test")
    except (DataError, ValueError) as exc:
        return {"problem": str(exc)}
    previous = read_outcomes(home_data.month_folder(home, month)).get(client_id)
    already = mode == "send" and previous is not None and previous.get("outcome") in DONE_OUTCOMES
    return {"subject": message.subject, "to": to, "cc": cc, "bcc": bcc, "method": settings.delivery.method,
            "previous": previous, "already": already}
