"""The JSON API (blueprint `api`): `/api/v1/...`, the OpenAPI document and its documentation page.

- `/api/v1/...` authenticates by personal API token only (`Authorization: Bearer gb_…`, see
  `marketplace.api_tokens`); cookies are ignored there, so there is nothing to forge and the
  blueprint is exempt from CSRF. A token acts as its user: every view declares its roles with
  `require_role` and checks records with the predicates of `marketplace.access`, exactly like the
  web UI. A read-only token cannot write (403).
- `/api/openapi.json` (OpenAPI 3.1, generated: `openapi.py`) and `/api/docs` (the same document
  rendered as HTML on the server, works offline) need a login (browser session or token).
- Errors are RFC 9457 problem details (`marketplace.web.problems`).

Modules: `registry` (the `operation` decorator and the route records), `http` (bodies, queries,
pagination, ETag/If-Match), `schemas` (types), `respond` (answers), one module per area.
"""

from __future__ import annotations

from flask import Response, render_template
from flask_login import current_user

from ...access import require_login
from ...case_import import COLUMNS as CASE_COLUMNS
from ...case_import import REQUIRED as CASE_REQUIRED
from ...offer_io import COLUMNS as OFFER_COLUMNS
from ..problems import PROBLEM_TYPES, ApiProblem, problem_response
from ..security import csrf
from . import attendance, offers, placements, reading, reports, young_people  # noqa: F401  (register routes)
from .docs import docs_context
from .openapi import openapi_spec
from .registry import OPERATIONS, bp
from .respond import json_response

__all__ = ["OPERATIONS", "bp"]

csrf.exempt(bp)


@bp.errorhandler(ApiProblem)
def _api_problem(problem: ApiProblem) -> Response:
    return problem_response(problem.status, problem.detail, errors=problem.errors, headers=problem.headers)


@bp.route("/openapi.json")
@require_login
def openapi_json() -> Response:
    """The OpenAPI 3.1 document of /api/v1 (generated from the route registry and the models)."""
    return json_response(openapi_spec())


@bp.route("/docs")
@require_login
def docs() -> str:
    """The API documentation, rendered on the server from the OpenAPI document (no scripts, works offline)."""
    return render_template("api/docs.html", **docs_context(openapi_spec()), problems=PROBLEM_TYPES,
                           offer_columns=OFFER_COLUMNS, case_columns=CASE_COLUMNS, case_required=CASE_REQUIRED,
                           user=current_user)
