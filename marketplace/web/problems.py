"""RFC 9457 problem details (`application/problem+json`) for the JSON API.

Every error the API sends is one of these objects: `type` (a link to the problem's
explanation in the API documentation), `title` (German, per type), `status`, `detail`
(German, for this occurrence), `instance` (the request path) and, for input problems,
`errors`: one entry per problem with `field` (the input field), `pointer` (a JSON Pointer
into the request body, RFC 6901), `row` (bulk imports: the row) and a German `message`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import Response, request, url_for

PROBLEM_MIMETYPE = "application/problem+json"

#: Problem types: slug (the anchor in /api/docs), German title, default German detail.
PROBLEM_TYPES: dict[int, tuple[str, str, str]] = {
    400: ("ungueltige-anfrage", "Ungültige Anfrage",
          "Die Anfrage konnte nicht gelesen werden (z. B. kein gültiges JSON)."),
    401: ("nicht-angemeldet", "Nicht angemeldet",
          "Bitte senden Sie einen gültigen API-Schlüssel im Kopf „Authorization: Bearer …“."),
    403: ("kein-zugriff", "Kein Zugriff", "Sie haben keine Berechtigung für diese Aktion oder diesen Datensatz."),
    404: ("nicht-gefunden", "Nicht gefunden", "Diese Adresse oder diesen Datensatz gibt es nicht."),
    405: ("methode-nicht-erlaubt", "Methode nicht erlaubt", "Diese HTTP-Methode ist hier nicht möglich."),
    406: ("nicht-annehmbar", "Format nicht verfügbar", "Die API antwortet nur mit JSON."),
    409: ("konflikt", "Konflikt mit dem aktuellen Stand",
          "Der Datensatz lässt diese Aktion in seinem jetzigen Zustand nicht zu."),
    412: ("veraltete-fassung", "Datensatz inzwischen geändert",
          "Der Datensatz wurde seit Ihrem letzten Abruf geändert (ETag stimmt nicht mehr). "
          "Bitte rufen Sie ihn neu ab und wiederholen Sie die Änderung."),
    413: ("zu-gross", "Anfrage zu groß", "Die gesendeten Daten sind zu groß."),
    415: ("falsches-format", "Falsches Datenformat",
          "Bitte senden Sie die Daten als JSON (Content-Type: application/json)."),
    422: ("validierung", "Eingaben ungültig", "Bitte prüfen Sie die Angaben in „errors“."),
    428: ("if-match-fehlt", "If-Match erforderlich",
          "Änderungen brauchen den Kopf „If-Match“ mit dem ETag der zuletzt abgerufenen Fassung."),
    429: ("zu-viele-anfragen", "Zu viele Anfragen", "Bitte warten Sie einige Minuten."),
    500: ("interner-fehler", "Interner Fehler",
          "Etwas ist schiefgelaufen. Der Fehler wurde protokolliert; bitte versuchen Sie es später erneut."),
}


@dataclass(frozen=True)
class FieldProblem:
    """One input problem: which field (and row, for imports), and a German message."""

    message: str
    field: str | None = None
    row: int | None = None
    pointer: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "row": self.row, "pointer": self.pointer, "message": self.message}


class ApiProblem(Exception):
    """Raise in an API view to answer with a problem document (handled by the API blueprint)."""

    def __init__(self, status: int, detail: str | None = None, *, errors: list[FieldProblem] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail or PROBLEM_TYPES.get(status, PROBLEM_TYPES[500])[2])
        self.status = status
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


def problem_type_url(status: int) -> str:
    """The `type` URI of a status: its explanation in the API documentation."""
    slug = PROBLEM_TYPES.get(status, PROBLEM_TYPES[500])[0]
    try:
        return url_for("api.docs", _external=True, _anchor=f"problem-{slug}")
    except Exception:  # the API blueprint is not registered (optional area): still a stable identifier
        return f"{request.url_root}api/docs#problem-{slug}"


def problem_response(status: int, detail: str | None = None, *, errors: list[FieldProblem] | None = None,
                     headers: dict[str, str] | None = None) -> Response:
    """A complete `application/problem+json` response."""
    _slug, title, default_detail = PROBLEM_TYPES.get(status, ("", "Fehler", PROBLEM_TYPES[500][2]))
    body: dict[str, Any] = {
        "type": problem_type_url(status),
        "title": title,
        "status": status,
        "detail": detail or default_detail,
        "instance": request.path,
    }
    if errors:
        body["errors"] = [e.as_json() for e in errors]
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_MIMETYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="gruppenboerse-api"')
    return response


def field_problems(field_errors: dict[str, str], *, aliases: dict[str, str] | None = None,
                   row: int | None = None, prefix: str = "") -> list[FieldProblem]:
    """A use case's {field: message} as problems; `aliases` maps form names to API field names."""
    problems = []
    for key, message in field_errors.items():
        name = (aliases or {}).get(key, key)
        if "-" in name and name.rsplit("-", 1)[1].isdigit():  # "sessions-2" → sessions/2
            base, index = name.rsplit("-", 1)
            name, pointer = f"{base}[{index}]", f"{prefix}/{base}/{index}"
        else:
            pointer = f"{prefix}/{name}"
        problems.append(FieldProblem(message=message, field=name, row=row, pointer=pointer))
    return problems
