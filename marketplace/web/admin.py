"""Administration area (Verwaltung, blueprint `admin`, /verwaltung): accounts, providers, teams.

Administrators only. Thin views: a form parses, `marketplace.admin` validates, writes, audits
and commits; bad input comes back with German messages at the fields and status 422. Every
change (POST) needs a password entered in the last 15 minutes (`recent_login`).

    GET       /verwaltung/                              → Benutzer
    GET       /verwaltung/benutzer                      accounts (filter by role, search, inactive)
    GET/POST  /verwaltung/benutzer/neu                  new account with an initial password
    GET/POST  /verwaltung/benutzer/<id>                 name, e-mail, role, provider/team
    POST      /verwaltung/benutzer/<id>/deaktivieren    deactivate (sessions end at once)
    POST      /verwaltung/benutzer/<id>/aktivieren      reactivate
    GET/POST  /verwaltung/benutzer/<id>/passwort        set a new password (must be changed at login)
    GET       /verwaltung/traeger                       providers
    GET/POST  /verwaltung/traeger/neu                   new provider
    GET/POST  /verwaltung/traeger/<id>                  edit provider (contact, co-use, active)
    GET/POST  /verwaltung/teams                         ASD teams and a form for a new one
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlmodel import select
from werkzeug.wrappers import Response

from .. import admin
from ..access import require_role
from ..admin import AdminError
from ..db import get_session
from ..models import Provider, Role, Sozialraum, Team, User
from .admin_forms import ROLE_HINTS, NewUserForm, PasswordResetForm, ProviderForm, TeamForm, UserForm
from .auth import start_session
from .nav import ROLE_LABELS
from .reauth import recent_login
from .security import LoginUser
from .text_guard import checks_text_fields

bp = Blueprint("admin", __name__, url_prefix="/verwaltung")

#: Minutes since the last password entry after which a change needs a confirmation.
RECENT_LOGIN_MINUTES = 15

Page = Response | tuple[str, int]


def _apply_errors(form: Any, exc: AdminError) -> None:
    """Copy the use case's messages onto the form's fields ("form" and unknown names go to the top)."""
    form.form_errors = []
    for name, message in exc.field_errors.items():
        field = getattr(form, name, None) if name != "form" else None
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
        else:
            form.form_errors.append(message)


def _add_rule_errors(form: UserForm, user_id: int | None) -> None:
    """After a failed form check, also show the account rules' messages (binding, taken e-mail) at once."""
    rules = admin.user_rule_errors(get_session(), form.fields(), user_id=user_id)
    for name, message in rules.items():
        field = getattr(form, name, None)
        if field is not None and not field.errors:
            field.errors = [message]


def _render(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(template, role_labels=ROLE_LABELS, **context), status


def _user_or_404(user_id: int) -> User:
    user = get_session().get(User, user_id)
    if user is None:
        abort(404)
    return user


def _choices(form: UserForm, user: User | None = None) -> None:
    session = get_session()
    providers = session.exec(select(Provider).order_by(Provider.name)).all()
    # inactive providers are offered only where an account still belongs to one
    providers = [p for p in providers if p.active or (user is not None and p.id == user.provider_id)]
    form.set_choices(providers, session.exec(select(Team).order_by(Team.name)).all())


# --------------------------------------------------------------------------- accounts


@bp.route("/")
@require_role(Role.admin)
def index() -> Response:
    return redirect(url_for("admin.users"))


@bp.route("/benutzer")
@require_role(Role.admin)
def users() -> str:
    """All accounts with role, provider or team, state and last login."""
    role = request.args.get("rolle", "")
    query = (request.args.get("q") or "").strip()[:80]
    show_inactive = request.args.get("inaktive", "1") != "0"
    rows = admin.list_users(get_session(), role=role or None, query=query, include_inactive=show_inactive)
    return render_template("admin/users.html", rows=rows, role=role, q=query, show_inactive=show_inactive,
                           role_labels=ROLE_LABELS)


@bp.route("/benutzer/neu", methods=["GET", "POST"])
@require_role(Role.admin)
@recent_login(minutes=RECENT_LOGIN_MINUTES)
@checks_text_fields
def user_new() -> Page:
    """Create an account: role, the provider or team the role needs, and an initial password."""
    form = NewUserForm()
    _choices(form)
    if request.method != "POST":
        return _render("admin/user_form.html", form=form, user=None, role_hints=ROLE_HINTS)
    if not form.validate():
        _add_rule_errors(form, None)
        return _render("admin/user_form.html", 422, form=form, user=None, role_hints=ROLE_HINTS)
    try:
        user = admin.create_user(get_session(), actor=current_user, fields=form.fields(), password=form.password.data)
    except AdminError as exc:
        get_session().rollback()
        _apply_errors(form, exc)
        return _render("admin/user_form.html", 422, form=form, user=None, role_hints=ROLE_HINTS)
    flash(f"Das Konto für {user.display_name} wurde angelegt. Bei der ersten Anmeldung muss das Passwort "
          "geändert werden.", "success")
    return redirect(url_for("admin.users"))


@bp.route("/benutzer/<int:user_id>", methods=["GET", "POST"])
@require_role(Role.admin)
@recent_login(minutes=RECENT_LOGIN_MINUTES)
@checks_text_fields
def user_edit(user_id: int) -> Page:
    """Change name, e-mail, role and binding; access changes end the account's sessions."""
    session = get_session()
    user = _user_or_404(user_id)
    form = UserForm(obj=user) if request.method != "POST" else UserForm()
    _choices(form, user)
    context = {"user": user, "role_hints": ROLE_HINTS, "is_self": user.id == current_user.id}
    if request.method != "POST":
        return _render("admin/user_form.html", form=form, **context)
    if not form.validate():
        _add_rule_errors(form, user.id)
        return _render("admin/user_form.html", 422, form=form, **context)
    try:
        user = admin.update_user(session, actor=current_user, user_id=user.id, fields=form.fields())
    except AdminError as exc:
        session.rollback()
        _apply_errors(form, exc)
        return _render("admin/user_form.html", 422, form=form, user=session.get(User, user_id),
                       role_hints=ROLE_HINTS, is_self=context["is_self"])
    if context["is_self"]:
        start_session(LoginUser(user))  # own e-mail changed: keep this browser logged in
    flash(f"Das Konto von {user.display_name} wurde gespeichert.", "success")
    return redirect(url_for("admin.users"))


def _set_active(user_id: int, active: bool) -> Response:
    session = get_session()
    user = _user_or_404(user_id)
    try:
        admin.set_user_active(session, actor=current_user, user_id=user.id, active=active)
    except AdminError as exc:
        session.rollback()
        flash(" ".join(exc.field_errors.values()), "error")
        return redirect(url_for("admin.user_edit", user_id=user_id), code=303)
    if active:
        flash(f"{user.display_name} kann sich wieder anmelden.", "success")
    else:
        flash(f"{user.display_name} wurde deaktiviert und überall abgemeldet.", "success")
    return redirect(url_for("admin.users"), code=303)


@bp.route("/benutzer/<int:user_id>/deaktivieren", methods=["POST"])
@require_role(Role.admin)
@recent_login(minutes=RECENT_LOGIN_MINUTES)
def user_deactivate(user_id: int) -> Response:
    return _set_active(user_id, False)


@bp.route("/benutzer/<int:user_id>/aktivieren", methods=["POST"])
@require_role(Role.admin)
@recent_login(minutes=RECENT_LOGIN_MINUTES)
def user_activate(user_id: int) -> Response:
    return _set_active(user_id, True)


@bp.route("/benutzer/<int:user_id>/passwort", methods=["GET", "POST"])
@require_role(Role.admin)
@recent_login(minutes=RECENT_LOGIN_MINUTES)
@checks_text_fields
def user_password(user_id: int) -> Page:
    """Set a new password for someone who forgot theirs; they must change it at the next login."""
    session = get_session()
    user = _user_or_404(user_id)
    form = PasswordResetForm()
    if request.method != "POST":
        return _render("admin/user_password.html", form=form, user=user)
    if not form.validate():
        return _render("admin/user_password.html", 422, form=form, user=user)
    try:
        admin.reset_password(session, actor=current_user, user_id=user.id, password=form.password.data)
    except AdminError as exc:
        session.rollback()
        _apply_errors(form, exc)
        return _render("admin/user_password.html", 422, form=form, user=user)
    flash(f"Das Passwort von {user.display_name} wurde neu gesetzt; alle Sitzungen wurden beendet.", "success")
    return redirect(url_for("admin.users"))


# --------------------------------------------------------------------------- providers and teams


@bp.route("/traeger")
@require_role(Role.admin)
def providers() -> str:
    return render_template("admin/providers.html", rows=admin.list_providers(get_session()))


@bp.route("/traeger/neu", methods=["GET", "POST"])
@require_role(Role.admin)
@recent_login(minutes=RECENT_LOGIN_MINUTES)
@checks_text_fields
def provider_new() -> Page:
    form = ProviderForm()
    if request.method != "POST":
        return _render("admin/provider_form.html", form=form, provider=None)
    if not form.validate():
        return _render("admin/provider_form.html", 422, form=form, provider=None)
    try:
        provider = admin.create_provider(get_session(), actor=current_user, fields=form.fields())
    except AdminError as exc:
        get_session().rollback()
        _apply_errors(form, exc)
        return _render("admin/provider_form.html", 422, form=form, provider=None)
    flash(f"Der Träger {provider.name} wurde angelegt.", "success")
    return redirect(url_for("admin.providers"))


@bp.route("/traeger/<int:provider_id>", methods=["GET", "POST"])
@require_role(Role.admin)
@recent_login(minutes=RECENT_LOGIN_MINUTES)
@checks_text_fields
def provider_edit(provider_id: int) -> Page:
    session = get_session()
    provider = session.get(Provider, provider_id)
    if provider is None:
        abort(404)
    form = ProviderForm(obj=provider) if request.method != "POST" else ProviderForm()
    if request.method != "POST":
        return _render("admin/provider_form.html", form=form, provider=provider)
    if not form.validate():
        return _render("admin/provider_form.html", 422, form=form, provider=provider)
    try:
        admin.update_provider(session, actor=current_user, provider_id=provider.id, fields=form.fields())
    except AdminError as exc:
        session.rollback()
        _apply_errors(form, exc)
        return _render("admin/provider_form.html", 422, form=form, provider=session.get(Provider, provider_id))
    flash(f"Der Träger {provider.name} wurde gespeichert.", "success")
    return redirect(url_for("admin.providers"))


@bp.route("/teams", methods=["GET", "POST"])
@require_role(Role.admin)
@recent_login(minutes=RECENT_LOGIN_MINUTES)
@checks_text_fields
def teams() -> Page:
    """ASD teams with their Sozialraum, and a form for a new team."""
    session = get_session()
    form = TeamForm()
    form.set_choices(session.exec(select(Sozialraum).order_by(Sozialraum.name)).all())
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate():
            try:
                team = admin.create_team(session, actor=current_user, name=form.name.data,
                                         sozialraum_id=form.sozialraum_id.data)
            except AdminError as exc:
                session.rollback()
                _apply_errors(form, exc)
            else:
                flash(f"Das Team {team.name} wurde angelegt.", "success")
                return redirect(url_for("admin.teams"))
    return _render("admin/teams.html", status, form=form, rows=admin.list_teams(session))
