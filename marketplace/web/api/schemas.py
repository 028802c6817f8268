"""The API's data types: inputs are the web UI's own input models, outputs are pydantic models.

Inputs: `OfferInput` (marketplace.offer_input) and `CaseFields` (marketplace.case_rules) are the
very dataclasses the offer editor and the case form fill and the use cases check. The API
subclasses them only to make pydantic strict about unknown fields (no names can slip in) and
non-finite numbers; the subclasses are still those types, so the use cases take them as they are.
The OpenAPI document's schemas are generated from these classes (`openapi.py`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ... import case_rules, offer_input
from ...models import CaseFlagKind, CaseStatus, OfferStatus, PlacementStatus, RequestStatus, RunKind, RunStatus, Variant
from ...placements import EndReason

#: Strict about what the API accepts: unknown fields are refused, NaN and infinity too.
STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)
MAX_BULK = 500

Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Text = Annotated[str, Field(max_length=2000)]
#: A reason or note for a placement step (the use cases allow 500 characters).
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Note = Annotated[str, StringConstraints(max_length=500)]


class OfferInput(offer_input.OfferInput):
    """What a coordinator enters for a group offer (the offer editor's model; money in cents,
    times in minutes since midnight, weekday 0 = Monday). Business rules: see the documentation."""

    __pydantic_config__ = STRICT


class CaseFields(case_rules.CaseFields):
    """The data of a young person's case (the case form's model). No names: a pseudonym is made
    by the system. `availability` holds [weekday 0 = Monday, start, end] in minutes since midnight;
    group minutes left empty take the module's defaults."""

    __pydantic_config__ = STRICT


# --------------------------------------------------------------------------- request bodies


class StrictModel(BaseModel):
    model_config = STRICT


class ReasonBody(StrictModel):
    """A reason for a state change (pause, end, reject)."""

    reason: Text | None = Field(default=None, description="Begründung (Pflicht bei Ablehnung).")


class CertifyBody(StrictModel):
    """Jugendamt planning certifies (or renews) until a date."""

    valid_until: date = Field(description="Zertifiziert bis (nach heute, höchstens fünf Jahre).")


class RequestBody(StrictModel):
    """Request group hours for a young person of the own team (Belegungsanfrage)."""

    young_person_id: Id
    note: Note | None = Field(default=None, description="Notiz zur Anfrage (höchstens 500 Zeichen).")


class ConfirmBody(StrictModel):
    """Confirm one option of a request: the groups to book together."""

    offer_ids: list[Id] = Field(min_length=1, max_length=10, description="Die Gruppen der gewählten Option.")
    variant: Variant | None = Field(default=None, description="Kooperationsvariante A oder B (Standard A).")


class VariantBody(StrictModel):
    variant: Variant | None = Field(default=None, description="Kooperationsvariante A oder B (Standard A).")


class DeclineBody(StrictModel):
    reason: Reason = Field(description="Grund der Ablehnung (geht an die fallführende Fachkraft).")


class EndBody(StrictModel):
    reason: EndReason = Field(description="Beendigungsgrund.")
    note: Note | None = Field(default=None, description="Erläuterung (Pflicht beim Grund „other“).")


class ModuleChangeBody(StrictModel):
    """Change a case's module (Modulwechsel im Hilfeplan), with a reason."""

    module_id: Id = Field(description="Das neue Modul (id aus /api/v1/catalogue).")
    reason: Text = Field(description="Begründung (mindestens 10 Zeichen; bleibt im Fallverlauf).")
    risk_report_at: date | None = Field(
        default=None, description="Datum der Gefährdungsmeldung nach § 8a SGB VIII (Pflicht bei Krisenintervention).")


class CrisisExtensionBody(StrictModel):
    """Extend a running crisis intervention (Krisenintervention verlängern), with a reason."""

    until: date = Field(description="Neues Ende (nach dem bisherigen Ende und nach heute, höchstens sechs Wochen "
                                    "weiter, nicht über das Ende der Bewilligung).")
    reason: Text = Field(description="Begründung (mindestens 10 Zeichen; bleibt im Fallverlauf).")


class CaseEndBody(StrictModel):
    """End the help (Hilfe beenden), with a reason."""

    reason: Text = Field(description="Begründung (mindestens 10 Zeichen; geht in den Fallverlauf und in den "
                                     "Beendigungsgrund der Belegungen).")


# --------------------------------------------------------------------------- query strings


class PageQuery(StrictModel):
    page: int = Field(default=1, ge=1, le=100_000, description="Seite, ab 1.")
    per_page: int = Field(default=20, ge=1, le=100, description="Einträge pro Seite (höchstens 100).")


class OfferQuery(PageQuery):
    status: OfferStatus | None = Field(default=None, description="Nur Angebote in diesem Status.")
    provider_id: Id | None = Field(default=None, description="Nur Angebote dieses Trägers.")


class YoungPersonQuery(PageQuery):
    status: CaseStatus | Literal["open"] | None = Field(
        default=None, description="„open“ = laufend oder Prüfung nötig; sonst ein Fallstatus.")


class RequestQuery(PageQuery):
    status: RequestStatus | None = None


class PlacementQuery(PageQuery):
    status: PlacementStatus | None = None
    offer_id: Id | None = None
    young_person_id: Id | None = None


class RunQuery(PageQuery):
    kind: RunKind | None = None
    status: RunStatus | None = None


# --------------------------------------------------------------------------- responses

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list; `next`/`prev` are the neighbouring pages' URLs (also in the Link header)."""

    items: list[T]
    page: int
    per_page: int
    total: int
    next: str | None
    prev: str | None


class CategoryOut(BaseModel):
    id: int
    code: str
    label: str


class SessionOut(BaseModel):
    id: int
    weekday: int = Field(description="0 = Montag … 6 = Sonntag")
    start_minute: int
    end_minute: int


class StatusStep(BaseModel):
    at: datetime
    from_status: str | None
    to_status: str
    actor: str
    reason: str | None
    valid_until: date | None = None


class Certification(BaseModel):
    status: OfferStatus
    status_label: str
    certified_until: date | None
    rejection_reason: str | None


class OfferOut(BaseModel):
    """A group offer. The input fields carry the same names as in `OfferInput` (GET, change, PUT)."""

    id: int
    provider_id: int
    provider_name: str
    title: str
    description: str
    category_ids: list[int]
    categories: list[CategoryOut]
    age_min: int
    age_max: int
    genders: str | None
    first_date: date
    last_date: date | None
    municipality_id: int
    municipality_name: str
    address: str
    lat: float | None
    lon: float | None
    seats: int
    seats_taken: int
    seats_free: int
    min_size: int
    entry_mode: str
    staff_mix: str
    multi_professional: bool
    offset_rate_cents: int
    sessions: list[SessionOut]
    certification: Certification
    vacancy_confirmed_at: datetime | None
    version: int
    allowed_actions: list[str] = Field(description="Statuswechsel, die Sie jetzt auslösen dürfen.")
    status_history: list[StatusStep] | None = Field(
        default=None, description="Statusverlauf (nur für den eigenen Träger und die Jugendhilfeplanung).")


class YoungPersonOut(BaseModel):
    """A young person's case (pseudonymous; the case reference is visible to the Jugendamt only)."""

    id: int
    pseudonym: str
    case_reference: str | None
    status: CaseStatus
    team_id: int
    caseworker_id: int | None
    birth_year: int
    age: int
    gender: str
    municipality_id: int
    lat: float | None
    lon: float | None
    need_ids: list[int]
    availability: list[tuple[int, int, int]]
    max_travel_km: float
    module_id: int
    group_minutes_target: int
    group_minutes_max: int
    lead_provider_id: int | None
    priority: int
    approval_start: date
    approval_end: date | None
    legal_basis: str
    risk_report_at: date | None
    crisis_ends_on: date | None
    preferred_offer_ids: list[int]
    excluded_offer_ids: list[int]
    keep_apart_ids: list[int]
    version: int
    created_at: datetime
    updated_at: datetime


class GroupFactsOut(BaseModel):
    offer_id: int
    title: str
    provider: str
    municipality: str
    sessions: str
    hours: float
    km: float
    needs_served: list[str]
    preferred: bool
    other_provider: bool
    offset_rate_cents: int
    seats: int
    free_seats: int
    variant_b_allowed: bool
    lines: list[str]


class OptionOut(BaseModel):
    """One option of the instant proposal: the groups to confirm together, explained in German."""

    rank: int
    offer_ids: list[int]
    headline: str
    lines: list[str]
    feasible: bool
    notes: list[str]
    groups: list[GroupFactsOut]


class PseudonymOut(BaseModel):
    """What a hosting provider may know: pseudonym, age, needs and region."""

    id: int
    pseudonym: str
    age: int
    needs: list[str]
    region: str


class PlacementStep(BaseModel):
    at: datetime
    from_status: str | None
    to_status: str
    actor: str
    reason: str | None


class PlacementOut(BaseModel):
    id: int
    status: PlacementStatus
    status_label: str
    source: str
    offer_id: int
    offer_title: str
    provider_id: int
    young_person: PseudonymOut
    request_id: int | None
    variant: str | None
    offset_rate_cents: int | None
    created_at: datetime
    confirmed_at: datetime | None
    accepted_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    decline_reason: str | None
    version: int
    history: list[PlacementStep] | None = None


class PlacementRequestOut(BaseModel):
    id: int
    young_person_id: int
    pseudonym: str
    status: RequestStatus
    status_label: str
    note: str | None
    waiting_reasons: list[str]
    created_at: datetime
    closed_at: datetime | None
    options: list[OptionOut] | None = Field(
        default=None, description="Sofortvorschlag: bis zu drei Optionen (nur bei offenen Anfragen, Einzelabruf).")
    placements: list[PlacementOut] | None = None


class CaseFlagOut(BaseModel):
    """An open warning of a case (Hinweis): `over_max` = the placements exceed the module's group-hours
    maximum by `excess_minutes` per week (one flag per placement); `crisis_expired` = the crisis ran out."""

    id: int
    kind: CaseFlagKind
    placement_id: int | None
    excess_minutes: int | None
    created_at: datetime


class ModuleChangeOut(BaseModel):
    """The case after the module change and the warnings it raised (empty: nothing above the new maximum)."""

    young_person: YoungPersonOut
    flags: list[CaseFlagOut]


class RunProgressOut(BaseModel):
    """Live progress of a run executing in this server process."""

    phase: str = Field(description="Vorbereitung, Optimierung oder Übernahme.")
    elapsed: float = Field(description="Sekunden seit dem Start der Optimierung.")
    objective: float | None
    bound: float | None


class SolverRunOut(BaseModel):
    id: int
    run_key: str
    kind: RunKind
    status: RunStatus
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    solver_status: str | None
    objective: float | None
    bound: float | None
    kpis: dict[str, Any] | None
    error: str | None
    weights: dict[str, Any] | None = None
    diff: dict[str, Any] | None = Field(default=None, description="Änderungen des Laufs (pseudonyme Schlüssel).")
    progress: RunProgressOut | None = Field(default=None, description="Fortschritt, solange der Lauf wartet oder "
                                                                      "läuft (Einzelabruf).")


class StatementLineOut(BaseModel):
    entry_id: int
    pseudonym: str
    offer_title: str
    session_date: date
    minutes: int
    rate_cents: int
    amount_cents: int
    variant: str
    note: str | None


class PairOut(BaseModel):
    host_id: int
    host_name: str
    lead_id: int
    lead_name: str
    minutes: int
    total_cents: int
    lines: list[StatementLineOut]


class BalanceOut(BaseModel):
    provider_id: int
    provider_name: str
    balance_cents: int = Field(description="Erhalten minus gezahlt.")


class TransferOut(BaseModel):
    payer_id: int
    payer_name: str
    payee_id: int
    payee_name: str
    amount_cents: int


class StatementOut(BaseModel):
    """A month's offset statement (Verrechnung) per provider pair, with balances and transfers."""

    month: str
    closed: bool
    pairs: list[PairOut]
    balances: list[BalanceOut]
    transfers: list[TransferOut]


class MonthCloseOut(BaseModel):
    """A closed month: booked a last time from the attendance, immutable from now on."""

    month: str
    closed: bool
    entries: int = Field(description="Buchungen des Monats.")
    total_cents: int
    adjustments: int = Field(description="Davon Korrekturen früherer, bereits abgeschlossener Monate.")


class ImportResult(BaseModel):
    """A bulk import that was written as a whole."""

    created: int
    ids: list[int]


class TokenInfo(BaseModel):
    id: int
    name: str
    scope: str
    created_at: datetime


class MeOut(BaseModel):
    id: int
    display_name: str
    email: str
    role: str
    provider_id: int | None
    team_id: int | None
    token: TokenInfo | None


class MunicipalityOut(BaseModel):
    id: int
    name: str
    ags: str
    sozialraum_id: int


class SozialraumOut(BaseModel):
    id: int
    name: str
    code: str


class ModuleOut(BaseModel):
    id: int
    code: str
    name: str
    care_minutes_min: int
    care_minutes_max: int
    group_minutes_target: int
    group_minutes_max: int
    is_crisis: bool
    requires_risk_report: bool


class ProviderOut(BaseModel):
    id: int
    name: str
    short_name: str
    allows_co_use: bool


class TeamOut(BaseModel):
    id: int
    name: str


class CatalogueOut(BaseModel):
    """The catalogues whose ids the inputs refer to."""

    municipalities: list[MunicipalityOut]
    sozialraeume: list[SozialraumOut]
    categories: list[CategoryOut]
    modules: list[ModuleOut]
    providers: list[ProviderOut]
    teams: list[TeamOut]


class FieldProblemOut(BaseModel):
    field: str | None
    row: int | None
    pointer: str | None
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details (application/problem+json)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldProblemOut] | None = None


OfferList = list[OfferInput]
CaseList = list[CaseFields]
OfferBulk = Annotated[OfferList, Field(min_length=1, max_length=MAX_BULK)]
CaseBulk = Annotated[CaseList, Field(min_length=1, max_length=MAX_BULK)]
