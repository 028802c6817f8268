"""Solver settings page for planners (Einstellungen): weights with explanations, run limits."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..access import require_role
from ..db import get_session
from ..models import Role
from ..solver_settings import WEIGHTS, SettingsError, parse_settings, read_settings, save_settings
from .reauth import recent_login
from .rendering import render_page

bp = Blueprint("settings", __name__, url_prefix="/einstellungen")


def _number_text(value: float) -> str:
    return f"{value:g}".replace(".", ",")


@bp.route("/", methods=["GET", "POST"])
@require_role(Role.planner)
@recent_login(minutes=15)
def index() -> Response | tuple[str, int] | str:
    session = get_session()
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            settings = parse_settings(request.form.to_dict())
        except SettingsError as exc:
            errors = exc.field_errors
        else:
            save_settings(session, settings=settings, actor=current_user)
            session.commit()
            flash("Die Einstellungen wurden gespeichert. Sie gelten ab dem nächsten Lauf.", "success")
            return redirect(url_for("settings.index"))
        values = request.form.to_dict()
    else:
        current = read_settings(session)
        values = {key: _number_text(v) for key, v in current.weights.items()}
        values.update(max_changes=str(current.max_changes), time_limit_s=_number_text(current.time_limit_s),
                      bill_excused="1" if current.bill_excused else "")
    html = render_page("settings/index.html", "settings/index.html", weights=WEIGHTS, values=values, errors=errors)
    return (html, 422) if errors else html
