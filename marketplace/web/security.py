"""Login sessions, CSRF, htmx, the deny-by-default request guard and security headers.

The Flask-Login user id is `"<user id>:<session_version>"`. Logout and password change bump
`User.session_version`, so every cookie issued before is rejected on the server afterwards.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, flash, g, redirect, request, url_for
from flask_htmx import HTMX
from flask_login import AnonymousUserMixin, LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.wrappers import Response

from ..access import declared_roles, is_public
from ..accounts import LoginPolicy
from ..api_tokens import authenticate as authenticate_token
from ..db import get_session
from ..models import User
from .problems import problem_response

csrf = CSRFProtect()
htmx = HTMX()
login_manager = LoginManager()

#: Blueprints that speak JSON: their 401/403/404 answers are JSON, not redirects or pages.
JSON_BLUEPRINTS: set[str] = {"api"}
#: Pages under /api/ that are HTML for people (errors there are pages, anonymous users go to login).
HTML_ENDPOINTS: set[str] = {"api.docs"}
#: Paths that authenticate by API token only.
TOKEN_ONLY_PREFIX = "/api/v1/"

LOGIN_MESSAGE = "Bitte melden Sie sich an, um diese Seite zu sehen."


class LoginUser(UserMixin):
    """Flask-Login's view of a `User` row; attribute access falls through to the row."""

    def __init__(self, row: User) -> None:
        self.row = row

    def get_id(self) -> str:
        return f"{self.row.id}:{self.row.session_version}"

    @property
    def is_active(self) -> bool:
        return bool(self.row.is_active)

    def __getattr__(self, name: str) -> Any:
        if name == "row":  # not yet set (copy/unpickle): avoid recursion
            raise AttributeError(name)
        return getattr(self.row, name)

    def __repr__(self) -> str:
        return f"<LoginUser {self.row.id} {self.row.role}>"


class AnonymousUser(AnonymousUserMixin):
    """The visitor who is not logged in: no role, no provider, no team."""

    id = None
    role = None
    provider_id = None
    team_id = None
    display_name = ""


def load_user(user_id: str) -> LoginUser | None:
    """Flask-Login loader: accept the cookie only while its session version is current.

    The versioned JSON API (`/api/v1/`) ignores cookies: it authenticates by token only, so a
    browser session can never write through it (no ambient authority, hence no CSRF there).
    """
    if is_token_only_request():
        return None
    try:
        raw_id, raw_version = user_id.split(":", 1)
        uid, version = int(raw_id), int(raw_version)
    except (ValueError, AttributeError):
        return None
    row = get_session().get(User, uid)
    if row is None or not row.is_active or row.session_version != version:
        return None
    return LoginUser(row)


def wants_json() -> bool:
    """True for requests to a JSON blueprint (the API); its HTML documentation page excepted."""
    if request.endpoint in HTML_ENDPOINTS:
        return False
    return request.blueprint in JSON_BLUEPRINTS or request.path.startswith("/api/")


def is_token_only_request() -> bool:
    """True for the versioned JSON API, which accepts API tokens only (no cookie sessions)."""
    return request.path.startswith(TOKEN_ONLY_PREFIX)


def load_user_from_token(req: Any) -> LoginUser | None:
    """Flask-Login request loader: `Authorization: Bearer <token>` on API paths (/api/...).

    The token is remembered in `g.api_token` (its scope is checked by the API blueprint).
    """
    if not req.path.startswith("/api/"):
        return None
    header = req.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    found = authenticate_token(get_session(), secret.strip())
    if found is None:
        return None
    g.api_token = found[0]
    return LoginUser(found[1])


def is_htmx() -> bool:
    """True for requests made by htmx (header HX-Request)."""
    return request.headers.get("HX-Request") == "true"


def safe_next(target: str | None) -> str | None:
    """`target` if it is a local path (no open redirect), else None."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


def unauthorized() -> Response:
    """Anonymous access to a protected view: login redirect, htmx full-page redirect, or JSON 401."""
    if wants_json():
        return problem_response(401)
    if request.method == "GET":
        next_url = safe_next(request.full_path.rstrip("?"))
    else:
        next_url = None
    if is_htmx():
        # htmx follows 302s inside XHR and would swap the login page into a fragment.
        current = safe_next(urlsplit(request.headers.get("HX-Current-URL", "")).path)
        login = url_for("auth.login", next=current or None)
        return Response("", status=401, headers={"HX-Redirect": login})
    flash(LOGIN_MESSAGE, "info")
    return redirect(url_for("auth.login", next=next_url))


def guard_request() -> Response | None:
    """Deny by default: only `@public` views and static files are open to anonymous users;
    logged-in users reach only views with an access declaration (`require_role`/`require_login`)."""
    endpoint = request.endpoint
    if endpoint is None:  # no route matched: let 404/405 happen
        return None
    if endpoint == "static" or endpoint.endswith(".static"):
        return None
    view = current_app.view_functions.get(endpoint)
    if view is None or is_public(view):
        return None
    if not current_user.is_authenticated:
        return unauthorized()
    if declared_roles(view) is None:
        current_app.logger.error("view %s has no access declaration: denied", endpoint)
        abort(403)
    return None


def security_headers(response: Response) -> Response:
    """Security headers on every response; `Vary: HX-Request` because pages and fragments share URLs."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", current_app.config["CONTENT_SECURITY_POLICY"])
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    response.vary.add("HX-Request")
    endpoint = request.endpoint or ""
    if endpoint != "static" and not endpoint.endswith(".static"):
        # Pages may carry case data: never store them in shared or browser caches.
        headers.setdefault("Cache-Control", "no-store")
    return response


def login_policy() -> LoginPolicy:
    """Login throttling limits from the app config."""
    config = current_app.config
    return LoginPolicy(
        max_failures=config["LOGIN_MAX_FAILURES"],
        lock_minutes=config["LOGIN_LOCK_MINUTES"],
        ip_max_failures=config["LOGIN_IP_MAX_FAILURES"],
        ip_window_minutes=config["LOGIN_IP_WINDOW_MINUTES"],
    )


def client_ip() -> str:
    """The client's address (behind a proxy configure werkzeug's ProxyFix in the WSGI setup)."""
    return request.remote_addr or "unknown"


def init_app(app: Flask) -> None:
    """Install Flask-Login, the guard (before CSRF, so anonymous users are sent to login first),
    CSRF protection, flask-htmx and the header hook."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = LOGIN_MESSAGE
    login_manager.login_message_category = "info"
    login_manager.needs_refresh_message = "Bitte melden Sie sich zur Bestätigung erneut an."
    login_manager.needs_refresh_message_category = "info"
    login_manager.anonymous_user = AnonymousUser
    login_manager.user_loader(load_user)
    login_manager.request_loader(load_user_from_token)
    login_manager.unauthorized_handler(unauthorized)

    app.before_request(guard_request)
    csrf.init_app(app)
    htmx.init_app(app)
    app.after_request(security_headers)

    @app.context_processor
    def _htmx_config() -> dict[str, Any]:
        return {"htmx_config": HTMX_CONFIG}


#: htmx settings, sent in <meta name="htmx-config">: no eval, no injected <style> or style settling (CSP),
#: no page snapshots in localStorage (case data!), and error fragments are swapped
#: (the error handlers retarget them into the alert region of the layout).
HTMX_CONFIG: dict[str, Any] = {
    "allowEval": False,
    "allowScriptTags": False,
    "includeIndicatorStyles": False,
    # htmx's settle step copies "style" attributes between old and new elements; the CSP
    # (style-src 'self') blocks that and the browser logs an error on every such swap.
    "attributesToSettle": ["class", "width", "height"],
    "historyCacheSize": 0,
    "refreshOnHistoryMiss": True,
    "selfRequestsOnly": True,
    "responseHandling": [
        {"code": "204", "swap": False},
        {"code": "[23]..", "swap": True},
        {"code": "[45]..", "swap": True, "error": True},
    ],
}
