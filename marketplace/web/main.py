"""The role dashboard (Übersicht) at `/` and the health check `/healthz`."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask_login import current_user
from sqlalchemy import text
from werkzeug.wrappers import Response

from ..access import public, require_login
from ..dashboard import tiles_for
from ..db import get_engine, get_session
from .rendering import render_page

bp = Blueprint("main", __name__)


@bp.route("/")
@require_login
def dashboard() -> str:
    """Each role's live figures; htmx gets only the tiles (the "Aktualisieren" button)."""
    tiles = tiles_for(get_session(), current_user)
    return render_page("main/dashboard.html", "main/partials/tiles.html", tiles=tiles)


@bp.route("/healthz")
@public
def healthz() -> tuple[Response, int]:
    """Liveness and database check for monitoring: 200 when `SELECT 1` works, else 503."""
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not healthy"
        return jsonify(status="error", database="error"), 503
    return jsonify(status="ok", database="ok"), 200
