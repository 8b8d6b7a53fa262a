"""The Flask application: its state, the sign-in and CSRF guard before every request, the security headers after it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import HTTPException

from utils.web import routes_main, routes_reports
from utils.web.auth import SignInLimiter, new_token, password_fingerprint, secret_key, tokens_match
from utils.web.state import WebState, state

SESSION_HOURS = 12
# The app's own pages: its own styles only, no scripts at all, never framed, forms post only to itself.
APP_CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; form-action 'self'; "
           "base-uri 'none'; frame-ancestors 'none'")
OPEN_ENDPOINTS = frozenset({"main.sign_in", "static"})


class _SessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over TLS (it must still work on plain loopback)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(request.is_secure)


def create_app(home: Path, demo: bool = False, limiter: SignInLimiter | None = None) -> Flask:
    """The interface for the project home `home` (the demo's folder with `demo`)."""
    app = Flask(__name__, template_folder="templates", static_folder="static")
    app.extensions["integoreport"] = WebState(home, demo, limiter=limiter or SignInLimiter())
    app.secret_key = secret_key(home)
    app.session_interface = _SessionInterface()
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_NAME="integoreport_session",
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS), MAX_CONTENT_LENGTH=64 * 1024,
                      TEMPLATES_AUTO_RELOAD=False)
    app.register_blueprint(routes_main.blueprint)
    app.register_blueprint(routes_reports.blueprint)
    app.before_request(guard)
    app.after_request(security_headers)
    app.register_error_handler(HTTPException, error_page)
    app.context_processor(page_context)
    return app


def guard() -> Any:
    """Before every request: a CSRF token in the session, the password asked for, every POST's token checked."""
    session.setdefault("csrf", new_token())
    stored = state().password_hash()
    signed_in = stored is None or session.get("auth") == password_fingerprint(stored)
    if request.endpoint not in OPEN_ENDPOINTS and not signed_in:
        if request.method == "POST":
            abort(403)
        return redirect(url_for("main.sign_in"))
    if request.method == "POST" and not tokens_match(session.get("csrf"), request.form.get("csrf_token")):
        abort(400, "the form's security token is missing or out of date: reload the page and try again")
    return None


def security_headers(response: Response) -> Response:
    """Headers for every answer; a report file sets its own stricter Content-Security-Policy first."""
    response.headers.setdefault("Content-Security-Policy", APP_CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    return response


def error_page(error: HTTPException) -> tuple[str, int]:
    return render_template("web/error.html", code=error.code, title=error.name, message=error.description), error.code or 500


def page_context() -> dict[str, Any]:
    current = state()
    return {"csrf_token": session.get("csrf", ""), "demo": current.demo, "has_password": current.password_hash() is not None,
            "running_job": current.runner.current()}
