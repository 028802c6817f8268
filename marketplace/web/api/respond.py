"""Answers of the API views: JSON bodies, pages with `Link` headers, records with `ETag`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from flask import Response
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlmodel import Session

from ..problems import ApiProblem, FieldProblem, field_problems
from .http import PageInfo, etag_for, page_links
from .schemas import PageQuery


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """`data` (a pydantic model or plain JSON data) as an application/json response."""
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    response = Response(json.dumps(data, ensure_ascii=False), status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def record_response(data: BaseModel, kind: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A single versioned record with its ETag (the `If-Match` value for the next change)."""
    tag = etag_for(kind, data.id, data.version)  # type: ignore[attr-defined]
    return json_response(data, status, {"ETag": tag, **(headers or {})})


def paginate(session: Session, query: Any, params: PageQuery) -> tuple[Sequence[Any], PageInfo]:
    """One page of `query` (a select of rows; ordered by the caller) and the page facts."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    info = PageInfo(page=params.page, per_page=params.per_page, total=int(total or 0))
    rows = session.exec(query.offset(info.offset).limit(info.per_page)).all()
    return rows, info


def page_response(items: list[BaseModel], info: PageInfo) -> Response:
    """A page of items: body with `next`/`prev`, and the RFC 8288 `Link` header."""
    urls, headers = page_links(info)
    body = {"items": [item.model_dump(mode="json") for item in items], "page": info.page,
            "per_page": info.per_page, "total": info.total, "next": urls["next"], "prev": urls["prev"]}
    return json_response(body, headers=headers)


def refused(field_errors: dict[str, str], *, aliases: dict[str, str] | None = None,
            conflict_keys: tuple[str, ...] = ("status",), stale_keys: tuple[str, ...] = ("version",),
            missing_keys: tuple[str, ...] = ()) -> ApiProblem:
    """The problem for a use case's refusal: 412 stale version, 409 state conflict, 404 gone, else 422."""
    keys = set(field_errors)
    problems = field_problems(field_errors, aliases=aliases)
    if keys & set(stale_keys):
        return ApiProblem(412, next(field_errors[k] for k in stale_keys if k in field_errors))
    if keys & set(missing_keys):
        return ApiProblem(404, next(field_errors[k] for k in missing_keys if k in field_errors))
    if keys & set(conflict_keys):
        return ApiProblem(409, next(field_errors[k] for k in conflict_keys if k in field_errors), errors=problems)
    return ApiProblem(422, errors=problems)


def message_problem(status: int, message: str, field: str | None = None) -> ApiProblem:
    """A problem with one German message (and, for 422, the field it belongs to)."""
    errors = [FieldProblem(message=message, field=field, pointer=f"/{field}" if field else None)]
    return ApiProblem(status, message, errors=errors if status == 422 else None)
