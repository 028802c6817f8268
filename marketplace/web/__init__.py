"""The web layer: blueprints, login, CSRF, htmx, security headers, error pages, template filters.

How a later area plugs in (offers, cases, office, runs, api, admin ...):

1. Write `marketplace/web/<area>.py` with `bp = Blueprint("<area>", __name__, url_prefix="/<area>")`.
2. Add its module name to `BLUEPRINT_MODULES` below. That is all `init_app` needs.
3. Decorate every view with `@require_role(Role....)` or `@require_login` (marketplace.access).
   The app-wide guard denies anonymous users everywhere except `@public` views, and denies a
   logged-in user any view without such a declaration (403), so forgetting is safe.
4. Navigation entries for the area already exist in `nav.py` by endpoint name; they appear
   as soon as the endpoint is registered (e.g. `catalogue.index`, `runs.index`).
5. For a JSON API: blueprints named in `JSON_BLUEPRINTS` (security.py) get JSON 401/403/404
   answers instead of redirects and HTML pages. htmx sends the CSRF token as `X-CSRFToken`;
   API clients that use cookies must do the same (or the API blueprint is exempted with
   `csrf.exempt(bp)` once it authenticates by token).
6. Text input: requests with control characters (NUL ...) are refused with 400 before the view
   runs (`text_guard`); a view whose form reports them at the field is marked `@checks_text_fields`.
"""

from __future__ import annotations

from importlib import import_module

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

from ..access import MAX_ID
from . import errors, filters, nav, security, text_guard

#: Modules in this package whose `bp` is registered, in order. Later areas append theirs.
BLUEPRINT_MODULES: list[str] = [
    "auth",
    "main",
]

#: Optional areas: registered when their module exists (written in later issues).
OPTIONAL_BLUEPRINT_MODULES: list[str] = [
    "catalogue",
    "offers",
    "cases",
    "placements",
    "office",
    "runs",
    "reports",
    "ledger",
    "settings",
    "admin",
    "reauth",
    "privacy",
    "api",
    "tokens",
]

_DEFAULTS = {
    "LOGIN_IP_MAX_FAILURES": 30,
    "LOGIN_IP_WINDOW_MINUTES": 15,
    "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
    "CONTENT_SECURITY_POLICY": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "WTF_CSRF_HEADERS": ["X-CSRFToken", "X-CSRF-Token"],
}


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in every rule: at most the database's largest id, so a longer number is a plain
    404 instead of an integer overflow in the database driver (a 500)."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,
                 signed: bool = False) -> None:  # werkzeug's parameter names
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def init_app(app: Flask) -> None:
    """Wire the web layer into `app` (called by `create_app`)."""
    for key, value in _DEFAULTS.items():
        if app.config.get(key) is None:  # Flask itself presets MAX_CONTENT_LENGTH to None
            app.config[key] = value
    app.url_map.converters["int"] = DatabaseIdConverter  # before any blueprint adds its rules
    security.init_app(app)
    text_guard.init_app(app)
    errors.init_app(app)
    filters.init_app(app)
    nav.init_app(app)
    register_blueprints(app)


def register_blueprints(app: Flask) -> None:
    """Register every blueprint of `BLUEPRINT_MODULES` and those optional ones that exist."""
    for name in BLUEPRINT_MODULES:
        app.register_blueprint(import_module(f"{__name__}.{name}").bp)
    for name in OPTIONAL_BLUEPRINT_MODULES:
        try:
            module = import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise  # the module exists but one of its imports is missing: a real error
            continue
        app.register_blueprint(module.bp)
