"""API: solver runs (planning), offset statements (coordinators and planning), catalogues, who am I.

Same rules as the web UI: solver runs are for Jugendhilfeplanung only, and an on-demand run starts
only when no run is active (`runs.start_on_demand`); it executes in a background thread of this process
(`runs.start_background_run`, live progress in `runs.progress_registry`), like „Abgleich starten“.
A coordinator's statement lists only the provider pairs involving their own provider
(`ledger.statement(provider_id=...)`), planning sees every pair and closes a month
(`ledger.close_month`: only months that are over, earlier months first, once). Statement views are
audited like the statement page.
"""

from __future__ import annotations

from typing import Any

from flask import g, url_for
from flask_login import current_user
from sqlmodel import select

from ...access import get_or_404
from ...audit import audit
from ...db import get_engine, get_session
from ...ledger import LedgerError, close_month, parse_month, statement
from ...models import Category, Module, Municipality, Provider, Role, RunStatus, SolverRun, Sozialraum, Team
from ...runs import progress_registry, start_on_demand
from ..problems import ApiProblem
from .registry import ALL_ROLES, operation
from .respond import json_response, page_response, paginate
from .schemas import (
    BalanceOut,
    CatalogueOut,
    CategoryOut,
    MeOut,
    ModuleOut,
    MonthCloseOut,
    MunicipalityOut,
    Page,
    PairOut,
    ProviderOut,
    RunProgressOut,
    RunQuery,
    SolverRunOut,
    SozialraumOut,
    StatementLineOut,
    StatementOut,
    TeamOut,
    TokenInfo,
    TransferOut,
)

PLANNER = (Role.planner,)


# --------------------------------------------------------------------------- solver runs


ACTIVE_RUN_STATUSES = (RunStatus.queued.value, RunStatus.running.value)


def _progress(run: SolverRun) -> RunProgressOut | None:
    """The live progress of a queued or running run executing in this process (None otherwise)."""
    live = progress_registry.get(run.id) if run.status in ACTIVE_RUN_STATUSES else None
    if live is None:
        return None
    return RunProgressOut(phase=live.get("phase") or "", elapsed=float(live.get("elapsed") or 0.0),
                          objective=live.get("objective"), bound=live.get("bound"))


def run_out(run: SolverRun, *, detail: bool = False) -> SolverRunOut:
    return SolverRunOut(
        id=run.id, run_key=run.run_key, kind=run.kind, status=run.status, created_at=run.created_at,
        started_at=run.started_at, finished_at=run.finished_at, solver_status=run.solver_status,
        objective=run.objective, bound=run.bound, kpis=run.kpis, error=run.error,
        weights=run.weights if detail else None, diff=run.diff if detail else None,
        progress=_progress(run) if detail else None,
    )


@operation("/solver-runs", roles=PLANNER, tag="Solver-Läufe", summary="Solver-Läufe auflisten", query=RunQuery,
           response=Page[SolverRunOut], paginated=True)
def list_runs(params: RunQuery) -> Any:
    """Nightly, on-demand and what-if runs, newest first (Jugendhilfeplanung)."""
    query = select(SolverRun)
    if params.kind is not None:
        query = query.where(SolverRun.kind == params.kind.value)
    if params.status is not None:
        query = query.where(SolverRun.status == params.status.value)
    rows, info = paginate(get_session(), query.order_by(SolverRun.id.desc()), params)
    return page_response([run_out(r) for r in rows], info)


@operation("/solver-runs/<int(max=2147483647):run_id>", roles=PLANNER, tag="Solver-Läufe",
           summary="Ein Solver-Lauf", response=SolverRunOut)
def get_run(run_id: int) -> Any:
    """One run: status, KPIs, weights used, and its changes (pseudonymous keys Y…/G…, as in the run's
    download). While it waits or runs, `progress` shows the phase, the seconds so far and the objective:
    poll this until `status` is done, failed or cancelled."""
    run = get_or_404(get_session(), SolverRun, run_id)
    get_session().refresh(run)  # the run is written by its own thread
    return json_response(run_out(run, detail=True))


@operation("/solver-runs", method="POST", roles=PLANNER, tag="Solver-Läufe", summary="Abgleich starten",
           response=SolverRunOut, status=202)
def start_run() -> Any:
    """Start an on-demand run of the matching, as „Abgleich starten“ on the runs page: it executes in the
    background and writes its proposals when done. The answer (202) carries the run's id and status and its
    address in `Location`; poll it with GET. While another run waits or runs, nothing is started (409)."""
    session = get_session()
    run_id, running = start_on_demand(session, get_engine(), current_user.id)
    if run_id is None:
        number = f" (Lauf {running.id})" if running else ""
        headers = {"Location": url_for("api.get_run", run_id=running.id)} if running else None
        raise ApiProblem(409, f"Es läuft bereits ein Abgleich{number}. Bitte warten Sie, bis er fertig ist.",
                         headers=headers)
    audit(session, current_user, "create", "solver_run", run_id)
    session.commit()
    run = session.get(SolverRun, run_id)
    return json_response(run_out(run), 202, {"Location": url_for("api.get_run", run_id=run_id)})


# --------------------------------------------------------------------------- statements


@operation("/statements/<month>", roles=(Role.coordinator, Role.planner), tag="Verrechnung",
           summary="Verrechnung eines Monats", response=StatementOut)
def get_statement(month: str) -> Any:
    """The month's offset statement (`month` = JJJJ-MM): per provider pair the itemised participant-hours,
    balances and the netted transfers. Coordinators see only the pairs of their own provider."""
    try:
        month = parse_month(month)
    except LedgerError as error:
        raise ApiProblem(404, str(error)) from None
    session = get_session()
    scope = current_user.provider_id if current_user.role == Role.coordinator.value else None
    data = statement(session, month=month, provider_id=scope)
    audit(session, current_user, "view", "offset_statement", month)
    session.commit()
    names = data.provider_names
    return json_response(StatementOut(
        month=data.month, closed=data.closed,
        pairs=[PairOut(host_id=p.host_id, host_name=p.host_name, lead_id=p.lead_id, lead_name=p.lead_name,
                       minutes=p.minutes, total_cents=p.total_cents,
                       lines=[StatementLineOut(**vars(line)) for line in p.lines]) for p in data.pairs],
        balances=[BalanceOut(provider_id=pid, provider_name=names.get(pid, str(pid)), balance_cents=amount)
                  for pid, amount in sorted(data.balances.items())],
        transfers=[TransferOut(**vars(t)) for t in data.transfers],
    ))


@operation("/statements/<month>/close", method="POST", roles=PLANNER, tag="Verrechnung",
           summary="Monat abschließen", response=MonthCloseOut)
def close_statement_month(month: str) -> Any:
    """Close a month (`month` = JJJJ-MM), as on the statement page: it is booked a last time from the
    attendance and is immutable afterwards; later corrections are booked in the following month. Only a
    month that is over can be closed, earlier months with attendance first, and each month once (else 409)."""
    try:
        month = parse_month(month)
    except LedgerError as error:
        raise ApiProblem(404, str(error)) from None
    session = get_session()
    try:
        result = close_month(session, month=month, actor=current_user)
    except LedgerError as error:
        session.rollback()
        raise ApiProblem(409, str(error)) from None
    session.commit()
    return json_response(MonthCloseOut(month=result.month, closed=True, entries=result.entries,
                                       total_cents=result.total_cents, adjustments=result.adjustments))


# --------------------------------------------------------------------------- catalogues and identity


@operation("/catalogue", roles=ALL_ROLES, tag="Kataloge", summary="Kataloge", response=CatalogueOut)
def catalogue() -> Any:
    """Municipalities, Sozialräume, need categories, modules, providers and ASD teams: the ids the inputs use."""
    session = get_session()

    def rows(model: Any, order: Any) -> list[Any]:
        return list(session.exec(select(model).order_by(order)).all())

    return json_response(CatalogueOut(
        municipalities=[MunicipalityOut(id=m.id, name=m.name, ags=m.ags, sozialraum_id=m.sozialraum_id)
                        for m in rows(Municipality, Municipality.name)],
        sozialraeume=[SozialraumOut(id=s.id, name=s.name, code=s.code) for s in rows(Sozialraum, Sozialraum.name)],
        categories=[CategoryOut(id=c.id, code=c.code, label=c.label) for c in rows(Category, Category.label)
                    if c.active],
        modules=[ModuleOut(id=m.id, code=m.code, name=m.name, care_minutes_min=m.care_minutes_min,
                           care_minutes_max=m.care_minutes_max, group_minutes_target=m.group_minutes_target,
                           group_minutes_max=m.group_minutes_max, is_crisis=m.is_crisis,
                           requires_risk_report=m.requires_risk_report)
                 for m in rows(Module, Module.sort_order) if m.active],
        providers=[ProviderOut(id=p.id, name=p.name, short_name=p.short_name, allows_co_use=p.allows_co_use)
                   for p in rows(Provider, Provider.name) if p.active],
        teams=[TeamOut(id=t.id, name=t.name) for t in rows(Team, Team.name)],
    ))


@operation("/me", roles=ALL_ROLES, tag="Zugang", summary="Wer bin ich?", response=MeOut)
def me() -> Any:
    """The user the token belongs to (role, provider or team) and the token's scope."""
    token = getattr(g, "api_token", None)
    return json_response(MeOut(
        id=current_user.id, display_name=current_user.display_name, email=current_user.email,
        role=current_user.role, provider_id=current_user.provider_id, team_id=current_user.team_id,
        token=TokenInfo(id=token.id, name=token.name, scope=token.scope, created_at=token.created_at)
        if token is not None else None,
    ))
