"""The API's route registry: one decorator declares a route, its access rule and its contract.

`operation(...)` registers the view on the `api` blueprint under `/api/v1`, wraps it in
`require_role(...)` (the same deny-by-default declaration the web UI uses) and records an
`Operation`: the typed request body, query parameters and response, the success status and
whether it needs `If-Match` or sends an `ETag`. The OpenAPI document (`openapi.py`) is generated
from these records, and the decorator itself validates the body and the query string with the
same types, so spec and behaviour cannot drift apart.

Views receive `payload=` (the validated body) and `params=` (the validated query) as keyword
arguments when declared, and return `(data, status, headers)` or a `Response`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Blueprint, g, request
from pydantic import BaseModel

from ...access import require_role
from ...models import Role, TokenScope
from ..problems import ApiProblem
from .http import parse_json_body, parse_query

bp = Blueprint("api", __name__, url_prefix="/api")

API_PREFIX = "/v1"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ALL_ROLES = (Role.coordinator, Role.caseworker, Role.planner, Role.admin)


@dataclass(frozen=True)
class Operation:
    """One API operation as the OpenAPI document describes it."""

    endpoint: str  # "api.<view name>"
    rule: str  # the Flask rule below /api, e.g. "/v1/offers/<int(max=2147483647):offer_id>"
    method: str
    summary: str  # German, shown in the documentation
    description: str
    tag: str
    roles: frozenset[str]
    response: Any = None  # type of the success body (pydantic model or any type a TypeAdapter takes)
    status: int = 200
    body: Any = None  # type of the JSON request body
    body_csv: bool = False  # the body may also be a CSV (or XLSX) table
    query: type[BaseModel] | None = None
    paginated: bool = False
    etag: bool = False  # the success answer carries an ETag
    if_match: bool = False  # the request needs If-Match (412 stale, 428 missing)
    errors: tuple[int, ...] = field(default=())
    alt_status: int | None = None  # a second success status (e.g. 200 when an existing record is reused)

    @property
    def writes(self) -> bool:
        return self.method not in SAFE_METHODS


#: Every registered operation, in registration order (the documentation's order).
OPERATIONS: list[Operation] = []


def operation(rule: str, *, method: str = "GET", roles: tuple[Role, ...], summary: str, tag: str,
              description: str = "", response: Any = None, status: int = 200, body: Any = None,
              body_csv: bool = False, query: type[BaseModel] | None = None, paginated: bool = False,
              etag: bool = False, if_match: bool = False, errors: tuple[int, ...] = (),
              alt_status: int | None = None) -> Callable:
    """Register an API view under `/api/v1<rule>` for `roles` (see the module docstring)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def handler(**kwargs: Any) -> Any:
            if query is not None:
                kwargs["params"] = parse_query(query)
            if body is not None:
                kwargs["payload"] = parse_json_body(body, allow_table=body_csv)
            return view(**kwargs)

        guarded = require_role(*roles)(handler)
        bp.add_url_rule(API_PREFIX + rule, endpoint=view.__name__, view_func=guarded, methods=[method])
        OPERATIONS.append(Operation(
            endpoint=f"{bp.name}.{view.__name__}", rule=API_PREFIX + rule, method=method, summary=summary,
            description=description or inspect.cleandoc(view.__doc__ or ""), tag=tag,
            roles=frozenset(r.value for r in roles), response=response, status=status, body=body,
            body_csv=body_csv, query=query, paginated=paginated, etag=etag, if_match=if_match, errors=errors,
            alt_status=alt_status,
        ))
        return guarded

    return decorator


@bp.before_request
def check_token_scope() -> None:
    """A read-only token may not write (403); writes need a token with scope read_write."""
    token = getattr(g, "api_token", None)
    if request.method in SAFE_METHODS or token is None:
        return
    if token.scope != TokenScope.read_write.value:
        raise ApiProblem(403, "Dieser API-Schlüssel darf nur lesen. Für Änderungen brauchen Sie einen "
                              "Schlüssel mit dem Umfang „lesen und schreiben“.")
