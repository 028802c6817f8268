"""Re-login before sensitive changes (Passwort bestätigen) and the forced first password change.

`@recent_login(minutes=15)` guards a state-changing view: when the user's last login or password
confirmation *in this browser session* is older than the limit, a POST (PUT, PATCH, DELETE) is
not executed but sent to the German page "Bitte bestätigen Sie Ihr Passwort"; afterwards the user
repeats the action. Safe methods (GET, HEAD) always pass, so one view can serve form and change.
The time is kept in the signed Flask session (`CONFIRMED_AT`), set at login (Flask-Login's
`user_logged_in` signal, so password changes count too) and by the confirmation page.

Use it below the role declaration:

    @bp.route("/x", methods=["GET", "POST"])
    @require_role(Role.planner)
    @recent_login(minutes=15)
    def x(): ...

Accounts whose password an administrator chose (`User.must_change_password`) are sent to the
password page on every request until they have set their own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, user_logged_in
from werkzeug.wrappers import Response
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from .. import accounts
from ..access import require_login
from ..db import get_session
from .forms import GermanForm
from .security import client_ip, is_htmx, login_policy, safe_next
from .text_guard import checks_text_fields

bp = Blueprint("reauth", __name__)

F = TypeVar("F", bound=Callable[..., Any])

#: Session key: Unix time of the last login or password confirmation in this session.
CONFIRMED_AT = "auth_confirmed_at"
#: Attribute on guarded views: the limit in minutes (for tests and route listings).
RECENT_LOGIN_ATTR = "_recent_login_minutes"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CONFIRM_MESSAGE = "Bitte bestätigen Sie Ihr Passwort. Danach können Sie die Aktion wiederholen."
#: Endpoints a user who must change the password can still reach.
FIRST_PASSWORD_ENDPOINTS = frozenset({"auth.password", "auth.logout", "auth.login", "static", "main.healthz"})


def mark_confirmed() -> None:
    """Remember that the user proved their password just now (in this browser session)."""
    session[CONFIRMED_AT] = int(time.time())


def confirmed_within(minutes: float) -> bool:
    """True when this session's last login or confirmation is at most `minutes` old."""
    stamp = session.get(CONFIRMED_AT)
    if not isinstance(stamp, int | float) or isinstance(stamp, bool):
        return False
    age = time.time() - stamp
    return 0 <= age <= minutes * 60


def recent_login(minutes: float = 15) -> Callable[[F], F]:
    """Only run a state-changing request when the password was entered in the last `minutes`."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if request.method in SAFE_METHODS or confirmed_within(minutes):
                return view(*args, **kwargs)
            return ask_for_confirmation()

        setattr(wrapped, RECENT_LOGIN_ATTR, minutes)
        return wrapped  # type: ignore[return-value]

    return decorator


def _return_target() -> str:
    """Where to go after the confirmation: the page the form was on (same site only), else the dashboard."""
    referrer = request.headers.get("HX-Current-URL") or request.referrer or ""
    parts = urlsplit(referrer)
    if parts.netloc and parts.netloc != request.host:
        referrer = ""
    path = parts.path + (f"?{parts.query}" if parts.query else "") if referrer else ""
    return safe_next(path) or url_for("main.dashboard")


def ask_for_confirmation() -> Response:
    """Send the user to the confirmation page (htmx: a full-page redirect); nothing was changed."""
    target = url_for("reauth.confirm", next=_return_target())
    if is_htmx():
        return Response("", status=403, headers={"HX-Redirect": target})
    flash(CONFIRM_MESSAGE, "info")
    return redirect(target, code=303)


class ConfirmPasswordForm(GermanForm):
    """Passwort bestätigen."""

    password = PasswordField(
        "Ihr Passwort",
        validators=[DataRequired("Bitte geben Sie Ihr Passwort ein."),
                    Length(max=1024, message="Das Passwort ist zu lang.")],
        render_kw={"autocomplete": "current-password", "autofocus": True},
    )


@bp.route("/bestaetigen", methods=["GET", "POST"])
@require_login
@checks_text_fields
def confirm() -> Response | tuple[str, int]:
    """Ask for the password again; on success remember the time and go back to the page."""
    form = ConfirmPasswordForm()
    target = safe_next(request.args.get("next")) or url_for("main.dashboard")
    if request.method != "POST":
        return render_template("reauth/confirm.html", form=form, target=target), 200
    if not form.validate():
        return render_template("reauth/confirm.html", form=form, target=target), 422
    result = accounts.authenticate(get_session(), current_user.email, form.password.data, client_ip(), login_policy())
    if result.outcome is accounts.LoginOutcome.OK and result.user.id == current_user.id:
        mark_confirmed()
        flash("Danke, Ihr Passwort ist bestätigt. Bitte wiederholen Sie jetzt Ihre Aktion.", "success")
        return redirect(target)
    if result.outcome in (accounts.LoginOutcome.LOCKED, accounts.LoginOutcome.IP_BLOCKED):
        form.password.errors = ["Zu viele Fehlversuche. Bitte versuchen Sie es in einigen Minuten erneut."]
        return render_template("reauth/confirm.html", form=form, target=target), 429
    form.password.errors = ["Das Passwort ist falsch."]
    return render_template("reauth/confirm.html", form=form, target=target), 422


@user_logged_in.connect
def _confirmed_by_login(_sender: Any, **_extra: Any) -> None:
    mark_confirmed()


@bp.before_app_request
def require_own_password() -> Response | None:
    """An account with an administrator-chosen password reaches only the password page until it is changed."""
    if not current_user.is_authenticated or not getattr(current_user, "must_change_password", False):
        return None
    endpoint = request.endpoint or ""
    if endpoint in FIRST_PASSWORD_ENDPOINTS or endpoint.endswith(".static") or request.path.startswith("/api/"):
        return None
    target = url_for("auth.password")
    if is_htmx():
        return Response("", status=403, headers={"HX-Redirect": target})
    flash("Bitte legen Sie zuerst ein eigenes Passwort fest.", "info")
    return redirect(target, code=303)
