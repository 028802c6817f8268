"""One URL, two answers: the full page for a normal request, a fragment for htmx."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from .security import is_htmx


def wants_fragment() -> bool:
    """True when htmx asks for a piece of the page (not a boosted navigation or a history restore)."""
    return (
        is_htmx()
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render_page(page: str, fragment: str, **context: Any) -> str:
    """Render `fragment` for htmx requests and `page` (which includes the fragment) otherwise.

    The response varies on HX-Request; the app-wide header hook sends `Vary: HX-Request`.
    """
    return render_template(fragment if wants_fragment() else page, **context)
