"""The OpenAPI document is generated (from the routes and the UI's input models) and documented offline."""

from __future__ import annotations

import dataclasses
import re

from marketplace import case_rules, offer_input
from tests.web.conftest import login

from .conftest import District

API_RULES = re.compile(r"^/api/v1/")


def test_document_is_openapi_3_1_and_covers_every_route(shared_app):
    district: District = shared_app.config["TEST_DISTRICT"]
    spec = shared_app.test_client().get("/api/openapi.json", headers=district.headers("caseworker")).get_json()
    assert spec["openapi"] == "3.1.0"
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "Persönlicher API-Schlüssel (gb_…)."}
    documented = {(method.upper(), path) for path, methods in spec["paths"].items() for method in methods}
    routes = set()
    for rule in shared_app.url_map.iter_rules():
        if API_RULES.match(rule.rule):
            path = "/" + re.sub(r"<(?:[^:>]+:)?([a-z_]+)>", r"{\1}", rule.rule).lstrip("/")
            routes |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routes
    for methods in spec["paths"].values():
        for op in methods.values():
            assert op["x-roles"] and op["summary"] and "401" in op["responses"] and "403" in op["responses"]


def test_input_schemas_are_the_ui_models(shared_app):
    district: District = shared_app.config["TEST_DISTRICT"]
    spec = shared_app.test_client().get("/api/openapi.json", headers=district.headers("planner")).get_json()
    schemas = spec["components"]["schemas"]
    for name, model in (("OfferInput", offer_input.OfferInput), ("CaseFields", case_rules.CaseFields),
                        ("SessionSlot", offer_input.SessionSlot)):
        assert set(schemas[name]["properties"]) == {f.name for f in dataclasses.fields(model)}, name
        assert schemas[name]["additionalProperties"] is False
    required = set(schemas["OfferInput"]["required"])
    assert required == {f.name for f in dataclasses.fields(offer_input.OfferInput)
                        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    post = spec["paths"]["/api/v1/offers"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert post == {"$ref": "#/components/schemas/OfferInput"}
    put = spec["paths"]["/api/v1/offers/{offer_id}"]["put"]
    assert {"412", "428"} <= set(put["responses"]) and any(p["name"] == "If-Match" for p in put["parameters"])
    assert "ETag" in put["responses"]["200"]["headers"]
    assert "Link" in spec["paths"]["/api/v1/offers"]["get"]["responses"]["200"]["headers"]
    imports = spec["paths"]["/api/v1/young-people/import"]["post"]["requestBody"]["content"]
    assert {"application/json", "text/csv"} <= set(imports)


def test_document_and_docs_need_a_login(client):
    assert client.get("/api/openapi.json").status_code == 401
    response = client.get("/api/docs")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_docs_page_renders_the_document_offline(app, client, users):
    login(client, users["caseworker"])
    response = client.get("/api/docs")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    for path in ("/api/v1/offers", "/api/v1/young-people/{young_person_id}", "/api/v1/placements/{placement_id}/accept",
                 "/api/v1/statements/{month}"):
        assert path in page
    assert 'id="schema-OfferInput"' in page and 'id="problem-veraltete-fassung"' in page
    assert "Verrechnungssatz in Cent je Teilnahmestunde." in page
    # offline and CSP-clean: no external resources, no inline scripts or styles
    assert not re.search(r'(src|href)="https?://', page)
    assert "<script>" not in page and "style=" not in page
    assert "<script" not in page.split("</head>", 1)[1]


def test_problem_types_link_to_the_docs(app, district):
    body = app.test_client().get("/api/v1/offers/999999", headers=district.headers("planner")).get_json()
    assert body["type"] == "http://localhost/api/docs#problem-nicht-gefunden"
