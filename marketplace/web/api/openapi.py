"""The OpenAPI 3.1 document, generated from the route registry and the pydantic/dataclass types.

Nothing here is written by hand per endpoint: paths, parameters, bodies and responses come from
the `Operation` records (`registry.py`), schemas from the very types the API validates with
(pydantic's JSON Schema, which OpenAPI 3.1 uses as is). Only German field descriptions for the
input models (`FIELD_DOCS`) and the integer range the database takes are added.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from pydantic import TypeAdapter

from ...models import Role
from ..problems import PROBLEM_MIMETYPE, PROBLEM_TYPES
from .http import MAX_INT, TABLE_MIMETYPES
from .registry import OPERATIONS, Operation
from .schemas import Problem

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"
REF = "#/components/schemas/{model}"
ROLE_LABELS = {Role.coordinator.value: "Koordination (Träger)", Role.caseworker.value: "ASD-Fachkraft",
               Role.planner.value: "Jugendhilfeplanung", Role.admin.value: "Administration"}
STATUS_TEXT = {200: "OK", 201: "Angelegt", 202: "Angenommen (läuft im Hintergrund)",
               400: PROBLEM_TYPES[400][1], 401: PROBLEM_TYPES[401][1],
               403: PROBLEM_TYPES[403][1], 404: PROBLEM_TYPES[404][1], 409: PROBLEM_TYPES[409][1],
               412: PROBLEM_TYPES[412][1], 413: PROBLEM_TYPES[413][1], 415: PROBLEM_TYPES[415][1],
               422: PROBLEM_TYPES[422][1], 428: PROBLEM_TYPES[428][1]}

#: German descriptions of the input models' fields (the models are the web forms' own dataclasses).
FIELD_DOCS: dict[str, dict[str, str]] = {
    "OfferInput": {
        "title": "Titel (höchstens 200 Zeichen).",
        "municipality_id": "Gemeinde, in der die Gruppe stattfindet (id aus /api/v1/catalogue).",
        "first_date": "Erster Termin.",
        "seats": "Plätze (1–200; nicht unter den belegten Plätzen).",
        "age_min": "Mindestalter (0–27).",
        "age_max": "Höchstalter (0–27, nicht unter dem Mindestalter).",
        "category_ids": "Kategorien (mindestens eine; ids aus /api/v1/catalogue).",
        "sessions": "Wöchentliche Termine (1–14, Viertelstundenraster, ohne Überschneidung).",
        "description": "Beschreibung (höchstens 5000 Zeichen).",
        "genders": "Leer = alle; sonst eine Auswahl aus f, m, d in dieser Reihenfolge, z. B. „f,d“.",
        "last_date": "Letzter Termin (leer = offenes Ende).",
        "address": "Straße und Hausnummer.",
        "lat": "Breitengrad (mit lon; leer = Ortsmitte; im Landkreis).",
        "lon": "Längengrad (mit lat).",
        "min_size": "Mindestgröße (1 bis Plätze).",
        "entry_mode": "„open“ (Einstieg jederzeit) oder „closed“ (feste Gruppe).",
        "staff_mix": "Personal, z. B. „Sozialpädagogin + Sporttrainer“.",
        "multi_professional": "Multiprofessionelles Team (zertifiziertes Merkmal).",
        "offset_rate_cents": "Verrechnungssatz in Cent je Teilnahmestunde.",
    },
    "SessionSlot": {
        "weekday": "0 = Montag … 6 = Sonntag.",
        "start_minute": "Beginn in Minuten nach Mitternacht (z. B. 900 = 15:00).",
        "end_minute": "Ende in Minuten nach Mitternacht.",
        "id": "Bestehender Termin (beim Ändern: behält ihn und seine Anwesenheiten).",
    },
    "CaseFields": {
        "case_reference": "Aktenzeichen (nur für das Jugendamt sichtbar; keine Namen).",
        "birth_year": "Geburtsjahr (junge Menschen bis 27 Jahre).",
        "gender": "f, m oder d.",
        "municipality_id": "Wohnort (id aus /api/v1/catalogue).",
        "lat": "Genauer Wohnort, Breitengrad (optional, höchstens 10 km von der Ortsmitte).",
        "lon": "Genauer Wohnort, Längengrad.",
        "need_ids": "Bedarfe (Kategorien, mindestens eine).",
        "availability": "Freie Zeiten: [Wochentag 0–6, Beginn, Ende] in Minuten, Viertelstundenraster.",
        "max_travel_km": "Höchste zumutbare Fahrstrecke in km (bis 100).",
        "module_id": "Modul (bei Änderungen unverändert lassen oder leer).",
        "group_minutes_target": "Zielwert der Gruppenminuten pro Woche (leer = Vorgabe des Moduls).",
        "group_minutes_max": "Höchstwert der Gruppenminuten pro Woche (leer = Vorgabe des Moduls).",
        "lead_provider_id": "Federführender Träger.",
        "approval_start": "Beginn der Bewilligung.",
        "approval_end": "Ende der Bewilligung (optional).",
        "legal_basis": "Rechtsgrundlage, z. B. „§ 30“ oder „§ 35a“.",
        "priority": "1 normal, 2 lange wartend (3 Krise gilt nur für die Krisenintervention).",
        "risk_report_at": "Datum der Gefährdungsmeldung nach § 8a SGB VIII (nur Krisenintervention).",
        "preferred_offer_ids": "Gewünschte Gruppen (Wunsch- und Wahlrecht).",
        "excluded_offer_ids": "Ausgeschlossene Gruppen.",
        "keep_apart_ids": "Nicht zusammen mit (laufende Fälle des eigenen Teams).",
    },
}


def _name(key: str) -> str:
    """A component name OpenAPI accepts (pydantic names generics "Page[OfferOut]")."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", key).strip("_")


def _bound_integers(node: Any) -> None:
    """Every integer without a range gets the database's range (what the API accepts)."""
    if isinstance(node, dict):
        if node.get("type") == "integer":
            node.setdefault("minimum", -MAX_INT)
            node.setdefault("maximum", MAX_INT)
        for value in node.values():
            _bound_integers(value)
    elif isinstance(node, list):
        for value in node:
            _bound_integers(value)


def _rename_refs(node: Any, names: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {k: (REF.format(model=names.get(v.rsplit("/", 1)[1], v.rsplit("/", 1)[1]))
                    if k == "$ref" and isinstance(v, str) else _rename_refs(v, names)) for k, v in node.items()}
    if isinstance(node, list):
        return [_rename_refs(v, names) for v in node]
    return node


def _schemas() -> tuple[dict[tuple[str, str], Any], dict[str, Any]]:
    """JSON schemas of every body, response and the problem document, with shared definitions."""
    inputs: list[tuple[str, str, TypeAdapter]] = [("problem", "serialization", TypeAdapter(Problem))]
    for op in OPERATIONS:
        if op.body is not None:
            inputs.append((f"{op.endpoint}:body", "validation", TypeAdapter(op.body)))
        if op.response is not None:
            inputs.append((f"{op.endpoint}:response", "serialization", TypeAdapter(op.response)))
        if op.query is not None:
            inputs.append((f"{op.endpoint}:query", "validation", TypeAdapter(op.query)))
    mapping, definitions = TypeAdapter.json_schemas(inputs, ref_template=REF)
    defs = definitions.get("$defs", {})
    names = {key: _name(key) for key in defs}
    components = {names[k]: _rename_refs(v, names) for k, v in defs.items()}
    for model, docs in FIELD_DOCS.items():
        for field, text in docs.items():
            prop = components.get(model, {}).get("properties", {}).get(field)
            if prop is not None:
                prop["description"] = text
    _bound_integers(components)
    result = {}
    for (key, _mode), schema in mapping.items():
        schema = _rename_refs(schema, names)
        _bound_integers(schema)
        result[key] = schema
    return result, components


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """The OpenAPI path of a Flask rule and its path parameters."""
    params = []

    def replace(match: re.Match) -> str:
        converter, name = match.group(1), match.group(2)
        if converter and converter.startswith("int"):
            schema = {"type": "integer", "minimum": 1, "maximum": MAX_INT}
        elif converter and converter.startswith("any("):
            schema = {"type": "string", "enum": [v.strip() for v in converter[4:-1].split(",")]}
        elif name == "month":
            schema = {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}$", "examples": ["2025-03"]}
        elif name == "day":
            schema = {"type": "string", "format": "date", "examples": ["2025-03-05"]}
        else:
            schema = {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
        return "{" + name + "}"

    path = re.sub(r"<(?:([a-z]+(?:\([^)]*\))?):)?([a-z_]+)>", replace, rule)
    return "/api" + path, params


def _query_schema(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema: an optional parameter is absent rather than null."""
    schema = {k: v for k, v in prop.items() if k not in ("title", "description")}
    if schema.get("default", 0) is None:
        del schema["default"]
    options = [s for s in schema.pop("anyOf", []) if s != {"type": "null"}]
    if len(options) == 1:
        schema.update(options[0])
    elif options:
        schema["anyOf"] = options
    return schema


def _problem_response(status: int) -> dict[str, Any]:
    return {"description": STATUS_TEXT.get(status, "Fehler"),
            "content": {PROBLEM_MIMETYPE: {"schema": {"$ref": REF.format(model="Problem")}}}}


def _operation(op: Operation, schemas: dict[str, Any], components: dict[str, Any],
               path_params: list[dict[str, Any]]) -> dict[str, Any]:
    roles = ", ".join(ROLE_LABELS[r] for r in sorted(op.roles))
    spec: dict[str, Any] = {
        "operationId": op.endpoint.split(".", 1)[1], "summary": op.summary, "tags": [op.tag],
        "description": f"{op.description}\n\nBerechtigt: {roles}." + (
            " Schreibend: braucht einen Schlüssel „lesen und schreiben“." if op.writes else ""),
        "x-roles": sorted(op.roles),
    }
    parameters = list(path_params)
    if op.query is not None:
        query = schemas[f"{op.endpoint}:query"]
        if "$ref" in query:
            query = components[query["$ref"].rsplit("/", 1)[1]]
        required = set(query.get("required", []))
        for name, prop in query.get("properties", {}).items():
            parameters.append({"name": name, "in": "query", "required": name in required,
                               "description": prop.get("description", ""), "schema": _query_schema(prop)})
    if op.if_match:
        parameters.append({"name": "If-Match", "in": "header", "required": True,
                           "description": "ETag der zuletzt abgerufenen Fassung (aus GET), z. B. \"offer-12-v3\".",
                           "schema": {"type": "string"}})
    if parameters:
        spec["parameters"] = parameters
    if op.body is not None:
        content: dict[str, Any] = {"application/json": {"schema": schemas[f"{op.endpoint}:body"]}}
        if op.body_csv:
            for mimetype in TABLE_MIMETYPES:
                content[mimetype] = {"schema": {"type": "string", "contentMediaType": mimetype}}
        spec["requestBody"] = {"required": True, "content": content}
    success: dict[str, Any] = {"description": STATUS_TEXT.get(op.status, "OK")}
    if op.response is not None:
        success["content"] = {"application/json": {"schema": schemas[f"{op.endpoint}:response"]}}
    headers = {}
    if op.etag:
        headers["ETag"] = {"description": "Fassung des Datensatzes (für If-Match).", "schema": {"type": "string"}}
    if op.paginated:
        headers["Link"] = {"description": "Nachbarseiten (RFC 8288: next, prev, first, last).",
                           "schema": {"type": "string"}}
    if headers:
        success["headers"] = headers
    responses: dict[str, Any] = {str(op.status): success}
    if op.alt_status is not None:
        responses[str(op.alt_status)] = {**success, "description": "Bereits vorhanden (wiederverwendet)"}
    codes = {401, 403, *op.errors}
    if path_params:
        codes.add(404)
    if op.query is not None:
        codes.add(422)
    if op.body is not None:
        codes |= {400, 413, 415, 422}
    if op.writes:
        codes.add(409)
    if op.if_match:
        codes |= {412, 428}
    for code in sorted(codes):
        responses[str(code)] = _problem_response(code)
    responses["default"] = _problem_response(500)
    spec["responses"] = responses
    return spec


@cache
def _cached_spec() -> dict[str, Any]:
    schemas, components = _schemas()
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        path, params = _path(op.rule)
        paths.setdefault(path, {})[op.method.lower()] = _operation(op, schemas, components, params)
    for op in OPERATIONS:  # query models became parameters: they are no schemas of their own
        if op.query is not None:
            components.pop(op.query.__name__, None)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Gruppenbörse API",
            "version": API_VERSION,
            "description": (
                "JSON-API der Gruppenbörse für Fachverfahren der Jugendämter und Software der Träger. "
                "Anmeldung mit einem persönlichen API-Schlüssel (Benutzermenü → API-Zugänge): "
                "`Authorization: Bearer <Schlüssel>`. Es gelten dieselben Rollen- und Datensatzregeln wie "
                "in der Weboberfläche. Fehler sind Problem-Details nach RFC 9457."),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": tag} for tag in dict.fromkeys(op.tag for op in OPERATIONS)],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "Persönlicher API-Schlüssel (gb_…)."}},
        },
    }


def openapi_spec() -> dict[str, Any]:
    """The OpenAPI document (built once per process; the registry does not change at run time)."""
    return _cached_spec()
