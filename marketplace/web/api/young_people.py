"""API: young people (junge Menschen, Fälle), pseudonymous.

Same rules as the web UI: caseworkers see and change the cases of their own team, Jugendamt
planning reads all cases (`access.scope_young_people`/`can_view_young_person`); nobody else
sees case data. Every view is audited per case, like the case pages. `marketplace.cases`
registers, changes, changes the module, extends a crisis intervention and ends a case (each with
its reason and audit event); `marketplace.case_import` registers in bulk (all or nothing).
"""

from __future__ import annotations

from typing import Any

from flask import abort, url_for
from flask_login import current_user
from sqlmodel import select

from ... import case_import, cases
from ...access import can_view_young_person, ensure, get_or_404, scope_young_people
from ...db import get_session
from ...models import Role, YoungPerson
from ...timeutil import today_berlin
from ..problems import ApiProblem, FieldProblem, field_problems
from .http import Table, etag_for, if_match_version
from .registry import operation
from .respond import json_response, page_response, paginate, record_response, refused
from .schemas import (
    CaseBulk,
    CaseEndBody,
    CaseFields,
    CaseFlagOut,
    CrisisExtensionBody,
    ImportResult,
    ModuleChangeBody,
    ModuleChangeOut,
    Page,
    YoungPersonOut,
    YoungPersonQuery,
)

TAG = "Junge Menschen"
ID = "/<int(max=2147483647):young_person_id>"
READERS = (Role.caseworker, Role.planner)
WRITERS = (Role.caseworker,)
ALIASES = {"coordinates": "lat"}


def young_person_out(yp: YoungPerson) -> YoungPersonOut:
    """The API view of a case: its data as `CaseFields` names plus status, pseudonym and version."""
    fields = cases.case_fields_of(get_session(), yp)
    return YoungPersonOut(
        id=yp.id, pseudonym=yp.pseudonym, case_reference=yp.case_reference, status=yp.status, team_id=yp.team_id,
        caseworker_id=yp.caseworker_id, birth_year=yp.birth_year, age=today_berlin().year - yp.birth_year,
        gender=yp.gender, municipality_id=yp.municipality_id, lat=yp.lat, lon=yp.lon, need_ids=sorted(fields.need_ids),
        availability=[tuple(w) for w in fields.availability], max_travel_km=yp.max_travel_km, module_id=yp.module_id,
        group_minutes_target=yp.group_minutes_target, group_minutes_max=yp.group_minutes_max,
        lead_provider_id=yp.lead_provider_id, priority=yp.priority, approval_start=yp.approval_start,
        approval_end=yp.approval_end, legal_basis=yp.legal_basis, risk_report_at=yp.risk_report_at,
        crisis_ends_on=yp.crisis_ends_on, preferred_offer_ids=sorted(fields.preferred_offer_ids),
        excluded_offer_ids=sorted(fields.excluded_offer_ids), keep_apart_ids=sorted(fields.keep_apart_ids),
        version=yp.version, created_at=yp.created_at, updated_at=yp.updated_at,
    )


def _visible(young_person_id: int) -> YoungPerson:
    yp = get_or_404(get_session(), YoungPerson, young_person_id)
    ensure(can_view_young_person(current_user, yp))
    return yp


def _refused(error: cases.CaseError) -> ApiProblem:
    get_session().rollback()
    return refused(error.field_errors, aliases=ALIASES)


@operation("/young-people", roles=READERS, tag=TAG, summary="Junge Menschen auflisten", query=YoungPersonQuery,
           response=Page[YoungPersonOut], paginated=True)
def list_young_people(params: YoungPersonQuery) -> Any:
    """The cases of your team (ASD) or all cases (Jugendhilfeplanung), ordered by id. Audited per case."""
    session = get_session()
    query = scope_young_people(select(YoungPerson), current_user)
    if params.status == "open":
        query = query.where(YoungPerson.status.in_(cases.OPEN_CASE_STATUSES))
    elif params.status is not None:
        query = query.where(YoungPerson.status == params.status)
    rows, info = paginate(session, query.order_by(YoungPerson.id), params)
    items = [young_person_out(yp) for yp in rows]
    cases.audit_cases(session, current_user, [yp.id for yp in rows], object_type="young_person_list")
    return page_response(items, info)


@operation(f"/young-people{ID}", roles=READERS, tag=TAG, summary="Ein junger Mensch", response=YoungPersonOut,
           etag=True)
def get_young_person(young_person_id: int) -> Any:
    """One case (audited). The `ETag` is the `If-Match` value for changes."""
    yp = _visible(young_person_id)
    cases.audit_cases(get_session(), current_user, [yp.id])
    return record_response(young_person_out(yp), "young_person")


@operation("/young-people", method="POST", roles=WRITERS, tag=TAG, summary="Jungen Menschen registrieren",
           body=CaseFields, response=YoungPersonOut, status=201, etag=True)
def register_young_person(payload: CaseFields) -> Any:
    """Register an approved young person for your team (ASD). No names: the system makes a pseudonym."""
    try:
        yp = cases.register_young_person(get_session(), actor=current_user, fields=payload)
    except cases.CaseAccessError:
        abort(403)
    except cases.CaseError as error:
        raise _refused(error) from None
    location = url_for("api.get_young_person", young_person_id=yp.id)
    return record_response(young_person_out(yp), "young_person", 201, {"Location": location})


@operation(f"/young-people{ID}", method="PUT", roles=WRITERS, tag=TAG, summary="Falldaten ändern", body=CaseFields,
           response=YoungPersonOut, etag=True, if_match=True)
def update_young_person(young_person_id: int, payload: CaseFields) -> Any:
    """Replace a case's data (your team only; needs `If-Match`). The module is changed with a reason
    (`POST /api/v1/young-people/{id}/change-module`): `module_id` here must be the current one or empty."""
    yp = _visible(young_person_id)
    version = if_match_version("young_person", yp.id, yp.version)
    if payload.module_id not in (None, yp.module_id):
        raise ApiProblem(422, errors=[FieldProblem(
            message="Das Modul wird mit Begründung gewechselt (POST …/change-module), nicht hier.",
            field="module_id", pointer="/module_id")])
    try:
        yp = cases.update_young_person(get_session(), actor=current_user, young_person_id=yp.id, version=version,
                                       fields=payload)
    except cases.CaseAccessError:
        abort(403)
    except cases.CaseError as error:
        raise _refused(error) from None
    return record_response(young_person_out(yp), "young_person")


# --------------------------------------------------------------------------- module, crisis, end


def _changed(yp: YoungPerson) -> YoungPerson:
    """The case as a use case left it (re-read: the version was bumped in SQL)."""
    session = get_session()
    session.refresh(yp)
    return yp


@operation(f"/young-people{ID}/change-module", method="POST", roles=WRITERS, tag=TAG, summary="Modul wechseln",
           body=ModuleChangeBody, response=ModuleChangeOut, etag=True, if_match=True)
def change_module(young_person_id: int, payload: ModuleChangeBody) -> Any:
    """Change the module (Hilfeplan), as „Modul ändern“ in the web UI: your team only, with a reason, needs
    `If-Match`. Group minutes take the new module's defaults; a crisis module needs `risk_report_at` and sets
    priority 3 and the crisis end. When the active placements together exceed the new weekly maximum, each
    of them gets a warning (`flags`, kind `over_max`) and the caseworker is notified; no placement is ended."""
    yp = _visible(young_person_id)
    version = if_match_version("young_person", yp.id, yp.version)
    try:
        flags = cases.change_module(get_session(), actor=current_user, young_person_id=yp.id,
                                    module_id=payload.module_id, reason=payload.reason,
                                    risk_report_at=payload.risk_report_at, version=version)
    except cases.CaseAccessError:
        abort(403)
    except cases.CaseError as error:
        raise _refused(error) from None
    yp = _changed(yp)
    body = ModuleChangeOut(young_person=young_person_out(yp), flags=[
        CaseFlagOut(id=f.id, kind=f.kind, placement_id=f.placement_id, excess_minutes=f.excess_minutes,
                    created_at=f.created_at) for f in flags])
    return json_response(body, headers={"ETag": etag_for("young_person", yp.id, yp.version)})


@operation(f"/young-people{ID}/extend-crisis", method="POST", roles=WRITERS, tag=TAG,
           summary="Krisenintervention verlängern", body=CrisisExtensionBody, response=YoungPersonOut, etag=True,
           if_match=True)
def extend_crisis(young_person_id: int, payload: CrisisExtensionBody) -> Any:
    """Extend a running crisis intervention beyond its end, with a reason (your team only; needs `If-Match`).
    A case under review („Prüfung nötig“) becomes active again."""
    yp = _visible(young_person_id)
    if_match_version("young_person", yp.id, yp.version)
    try:
        # the use case bumps the version it loaded, which If-Match has just confirmed
        cases.extend_crisis(get_session(), actor=current_user, young_person_id=yp.id, until=payload.until,
                            reason=payload.reason)
    except cases.CaseAccessError:
        abort(403)
    except cases.CaseError as error:
        raise _refused(error) from None
    return record_response(young_person_out(_changed(yp)), "young_person")


@operation(f"/young-people{ID}/end", method="POST", roles=WRITERS, tag=TAG, summary="Hilfe beenden",
           body=CaseEndBody, response=YoungPersonOut, etag=True, if_match=True)
def end_case(young_person_id: int, payload: CaseEndBody) -> Any:
    """End the help, with a reason (your team only; needs `If-Match`): the case is ended, its active
    placements end and free their seats (the hosting providers are told), open requests are withdrawn and
    open warnings resolved. An ended case cannot be changed any more (409)."""
    yp = _visible(young_person_id)
    version = if_match_version("young_person", yp.id, yp.version)
    try:
        cases.end_case(get_session(), actor=current_user, young_person_id=yp.id, reason=payload.reason,
                       version=version)
    except cases.CaseAccessError:
        abort(403)
    except cases.CaseError as error:
        raise _refused(error) from None
    return record_response(young_person_out(_changed(yp)), "young_person")


@operation("/young-people/import", method="POST", roles=WRITERS, tag=TAG, summary="Junge Menschen importieren",
           body=CaseBulk, body_csv=True, response=ImportResult, status=201)
def import_young_people(payload: list[CaseFields] | Table) -> Any:
    """Register many young people for your team at once: a JSON array of `CaseFields`, or a CSV table
    (`Content-Type: text/csv`; columns: see the documentation). All or nothing: when any row has a
    problem, nothing is written and `errors` lists every problem with its `row` (JSON: position in the
    array from 1; CSV: the spreadsheet row, the header is row 1)."""
    session = get_session()
    try:
        if isinstance(payload, Table):
            created = case_import.import_case_table(session, actor=current_user, filename=payload.filename,
                                                    data=payload.data)
        else:
            created = case_import.import_cases(session, actor=current_user, rows=payload)
    except cases.CaseAccessError:
        abort(403)
    except case_import.CaseImportError as error:
        session.rollback()
        raise ApiProblem(422, "Die Tabelle wurde nicht importiert; es wurde nichts gespeichert.",
                         errors=[FieldProblem(message=e.message, field=e.column, row=e.row) for e in error.errors]
                         ) from None
    except case_import.CaseBulkError as error:
        session.rollback()
        problems = [p for index, errors in sorted(error.errors.items())
                    for p in field_problems(errors, aliases=ALIASES, row=index + 1, prefix=f"/{index}")]
        raise ApiProblem(422, "Die jungen Menschen wurden nicht importiert; es wurde nichts gespeichert.",
                         errors=problems) from None
    return json_response(ImportResult(created=len(created), ids=[yp.id for yp in created]), 201)
