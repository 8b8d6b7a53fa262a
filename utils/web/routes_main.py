"""The pages around a run: sign-in, the clients (and making their reports), the jobs, the setup check, the settings."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from utils.core.errors import IntegoError
from utils.core.period import resolve_timezone
from utils.core.settings import Settings, load_settings
from utils.sources import settings_tables
from utils.web import actions, home_data
from utils.web.auth import new_token, password_fingerprint, verify_password
from utils.web.jobs import Busy, Job, Refused
from utils.web.progress import client_progress
from utils.web.state import state

blueprint = Blueprint("main", __name__)


def settings_or_error() -> tuple[Settings | None, str | None]:
    """The home's settings, or the settings reader's own one-line error for the page to show."""
    try:
        return load_settings(state().home, tables=settings_tables()), None
    except IntegoError as exc:
        return None, str(exc)


def busy_page(error: Busy) -> tuple[str, int]:
    return render_template("web/busy.html", message=str(error), job=error.job), 409


@blueprint.get("/")
def home() -> Response:
    return redirect(url_for("main.clients"))


@blueprint.route("/signin", methods=["GET", "POST"])
def sign_in() -> Any:
    current = state()
    stored = current.password_hash()
    if stored is None:
        return redirect(url_for("main.clients"))
    if request.method == "GET":
        return render_template("web/signin.html", message=None)
    address = request.remote_addr or "?"
    wait = current.limiter.retry_after(address)
    if wait:
        minutes = (wait + 59) // 60
        return render_template("web/signin.html", message=f"Too many failed sign-ins: try again in {minutes} minute"
                                                          f"{'' if minutes == 1 else 's'}."), 429
    if not verify_password(request.form.get("password", ""), stored):
        current.limiter.failed(address)
        return render_template("web/signin.html", message="Wrong password."), 401
    current.limiter.succeeded(address)
    session.clear()  # a fresh session on sign-in: nothing set before it carries over
    session.update(auth=password_fingerprint(stored), csrf=new_token())
    session.permanent = True
    return redirect(url_for("main.clients"))


@blueprint.post("/signout")
def sign_out() -> Response:
    session.clear()
    return redirect(url_for("main.sign_in"))


@blueprint.get("/clients")
def clients() -> str:
    current = state()
    settings, problem = settings_or_error()
    rows = home_data.client_rows(current.home, settings, current.demo) if settings else []
    return render_template("web/clients.html", rows=rows, problem=problem, months=home_data.months(current.home))


@blueprint.post("/clients/refresh")
def refresh_clients() -> Any:
    current = state()
    try:
        job = actions.start_client_refresh(current.runner, current.demo, current.home)
    except Busy as exc:
        return busy_page(exc)
    return redirect(url_for("main.job", job_id=job.id))


@blueprint.post("/runs")
def start_run() -> Any:
    current = state()
    settings, problem = settings_or_error()
    if settings is None:
        abort(400, problem)
    known = [client["id"] for client in home_data.read_clients(current.home)]
    all_clients = request.form.get("all") == "1"
    try:
        period = actions.parse_period(request.form.get("period"))
        chosen = actions.pick_clients(request.form.getlist("client"), known)
        month = actions.resolve_month(period, resolve_timezone(settings.report.timezone))
    except (actions.BadInput, IntegoError) as exc:
        abort(400, str(exc))
    if not chosen and not all_clients:
        abort(400, "choose at least one client, or all")
    try:
        job = actions.start_run(current.runner, current.home, current.demo, chosen, all_clients, period, month)
    except Busy as exc:
        return busy_page(exc)
    except Refused as exc:
        return render_template("web/busy.html", message=str(exc), job=None), 409
    return redirect(url_for("main.job", job_id=job.id))


@blueprint.get("/jobs")
def jobs() -> str:
    return render_template("web/jobs.html", jobs=state().runner.recent())


@blueprint.get("/jobs/<int:job_id>")
def job(job_id: int) -> str:
    current = state()
    found: Job | None = current.runner.get(job_id)
    if found is None:
        abort(404)
    lines = found.snapshot()
    progress = client_progress(current.home, found, lines, current.demo) if found.kind == "run" else []
    return render_template("web/job.html", job=found, lines=lines, progress=progress)


@blueprint.get("/check")
def check() -> str:
    return render_template("web/check.html")


@blueprint.post("/check")
def start_check() -> Any:
    try:
        job = actions.start_check(state().runner)
    except Busy as exc:
        return busy_page(exc)
    return redirect(url_for("main.job", job_id=job.id))


@blueprint.get("/settings")
def settings_page() -> str:
    current = state()
    settings, problem = settings_or_error()
    return render_template("web/settings.html", rows=home_data.settings_rows(settings) if settings else [], problem=problem,
                           secrets=home_data.secret_sources(current.home))
