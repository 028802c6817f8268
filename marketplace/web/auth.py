"""Login, logout and password change (Anmeldung, Abmeldung, Passwort ändern).

Thin views: forms parse, `marketplace.accounts` decides, templates render.
Bad input is answered with the form again, German messages at the fields and status 422;
lock-outs with 429.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from .. import accounts
from ..access import public, require_login
from ..db import get_session
from .forms import LoginForm, PasswordChangeForm
from .security import LoginUser, client_ip, login_policy, safe_next
from .text_guard import checks_text_fields

bp = Blueprint("auth", __name__)

INVALID_CREDENTIALS = "E-Mail-Adresse oder Passwort ist falsch."
IP_BLOCKED = (
    "Zu viele fehlgeschlagene Anmeldeversuche von Ihrem Netzwerk. Bitte versuchen Sie es in einigen Minuten erneut."
)


def _account_locked_message() -> str:
    minutes = current_app.config["LOGIN_LOCK_MINUTES"]
    return (
        "Zu viele fehlgeschlagene Anmeldeversuche: Das Konto ist vorübergehend gesperrt. "
        f"Bitte versuchen Sie es in {minutes} Minuten erneut oder wenden Sie sich an die Administration."
    )


def start_session(user: LoginUser) -> None:
    """A fresh session for `user`: old session data (and any fixated state) is dropped first."""
    session.clear()
    login_user(user)
    session.permanent = True


def _login_page(form: LoginForm, status: int = 200, alert: str | None = None) -> tuple[str, int, dict]:
    headers = {"Retry-After": str(current_app.config["LOGIN_LOCK_MINUTES"] * 60)} if status == 429 else {}
    return render_template("auth/login.html", form=form, alert=alert), status, headers


@bp.route("/login", methods=["GET", "POST"])
@public
@checks_text_fields
def login() -> Response | tuple[str, int, dict]:
    """Show the login form; on POST check the credentials, with lock-out and per-IP throttling."""
    target = safe_next(request.args.get("next")) or url_for("main.dashboard")
    if current_user.is_authenticated:
        return redirect(target)
    form = LoginForm()
    if request.method != "POST":
        return _login_page(form)
    if not form.validate():
        return _login_page(form, 422)
    result = accounts.authenticate(get_session(), form.email.data, form.password.data, client_ip(), login_policy())
    if result.outcome is accounts.LoginOutcome.OK:
        start_session(LoginUser(result.user))
        return redirect(target)
    if result.outcome is accounts.LoginOutcome.IP_BLOCKED:
        return _login_page(form, 429, IP_BLOCKED)
    if result.outcome is accounts.LoginOutcome.LOCKED:
        return _login_page(form, 429, _account_locked_message())
    form.password.errors = [INVALID_CREDENTIALS]
    return _login_page(form, 422)


@bp.route("/logout", methods=["POST"])
@require_login
def logout() -> Response:
    """Log out here and everywhere: the session version is bumped, old cookies stop working."""
    accounts.logout(get_session(), current_user.row)
    logout_user()
    session.clear()
    flash("Sie wurden abgemeldet.", "success")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@require_login
@checks_text_fields
def password() -> Response | tuple[str, int]:
    """Change one's own password; every other session of the account ends."""
    form = PasswordChangeForm()
    if request.method != "POST":
        return render_template("auth/password.html", form=form), 200
    if not form.validate():
        return render_template("auth/password.html", form=form), 422
    user = current_user.row
    if not accounts.change_password(get_session(), user, form.current_password.data, form.new_password.data):
        form.current_password.errors = ["Das aktuelle Passwort ist falsch."]
        return render_template("auth/password.html", form=form), 422
    start_session(LoginUser(user))  # this browser stays logged in with the new session version
    flash("Ihr Passwort wurde geändert. Alle anderen Sitzungen wurden abgemeldet.", "success")
    return redirect(url_for("main.dashboard"))
