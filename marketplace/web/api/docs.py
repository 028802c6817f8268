"""The documentation page's view of the OpenAPI document: operations by tag, schemas as field tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .openapi import ROLE_LABELS


@dataclass
class FieldDoc:
    name: str
    type: str
    ref: str | None
    required: bool
    description: str


@dataclass
class SchemaDoc:
    name: str
    description: str
    fields: list[FieldDoc] = field(default_factory=list)


@dataclass
class OperationDoc:
    anchor: str
    method: str
    path: str
    summary: str
    description: str
    roles: list[str]
    parameters: list[FieldDoc]
    body: list[tuple[str, str, str | None]]  # (media type, type text, schema link)
    responses: list[tuple[str, str, str, str | None]]  # (status, description, type text, schema link)


def type_text(schema: dict[str, Any]) -> tuple[str, str | None]:
    """A short type description of a JSON schema and the component it refers to (if any)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return name, name
    if "anyOf" in schema:
        parts = [type_text(s) for s in schema["anyOf"]]
        ref = next((r for _t, r in parts if r), None)
        return " | ".join(t for t, _r in parts), ref
    if "enum" in schema:
        return " | ".join(f"„{v}“" for v in schema["enum"]), None
    if "const" in schema:
        return f"„{schema['const']}“", None
    kind = schema.get("type", "beliebig")
    if kind == "array":
        if "prefixItems" in schema:
            inner = ", ".join(type_text(s)[0] for s in schema["prefixItems"])
            return f"[{inner}]", None
        inner, ref = type_text(schema.get("items", {}))
        return f"Liste von {inner}", ref
    if kind == "string" and "format" in schema:
        return f"string ({schema['format']})", None
    if kind == "object" and "additionalProperties" in schema and isinstance(schema["additionalProperties"], dict):
        return "Objekt", None
    return str(kind), None


def code_parts(text: str) -> list[tuple[bool, str]]:
    """`text` split at backticks: (is code, part) pairs, for rendering `code` spans safely."""
    return [(i % 2 == 1, part) for i, part in enumerate(text.split("`")) if part]


def _schema_docs(components: dict[str, Any]) -> list[SchemaDoc]:
    docs = []
    for name, schema in sorted(components.items()):
        required = set(schema.get("required", []))
        fields = []
        for prop_name, prop in schema.get("properties", {}).items():
            text, ref = type_text(prop)
            fields.append(FieldDoc(prop_name, text, ref, prop_name in required, prop.get("description", "")))
        docs.append(SchemaDoc(name, schema.get("description", ""), fields))
    return docs


def docs_context(spec: dict[str, Any]) -> dict[str, Any]:
    """What the template needs: operations grouped by tag, and the schemas."""
    groups: dict[str, list[OperationDoc]] = {t["name"]: [] for t in spec.get("tags", [])}
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            parameters = []
            for p in op.get("parameters", []):
                text, ref = type_text(p.get("schema", {}))
                parameters.append(FieldDoc(f"{p['name']} ({p['in']})", text, ref, p.get("required", False),
                                           p.get("description", "")))
            body = []
            for media, content in op.get("requestBody", {}).get("content", {}).items():
                text, ref = type_text(content.get("schema", {}))
                body.append((media, text, ref))
            responses = []
            for status, response in op["responses"].items():
                schema = next(iter(response.get("content", {}).values()), {}).get("schema", {})
                text, ref = type_text(schema) if schema else ("", None)
                responses.append((status, response["description"], text, ref))
            groups.setdefault(op["tags"][0], []).append(OperationDoc(
                anchor=op["operationId"], method=method.upper(), path=path, summary=op["summary"],
                description=op.get("description", "").split("\n\nBerechtigt:")[0],
                roles=[ROLE_LABELS[r] for r in op.get("x-roles", [])], parameters=parameters, body=body,
                responses=responses,
            ))
    return {"spec": spec, "groups": groups, "schemas": _schema_docs(spec["components"]["schemas"]),
            "code_parts": code_parts}
