"""HTTP details of the API: reading bodies and query strings, German validation messages,
pagination (page/per_page, `Link` header) and optimistic locking (`ETag` / `If-Match`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from flask import request
from pydantic import BaseModel, TypeAdapter, ValidationError

from ..problems import ApiProblem, FieldProblem

#: Largest integer the API accepts anywhere (ids and counts fit the database's 32-bit integers).
MAX_INT = 2**31 - 1
MAX_TABLE_BYTES = 2 * 1024 * 1024
TABLE_MIMETYPES = {
    "text/csv": "api.csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "api.xlsx",
}


@dataclass(frozen=True)
class Table:
    """A bulk upload sent as a table (CSV or XLSX) instead of JSON."""

    filename: str
    data: bytes


# --------------------------------------------------------------------------- German messages


def _expected(ctx: dict[str, Any]) -> str:
    return str(ctx.get("expected", "")).replace("'", "„", 1).replace("'", "“", 1)


def german_message(error: dict[str, Any]) -> str:
    """A German message for one pydantic error."""
    kind, ctx = error["type"], error.get("ctx") or {}
    messages = {
        "missing": "Pflichtangabe fehlt.",
        "extra_forbidden": "Unbekanntes Feld. Bitte senden Sie nur die dokumentierten Felder (keine Namen).",
        "unexpected_keyword_argument": "Unbekanntes Feld. Bitte senden Sie nur die dokumentierten Felder "
                                       "(keine Namen).",
        "missing_argument": "Pflichtangabe fehlt.",
        "int_type": "Bitte eine ganze Zahl angeben.",
        "int_parsing": "Bitte eine ganze Zahl angeben.",
        "int_from_float": "Bitte eine ganze Zahl angeben (ohne Nachkommastellen).",
        "float_type": "Bitte eine Zahl angeben.",
        "float_parsing": "Bitte eine Zahl angeben.",
        "finite_number": "Bitte eine endliche Zahl angeben.",
        "bool_type": "Bitte true oder false angeben.",
        "bool_parsing": "Bitte true oder false angeben.",
        "string_type": "Bitte einen Text angeben.",
        "date_type": "Bitte ein Datum im Format JJJJ-MM-TT angeben.",
        "date_parsing": "Bitte ein Datum im Format JJJJ-MM-TT angeben.",
        "date_from_datetime_parsing": "Bitte ein Datum im Format JJJJ-MM-TT angeben.",
        "date_from_datetime_inexact": "Bitte ein Datum ohne Uhrzeit angeben (JJJJ-MM-TT).",
        "list_type": "Bitte eine Liste angeben.",
        "tuple_type": "Bitte eine Liste angeben.",
        "dict_type": "Bitte ein Objekt angeben.",
        "model_type": "Bitte ein Objekt angeben.",
        "model_attributes_type": "Bitte ein Objekt angeben.",
        "dataclass_type": "Bitte ein Objekt angeben.",
        "dataclass_exact_type": "Bitte ein Objekt angeben.",
        "none_required": "Dieses Feld muss leer (null) sein.",
    }
    if kind in messages:
        return messages[kind]
    if kind in ("enum", "literal_error"):
        return f"Erlaubte Werte: {_expected(ctx)}."
    if kind in ("greater_than_equal", "greater_than"):
        return f"Der Wert muss {'mindestens' if kind.endswith('equal') else 'größer als'} " \
               f"{ctx.get('ge', ctx.get('gt'))} sein."
    if kind in ("less_than_equal", "less_than"):
        return f"Der Wert darf {'höchstens' if kind.endswith('equal') else 'nur kleiner als'} " \
               f"{ctx.get('le', ctx.get('lt'))} sein."
    if kind == "string_too_long":
        return f"Höchstens {ctx.get('max_length')} Zeichen."
    if kind == "string_too_short":
        return f"Mindestens {ctx.get('min_length')} Zeichen."
    if kind == "too_long":
        return f"Höchstens {ctx.get('max_length')} Einträge."
    if kind == "too_short":
        return f"Mindestens {ctx.get('min_length')} Einträge."
    if kind == "string_pattern_mismatch":
        return "Das Format stimmt nicht."
    return "Ungültiger Wert."


def problems_from(error: ValidationError, *, row_offset: int | None = None, in_body: bool = True) -> list[FieldProblem]:
    """Field problems for a pydantic `ValidationError` (German; JSON pointers into the body when `in_body`).

    With `row_offset`, the first path element is a list index: it becomes `row` (index + offset).
    """
    problems = []
    for item in error.errors(include_url=False):
        loc = list(item["loc"])
        row = None
        if row_offset is not None and loc and isinstance(loc[0], int):
            row = loc[0] + row_offset
        field_parts = loc[1:] if row is not None else loc
        name = ".".join(str(p) for p in field_parts) or None
        pointer = ("/" + "/".join(str(p) for p in loc) if loc else "") if in_body else None
        problems.append(FieldProblem(message=german_message(item), field=name, row=row, pointer=pointer))
    return problems


def scan_json(value: Any, path: tuple[Any, ...] = ()) -> list[FieldProblem]:
    """Problems no type check catches: integers beyond the database's range, infinite or NaN
    numbers, NUL characters and unpaired surrogates in texts (PostgreSQL and UTF-8 refuse them)."""
    problems: list[FieldProblem] = []

    def report(message: str) -> None:
        pointer = "/" + "/".join(str(p) for p in path) if path else ""
        name = ".".join(str(p) for p in path) or None
        problems.append(FieldProblem(message=message, field=name, pointer=pointer))

    if isinstance(value, bool) or value is None:
        return problems
    if isinstance(value, int):
        if abs(value) > MAX_INT:
            report(f"Die Zahl ist zu groß (höchstens {MAX_INT}).")
    elif isinstance(value, float):
        if not math.isfinite(value):
            report("Bitte eine endliche Zahl angeben.")
    elif isinstance(value, str):
        if "\x00" in value:
            report("Der Text enthält ein ungültiges Steuerzeichen.")
        else:
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                report("Der Text enthält ungültige Zeichen.")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problems += scan_json(item, (*path, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            problems += scan_json(item, (*path, key))
    return problems


# --------------------------------------------------------------------------- bodies and queries


def _adapter(kind: Any) -> TypeAdapter:
    cache = _adapter.__dict__.setdefault("cache", {})
    if kind not in cache:
        cache[kind] = TypeAdapter(kind)
    return cache[kind]


def validate_value(kind: Any, raw: Any, *, row_offset: int | None = None) -> Any:
    """`raw` (parsed JSON) validated as `kind`; 422 with every problem otherwise."""
    problems = scan_json(raw)
    if problems:
        raise ApiProblem(422, errors=problems)
    try:
        return _adapter(kind).validate_python(raw)
    except ValidationError as error:
        raise ApiProblem(422, errors=problems_from(error, row_offset=row_offset)) from None


def parse_json_body(kind: Any, *, allow_table: bool = False) -> Any:
    """The request body validated as `kind`, or (with `allow_table`) a `Table` for CSV/XLSX bodies."""
    mimetype = request.mimetype
    if allow_table and mimetype in TABLE_MIMETYPES:
        data = request.get_data(cache=False)
        if len(data) > MAX_TABLE_BYTES:
            raise ApiProblem(413, f"Die Tabelle ist größer als {MAX_TABLE_BYTES // (1024 * 1024)} MB.")
        return Table(filename=TABLE_MIMETYPES[mimetype], data=data)
    if mimetype != "application/json":
        allowed = "application/json" + (", text/csv" if allow_table else "")
        raise ApiProblem(415, f"Bitte senden Sie die Daten als {allowed} (Content-Type).")
    try:
        raw = json.loads(request.get_data(cache=True) or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiProblem(400, "Der Inhalt ist kein gültiges JSON.") from None
    return validate_value(kind, raw, row_offset=1 if allow_table else None)


def parse_query(model: type[BaseModel]) -> BaseModel:
    """The query string validated as `model` (422 with German messages otherwise)."""
    raw = {key: request.args.get(key) for key in request.args if request.args.get(key) != ""}
    problems = [replace(p, pointer=None) for p in scan_json(raw)]
    if problems:
        raise ApiProblem(422, errors=problems)
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise ApiProblem(422, "Bitte prüfen Sie die Parameter der Adresse.",
                         errors=problems_from(error, in_body=False)) from None


# --------------------------------------------------------------------------- pagination


@dataclass(frozen=True)
class PageInfo:
    page: int
    per_page: int
    total: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def last_page(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def page_url(page: int) -> str:
    """The current URL with another `page`."""
    args = {key: request.args.get(key) for key in request.args}
    args["page"] = str(page)
    return f"{request.base_url}?{urlencode(args)}"


def page_links(info: PageInfo) -> tuple[dict[str, str | None], dict[str, str]]:
    """`next`/`prev` URLs for the body and the RFC 8288 `Link` header."""
    urls: dict[str, str | None] = {
        "first": page_url(1), "last": page_url(info.last_page),
        "next": page_url(info.page + 1) if info.page < info.last_page else None,
        "prev": page_url(info.page - 1) if 1 < info.page <= info.last_page + 1 else None,
    }
    link = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in urls.items() if url)
    return urls, {"Link": link}


# --------------------------------------------------------------------------- ETag and If-Match


def etag_for(kind: str, record_id: int, version: int) -> str:
    """The (strong) entity tag of a versioned record, quoted, e.g. "offer-12-v3"."""
    return f'"{kind}-{record_id}-v{version}"'


_TAG = re.compile(r'^(?:W/)?"([a-z_]+)-(\d+)-v(\d+)"$')


def if_match_version(kind: str, record_id: int, current: int) -> int:
    """The version the client last read, from `If-Match`: 428 when missing, 412 when stale or foreign."""
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        raise ApiProblem(428)
    for raw in header.split(","):
        match = _TAG.match(raw.strip())
        if match and match.group(1) == kind and int(match.group(2)) == record_id:
            version = int(match.group(3))
            if version != current:
                raise ApiProblem(412)
            return version
    raise ApiProblem(412, "Das ETag in „If-Match“ gehört nicht zu diesem Datensatz. Bitte rufen Sie ihn neu ab.")
