"""German error pages: full page in the layout, a small fragment for htmx, JSON for the API."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from .problems import problem_response
from .security import is_htmx, unauthorized, wants_json

#: Title and explanation per status code.
MESSAGES: dict[int, tuple[str, str]] = {
    400: ("Ungültige Anfrage", "Die Anfrage konnte nicht verarbeitet werden. Bitte prüfen Sie Ihre Eingaben."),
    403: ("Kein Zugriff", "Sie haben keine Berechtigung, diese Seite oder diesen Datensatz zu sehen."),
    404: ("Seite nicht gefunden", "Die aufgerufene Seite gibt es nicht (mehr). Prüfen Sie die Adresse."),
    405: ("Aktion nicht erlaubt", "Diese Aktion ist auf dieser Seite nicht möglich."),
    413: ("Datei zu groß", "Die gesendeten Daten sind zu groß. Bitte verkleinern Sie die Datei."),
    422: ("Eingaben unvollständig", "Bitte prüfen Sie die markierten Felder."),
    429: ("Zu viele Anfragen", "Bitte warten Sie einige Minuten und versuchen Sie es dann erneut."),
    500: (
        "Interner Fehler",
        "Etwas ist schiefgelaufen. Der Fehler wurde protokolliert; bitte versuchen Sie es später erneut.",
    ),
}

CSRF_MESSAGE = (
    "Das Formular ist abgelaufen oder unvollständig (Sicherheitstoken fehlt oder ist ungültig). "
    "Bitte laden Sie die Seite neu und senden Sie das Formular noch einmal."
)

#: Where htmx swaps error fragments (an ARIA live region in base.html).
ALERT_TARGET = "#htmx-alerts"


def render_error(code: int, detail: str | None = None) -> Response | tuple[str, int, dict[str, str]]:
    """The error answer for the current request: JSON, htmx fragment or full page."""
    title, text = MESSAGES.get(code, MESSAGES[500])
    if wants_json():
        return problem_response(code, detail)
    text = detail or text
    if is_htmx():
        body = render_template("errors/partials/error.html", code=code, title=title, text=text)
        return body, code, {"HX-Retarget": ALERT_TARGET, "HX-Reswap": "innerHTML"}
    try:
        return render_template("errors/error.html", code=code, title=title, text=text), code, {}
    except Exception:  # the layout itself failed (e.g. database down): plain text, still German
        return f"{code} {title}: {text}", code, {"Content-Type": "text/plain; charset=utf-8"}


def handle_http_exception(exc: HTTPException) -> Response | tuple[str, int, dict[str, str]]:
    """Any werkzeug HTTP error (abort(403), 404 ...)."""
    code = exc.code or 500
    if code == 401:
        return unauthorized()
    if wants_json():  # RFC 9457 problem details, keeping headers such as Allow (405)
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
        return problem_response(code, detail_of(exc), headers=headers)
    if code not in MESSAGES:
        return exc.get_response()
    return render_error(code, detail_of(exc))


def detail_of(exc: HTTPException) -> str | None:
    """abort(403, "Deutscher Text") passes a view-specific explanation; the default one is English."""
    return exc.description if exc.description != type(exc).description else None


def handle_csrf_error(_exc: CSRFError) -> Response | tuple[str, int, dict[str, str]]:
    """Missing or wrong CSRF token: 400 with a German explanation."""
    return render_error(400, CSRF_MESSAGE)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_exception)
