"""API-Zugänge (blueprint `tokens`, /api-zugaenge): every logged-in user creates and revokes personal API tokens.

The secret of a new token is shown once, in the answer to the creating POST (never in a flash
message: those travel in the session cookie), and then only its hash exists
(`marketplace.api_tokens`). Pages are `no-store` like every page (security headers).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import api_tokens
from ..access import require_login
from ..db import get_session
from ..models import TokenScope
from .reauth import recent_login

bp = Blueprint("tokens", __name__, url_prefix="/api-zugaenge")


def _page(*, new: api_tokens.NewToken | None = None, errors: dict[str, str] | None = None,
          values: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    tokens = api_tokens.tokens_of(get_session(), user_id=current_user.id)
    return render_template("tokens/index.html", tokens=tokens, new=new, errors=errors or {},
                           values=values or {"scope": TokenScope.read.value}, scopes=api_tokens.SCOPE_LABELS), status


@bp.route("/")
@require_login
def index() -> tuple[str, int]:
    """The user's tokens (active and revoked) and the form for a new one."""
    return _page()


@bp.route("/", methods=["POST"])
@require_login
@recent_login(minutes=15)
def create() -> tuple[str, int]:
    """Create a token; the answer shows its secret once."""
    values = {"name": request.form.get("name", ""), "scope": request.form.get("scope", "")}
    try:
        new = api_tokens.create_token(get_session(), user=current_user, name=values["name"], scope=values["scope"])
    except api_tokens.TokenError as error:
        get_session().rollback()
        return _page(errors=error.field_errors, values=values, status=422)
    return _page(new=new, status=201)


@bp.route("/<int(max=2147483647):token_id>/widerrufen", methods=["POST"])
@require_login
def revoke(token_id: int) -> Response:
    """Revoke one of the user's own tokens at once (others' tokens: 404)."""
    try:
        token = api_tokens.revoke_token(get_session(), user=current_user, token_id=token_id)
    except LookupError:
        abort(404)
    flash(f"Der Zugang „{token.name}“ wurde widerrufen. Anfragen mit diesem Schlüssel werden abgewiesen.", "success")
    return redirect(url_for("tokens.index"), 303)
