"""The request-wide refusal of control characters (see `marketplace.control_characters`).

Every request of the pages (not the JSON API, which reports such texts in its own problem
documents) is answered with 400 and a German message, before the view runs, when a query
parameter, a form field's name or value, an upload's field name or its file name holds a
control character. So no view can pass a NUL character on to PostgreSQL, whatever it reads.

Views whose forms report such a value at the field themselves (the offer editor, the case
forms, the Flask-WTF forms) are marked `@checks_text_fields`: for them the form *values* are
left to the view, which answers 422 with the message next to the field. Query strings, field
names and file names are checked for them as well.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, request

from ..control_characters import any_control_characters, has_control_characters
from .security import TOKEN_ONLY_PREFIX

F = TypeVar("F", bound=Callable[..., Any])

#: Attribute set on view functions by `checks_text_fields` (copied by `functools.wraps`).
ATTR = "_checks_text_fields"

MESSAGE = (
    "Die Anfrage enthält unzulässige Steuerzeichen (zum Beispiel ein Nullzeichen). Bitte entfernen Sie "
    "diese Zeichen aus Ihren Eingaben und versuchen Sie es erneut."
)


def checks_text_fields(view: F) -> F:
    """Mark a view whose form reports control characters at the field (the guard skips form values)."""
    setattr(view, ATTR, True)
    return view


def refused_parts() -> list[str]:
    """Where the current request holds control characters: "query:<name>", "form:<name>", "file:<name>"."""
    parts = []
    for key, value in request.args.items(multi=True):
        if has_control_characters(key) or has_control_characters(value):
            parts.append(f"query:{key!r}")
    view = current_app.view_functions.get(request.endpoint or "")
    values_checked_by_view = getattr(view, ATTR, False)
    for key in request.form.keys():
        if has_control_characters(key) or (
            not values_checked_by_view and any_control_characters(request.form.getlist(key))
        ):
            parts.append(f"form:{key!r}")
    for key, upload in request.files.items(multi=True):
        if has_control_characters(key) or has_control_characters(upload.filename or ""):
            parts.append(f"file:{key!r}")
    return parts


def refuse_control_characters() -> None:
    """before_request: 400 with a German message when the request holds control characters."""
    if request.path.startswith(TOKEN_ONLY_PREFIX) or request.endpoint is None:
        return
    parts = refused_parts()
    if parts:
        current_app.logger.info(
            "refused control characters in %s %s: %s", request.method, request.path, ", ".join(parts)
        )
        abort(400, MESSAGE)


def init_app(app: Flask) -> None:
    """Install the check after the access guard and CSRF protection (a denied request stays denied)."""
    app.before_request(refuse_control_characters)
