"""Explanations for caseworkers (Begründungen): why a young person is where they are.

`unmatched_reasons` says in plain German why someone has no group, derived
from the rule that excludes each group serving one of their needs, summarised
(most relevant first, counted, never a list of 200 groups). `explain_person`
says why a placed person got their groups and why the best other groups were
not chosen; `explain_solution` does it for a whole solution as JSON, and
`render_text` prints that for the command line. Texts are German; code English.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from .problem import (
    EARTH_RADIUS_KM,
    Group,
    Problem,
    Window,
    YoungPerson,
    haversine_km,
    ineligibility,
    sessions_overlap,
)
from .solution import TERMS, Assignments, Solution, evaluate

# -- German wording ---------------------------------------------------------------

CATEGORY_LABELS: dict[str, str] = {
    "social_skills": "Soziale Kompetenzen",
    "anti_aggression": "Anti-Aggressions-Training",
    "sports": "Sport",
    "learning_support": "Lernförderung",
    "girls_group": "Mädchengruppe",
    "boys_group": "Jungengruppe",
    "media": "Medien",
    "creative": "Kreatives",
    "parents_course": "Elternkurs",
    "addiction_prevention": "Suchtprävention",
    "school_refusal": "Schulverweigerung",
    "transition_to_work": "Übergang Schule–Beruf",
}
TERM_LABELS: dict[str, str] = {
    "placed": "Platzierte junge Menschen",
    "hours": "Abgedeckte Gruppenstunden",
    "need_match": "Passende Bedarfe",
    "preferred": "Erfüllte Wünsche",
    "km": "Fahrtwege",
    "offset_eur": "Verrechnung zwischen Trägern",
    "change": "Wechsel bisheriger Gruppen",
}
DAY_LABELS = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")


def category_label(code: str) -> str:
    """German label of a category code; unknown codes are shown as they are."""
    return CATEGORY_LABELS.get(code, code)


def labels(codes: Iterable[str]) -> str:
    return ", ".join(category_label(c) for c in codes) or "–"


def german_number(value: float, decimals: int = 1) -> str:
    """1234.5 -> "1.234,5"; trailing ",0" is dropped."""
    text = f"{value:,.{decimals}f}".replace(",", "_").replace(".", ",").replace("_", ".")
    if decimals and text.endswith("," + "0" * decimals):
        text = text[: -decimals - 1]
    return text


def format_hours(hours: float) -> str:
    return f"{german_number(hours, 2 if hours * 4 % 2 else 1)} Std."


def format_km(km: float) -> str:
    return f"{german_number(km)} km"


def format_window(w: Window) -> str:
    """A session as "Mo 15:00–17:00"."""
    return f"{DAY_LABELS[w.day]} {w.start // 60:02d}:{w.start % 60:02d}–{w.end // 60:02d}:{w.end % 60:02d}"


def format_sessions(sessions: Iterable[Window]) -> str:
    return ", ".join(format_window(w) for w in sessions)


def groups_word(n: int, one: str = "Gruppe", many: str = "Gruppen") -> str:
    return f"{n} {one if n == 1 else many}"

# Order of relevance of a group's blocking reason: what a placement decision
# could change comes first, the person's own limits last.
_STATE = ("free", "min_size", "full", "conflict", "overlap", "closed", "max_hours")
_STATIC = ("times", "excluded", "gender", "too_young", "too_old")
_WISH_REASONS = {
    "too_young": "Altersgrenze (zu jung)", "too_old": "Altersgrenze (zu alt)", "gender": "anderes Geschlecht",
    "needs": "deckt keinen Bedarf ab", "distance": "zu weit entfernt", "excluded": "abgelehnt",
    "times": "Zeiten passen nicht zur Verfügbarkeit",
}


class _Context:
    """What explanations need to know about `assignments`: the members of groups.

    Built for all groups at once (`bulk`, for many explanations) or lazily for
    the few groups one explanation asks about (`need_members`).
    """

    def __init__(self, problem: Problem, assignments: Assignments, bulk: bool = False):
        self.problem = problem
        self.assignments = assignments
        self.members: dict[str, list[str]] = {}
        self._known: set[str] | None = None if bulk else set()  # None: members are complete
        self.by_category: dict[str, list[Group]] | None = None
        self.rank: dict[str, int] = {}
        if bulk:
            for pid, gids in assignments.items():
                for gid in gids:
                    self.members.setdefault(gid, []).append(pid)
            self.by_category = {}
            self.cells: dict[tuple[str, int, int], list[Group]] = {}
            for n, g in enumerate(problem.groups.values()):
                self.rank[g.id] = n
                for c in g.categories:
                    self.by_category.setdefault(c, []).append(g)
                    self.cells.setdefault((c, *_cell(g.lat, g.lon)), []).append(g)

    def need_members(self, gids: Iterable[str]) -> None:
        """Make `members` exact for `gids` (one pass over the assignments unless bulk)."""
        if self._known is None:
            return
        missing = set(gids) - self._known
        if not missing:
            return
        for pid, assigned in self.assignments.items():
            for gid in missing.intersection(assigned):
                self.members.setdefault(gid, []).append(pid)
        self._known |= missing

    def offering(self, y: YoungPerson, needs: Iterable[str], km: float) -> list[Group]:
        """Groups serving one of `needs` that may lie within `km` of y's home (a superset), in input order."""
        needs = sorted(needs)
        if self.by_category is None:
            return [g for g in self.problem.groups.values() if not g.categories.isdisjoint(needs)]
        span = _cell_span(y.lat, y.lon, km)
        seen: dict[str, Group] = {}
        for c in needs:
            if span is None:
                found = self.by_category.get(c, [])
            else:
                found = [g for i in span[0] for j in span[1] for g in self.cells.get((c, i, j), ())]
            for g in found:
                seen[g.id] = g
        return sorted(seen.values(), key=lambda g: self.rank[g.id])

    def offers_anywhere(self, need: str) -> bool:
        if self.by_category is None:
            return any(need in g.categories for g in self.problem.groups.values())
        return need in self.by_category

    def size(self, gid: str) -> int:
        return len(self.members.get(gid, ()))

    def has_pinned(self, gid: str) -> bool:
        return any(gid in self.problem.people[m].pinned for m in self.members.get(gid, ()))

    def conflicts_in(self, y: YoungPerson, gid: str) -> list[str]:
        """Members of gid that must not share a group with y (either direction)."""
        people = self.problem.people
        return [m for m in self.members.get(gid, ())
                if m != y.id and (m in y.avoid_with or y.id in people[m].avoid_with)]


_CELL_DEG = 0.1


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / _CELL_DEG), math.floor(lon / _CELL_DEG)


def _cell_span(lat: float, lon: float, km: float) -> tuple[range, range] | None:
    """Grid rows and columns covering every point within `km` of (lat, lon); None near poles or ±180°."""
    reach = km / EARTH_RADIUS_KM
    band = math.degrees(reach) * (1 + 1e-9) + 1e-9
    top = abs(lat) + band
    if top >= 89.0:
        return None
    # hav(d) >= cos(lat1) cos(lat2) hav(dlon), and cos(lat2) >= cos(top) inside the band.
    x = math.sin(reach / 2) / math.cos(math.radians(top))
    if x >= 1:
        return None
    dlon = math.degrees(2 * math.asin(x)) * (1 + 1e-9) + 1e-9
    if abs(lon) + dlon >= 180.0:
        return None
    (i0, j0), (i1, j1) = _cell(lat - band, lon - dlon), _cell(lat + band, lon + dlon)
    return range(i0, i1 + 1), range(j0, j1 + 1)


def near_groups(y: YoungPerson, groups: Iterable[Group]) -> list[tuple[Group, float]]:
    """The groups within y's travel limit, with their distance (exact haversine of FORMAT.md)."""
    limit = y.max_travel_km
    # A great-circle distance is at least R * |latitude difference|: skip far rows cheaply.
    band = math.degrees(limit / EARTH_RADIUS_KM) * (1 + 1e-9) + 1e-9
    out = []
    for g in groups:
        if abs(g.lat - y.lat) > band:
            continue
        d = haversine_km(y.lat, y.lon, g.lat, g.lon)
        if d <= limit:
            out.append((g, d))
    return out


def _static_code(problem: Problem, y: YoungPerson, g: Group, own: tuple[str, ...]) -> str | None:
    """Rules that do not depend on other people: eligibility, closed, hours maximum, overlap."""
    why = ineligibility(y, g)
    if why is not None:
        return why
    if not g.open_for_new and g.id not in y.current:
        return "closed"
    minutes = sum(problem.groups[o].minutes for o in own if o != g.id)
    if (minutes + g.minutes) / 60.0 > y.max_hours + 1e-9:
        return "max_hours"
    if any(sessions_overlap(problem.groups[o], g) for o in own if o != g.id):
        return "overlap"
    return None


def _state_code(ctx: _Context, y: YoungPerson, g: Group) -> str:
    """Rules that depend on the others (members of g must be known): full, conflict, min size."""
    size = ctx.size(g.id) - (y.id in ctx.members.get(g.id, ()))
    if size >= g.seats:
        return "full"
    if y.id in y.avoid_with or ctx.conflicts_in(y, g.id):
        return "conflict"
    if size + 1 < g.min_size and not ctx.has_pinned(g.id) and g.id not in y.pinned:
        return "min_size"
    return "free"


def unmatched_reasons(problem: Problem, assignments: Assignments, person_id: str) -> list[str]:
    """The binding reasons, in German, why `person_id` has no group under `assignments`.

    Looks at every group serving one of the person's needs, finds the rule that
    excludes it (too far, age, gender, times, closed, full, conflict, minimum
    size, hours maximum) and summarises, most relevant first. Cost: one pass
    over the groups, and over the assignments only when some group is blocked
    by others alone; for many people `unmatched_all` shares one index.
    """
    return _reasons(_Context(problem, assignments), problem.people[person_id])


def unmatched_all(problem: Problem, assignments: Assignments) -> dict[str, list[str]]:
    """`unmatched_reasons` for every young person without a group, sharing one index (fast)."""
    ctx = _Context(problem, assignments, bulk=True)
    return {pid: _reasons(ctx, y) for pid, y in problem.people.items() if not assignments.get(pid)}


def _reasons(ctx: _Context, y: YoungPerson) -> list[str]:
    if not y.needs:
        return ["Kein Bedarf (keine Kategorie) angegeben"]
    if y.max_hours <= 0:
        return ["Gruppenstunden-Maximum ist 0"]
    near = near_groups(y, ctx.offering(y, y.needs, y.max_travel_km))
    by_code: dict[str, list[Group]] = {}
    open_rules = []
    for g, _ in near:
        code = _static_code(ctx.problem, y, g, ())
        if code is None:
            open_rules.append(g)
        else:
            by_code.setdefault(code, []).append(g)
    ctx.need_members(g.id for g in open_rules)
    for g in open_rules:
        by_code.setdefault(_state_code(ctx, y, g), []).append(g)
    texts = [_reason_text(ctx, y, code, by_code[code], len(open_rules))
             for code in _STATE + _STATIC if code in by_code]
    return texts + _distance_lines(ctx, y, near) or ["Keine passende Gruppe gefunden"]


def _distance_lines(ctx: _Context, y: YoungPerson, near: list[tuple[Group, float]]) -> list[str]:
    """Per need: no offer at all, or none within the travel limit (with the nearest distance if not far)."""
    reached = {c for g, _ in near for c in g.categories}
    out = []
    for need in sorted(y.needs - reached, key=category_label):
        label = category_label(need)
        if not ctx.offers_anywhere(need):
            out.append(f"Kein Angebot für {label} im Gebiet")
            continue
        look = 4 * y.max_travel_km
        dists = [haversine_km(y.lat, y.lon, g.lat, g.lon) for g in ctx.offering(y, [need], look)]
        nearest = min((d for d in dists if d <= look), default=None)
        more = f"nächstes in {format_km(nearest)}" if nearest is not None else f"keines im Umkreis von " \
            f"{format_km(look)}"
        out.append(f"Kein Angebot für {label} innerhalb von {format_km(y.max_travel_km)} ({more})")
    return out


def _reason_text(ctx: _Context, y: YoungPerson, code: str, groups: list[Group], n_open: int) -> str:
    """German text for the `groups` blocked by `code`; `n_open` groups passed every own rule."""
    n = len(groups)
    some = groups_word(n)
    if code == "free":
        return f"Passende Gruppe mit freiem Platz vorhanden ({_ids(groups)}), aber nicht zugeteilt"
    if code == "min_size":
        g = groups[0]
        return (f"Mindestgröße der Gruppe nicht erreichbar ({some}; z. B. {g.id}: "
                f"{ctx.size(g.id) + 1} von {g.min_size} nötigen Teilnehmenden)")
    if code == "full":
        lead = "Alle passenden Gruppen sind voll" if n == n_open else f"{some} voll"
        return f"{lead} ({_ids(groups)})"
    if code == "conflict":
        who = sorted({m for g in groups for m in ctx.conflicts_in(y, g.id)}) or [y.id]
        return f"Konflikt mit {', '.join(who[:3])} ({some}: {_ids(groups)})"
    if code == "overlap":
        return f"Zeitüberschneidung mit eigenen Gruppen ({some})"
    if code == "closed":
        return f"Gruppe ist geschlossen, keine Neuaufnahme ({some}: {_ids(groups)})"
    if code == "max_hours":
        shortest = min(groups, key=lambda g: g.minutes)
        return (f"Gruppenstunden überschreiten das Maximum von {format_hours(y.max_hours)} ({some}, "
                f"z. B. {shortest.id} mit {format_hours(shortest.hours)})")
    if code == "times":
        return f"Zeiten passen nicht zur Verfügbarkeit ({some})"
    if code == "excluded":
        return f"Von der jungen Person abgelehnt ({some}: {_ids(groups)})"
    if code == "gender":
        return f"Gruppe für ein anderes Geschlecht ({some})"
    if code == "too_young":
        low = min(g.age_min for g in groups if g.age_min is not None)
        return f"Altersgrenze passt nicht: mit {y.age} Jahren zu jung (Gruppen ab {low} Jahren; {some})"
    high = max(g.age_max for g in groups if g.age_max is not None)
    return f"Altersgrenze passt nicht: mit {y.age} Jahren zu alt (Gruppen bis {high} Jahre; {some})"


def _ids(groups: list[Group], limit: int = 3) -> str:
    ids = [g.id for g in groups[:limit]]
    more = f" und {len(groups) - limit} weitere" if len(groups) > limit else ""
    return ", ".join(ids) + more


# -- a single person ------------------------------------------------------------

@dataclass
class PersonExplanation:
    """Why a young person has the groups they have (German `summary` and `lines`) plus the data."""

    young_person: str
    placed: bool
    summary: str
    lines: list[str]
    hours: float
    target: float
    max_hours: float
    groups: list[dict[str, Any]] = field(default_factory=list)
    alternatives: list[dict[str, Any]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    terms: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (shallow: the lists and dicts are shared, not copied)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def person_terms(problem: Problem, y: YoungPerson, gids: Iterable[str]) -> dict[str, float]:
    """The person's own contribution to each objective term (FORMAT.md), exact."""
    gids = tuple(gids)
    # evaluate() on a one-person problem holding only that person's groups: exact and cheap.
    sub = Problem(problem.weights, problem.providers, {gid: problem.groups[gid] for gid in gids}, {y.id: y})
    return evaluate(sub, {y.id: gids}).terms


def _group_value(problem: Problem, y: YoungPerson, g: Group) -> float:
    """Per-group objective part for y: needs, wish, travel, offset (hours counted separately)."""
    w = problem.weights
    value = w["need_match"] * len(y.needs & g.categories) + w["preferred"] * (g.id in y.preferred)
    value -= w["km"] * haversine_km(y.lat, y.lon, g.lat, g.lon)
    if g.provider != y.lead_provider:
        value -= w["offset_eur"] * g.offset_rate * g.hours
    return value


def describe_group(problem: Problem, y: YoungPerson, g: Group) -> dict[str, Any]:
    """Structured facts of g for y, with a German one-line `text`."""
    served = sorted(y.needs & g.categories, key=category_label)
    km = haversine_km(y.lat, y.lon, g.lat, g.lon)
    parts = [f"{g.id}: {format_sessions(g.sessions)} ({format_hours(g.hours)})",
             f"deckt {labels(served)} ab" if served else "deckt keinen Bedarf ab",
             f"{format_km(km)} entfernt"]
    if g.id in y.preferred:
        parts.append("Wunschgruppe")
    offset = g.provider != y.lead_provider
    if offset:
        parts.append(f"anderer Träger ({g.provider}), Verrechnung {german_number(g.offset_rate, 2)} € "
                     "je Teilnehmendenstunde")
    return {"group": g.id, "provider": g.provider, "hours": g.hours, "km": round(km, 2),
            "needs_served": served, "preferred": g.id in y.preferred, "other_provider": offset,
            "offset_rate": g.offset_rate, "sessions": format_sessions(g.sessions), "text": "; ".join(parts)}


def explain_person(problem: Problem, assignments: Assignments, person_id: str,
                   alternatives: int = 3, *, _ctx: _Context | None = None) -> PersonExplanation:
    """Why `person_id` has these groups and why the best `alternatives` others were not chosen.

    Placed: hours against target, needs served, distance, wishes and offsets per
    group, then the best eligible groups within reach that were not chosen, each
    with the binding reason (full, closed, conflict, minimum size) or, compared
    with the group it would replace, what makes it worse (time clash, further,
    fewer needs, too many hours, ...). Unplaced: the lines are `unmatched_reasons`.
    """
    y = problem.people[person_id]
    ctx = _ctx or _Context(problem, assignments)
    own = tuple(dict.fromkeys(assignments.get(person_id, ())))
    hours = sum(problem.groups[gid].minutes for gid in own) / 60.0
    terms = person_terms(problem, y, own)
    if not own:
        reasons = _reasons(ctx, y)
        return PersonExplanation(person_id, False, f"{person_id} ist keiner Gruppe zugeordnet.",
                                 reasons, 0.0, y.target, y.max_hours, reasons=reasons, terms=terms)
    facts = [describe_group(problem, y, problem.groups[gid]) for gid in own]
    served = sorted({c for f in facts for c in f["needs_served"]}, key=category_label)
    missing = sorted(y.needs - set(served), key=category_label)
    summary = (f"{person_id} ist in {groups_word(len(own))}: {format_hours(hours)} von "
               f"{format_hours(y.target)} Zielstunden (Maximum {format_hours(y.max_hours)}).")
    lines = [f["text"] for f in facts]
    lines.append(f"Bedarfe abgedeckt: {labels(served)}" + (f"; offen: {labels(missing)}" if missing else ""))
    dropped = [gid for gid in y.current if gid not in own]
    if dropped:
        lines.append(f"Bisherige Gruppe(n) nicht fortgeführt: {', '.join(dropped)}")
    alts = _alternatives(ctx, y, own, alternatives)
    lines += [f"Nicht gewählt: {a['group']} – {a['why']}" for a in alts]
    shown = {a["group"] for a in alts}
    for gid in sorted(y.preferred - set(own) - shown):
        code = ineligibility(y, problem.groups[gid])
        ctx.need_members([gid])
        why = _WISH_REASONS[code] if code else _why_not(ctx, y, problem.groups[gid], own)[1]
        lines.append(f"Wunschgruppe {gid} nicht erfüllt: {why}")
    return PersonExplanation(person_id, True, summary, lines, hours, y.target, y.max_hours,
                             groups=facts, alternatives=alts, terms=terms)


def _value(problem: Problem, y: YoungPerson, gids: Iterable[str]) -> float:
    return sum(person_terms(problem, y, gids).values())


def _alternatives(ctx: _Context, y: YoungPerson, own: tuple[str, ...], limit: int) -> list[dict[str, Any]]:
    """The best eligible groups within reach not chosen, each with why it was not chosen."""
    problem = ctx.problem
    w = problem.weights
    pool = []
    for g, _ in near_groups(y, ctx.offering(y, y.needs, y.max_travel_km)):
        if g.id in own or ineligibility(y, g) is not None:
            continue
        value = _group_value(problem, y, g) + y.priority * w["hours"] * min(g.hours, y.target)
        pool.append((-value, ctx.rank.get(g.id, 0), g))
    pool.sort(key=lambda t: (t[0], t[1]))
    ctx.need_members([g.id for _, _, g in pool[:limit]])
    out = []
    for _, _, g in pool[:limit]:
        info = describe_group(problem, y, g)
        info["reason"], info["why"], info["delta_objective"] = _why_not(ctx, y, g, own)
        out.append(info)
    return out


def _why_not(ctx: _Context, y: YoungPerson, g: Group, own: tuple[str, ...]) -> tuple[str, str, float | None]:
    """(code, German reason, exact objective change of taking g instead) for a group not chosen."""
    problem = ctx.problem
    if not g.open_for_new and g.id not in y.current:
        return "closed", "geschlossene Gruppe, keine Neuaufnahme", None
    code = _state_code(ctx, y, g)
    if code == "full":
        return code, f"voll ({g.seats} von {g.seats} Plätzen belegt)", None
    if code == "conflict":
        return code, f"Konflikt mit {', '.join(ctx.conflicts_in(y, g.id)) or y.id}", None
    if code == "min_size":
        return code, f"Mindestgröße {g.min_size} nicht erreicht (nur {ctx.size(g.id) + 1} Teilnehmende)", None
    code = _static_code(problem, y, g, own) or "free"
    own_groups = [problem.groups[o] for o in own]
    base = _value(problem, y, own)
    if code == "free":
        delta = _value(problem, y, own + (g.id,)) - base
        return code, f"wäre zusätzlich möglich (Zielwert {german_number(delta, 0)})", delta
    clash = [o for o in own_groups if sessions_overlap(o, g)]
    replaced = clash or [min(own_groups, key=lambda o: _value(problem, y, [o.id]))]
    keep = tuple(o for o in own if o not in {r.id for r in replaced})
    first = (f"Zeitüberschneidung mit {', '.join(r.id for r in clash)} ({format_sessions(clash[0].sessions)})"
             if clash else f"zusätzlich zu viele Stunden ({format_hours(sum(o.hours for o in own_groups) + g.hours)} "
             f"statt höchstens {format_hours(y.max_hours)})")
    new_minutes = sum(problem.groups[o].minutes for o in keep) + g.minutes
    if new_minutes / 60.0 > y.max_hours + 1e-9:
        return code, f"{first}; auch als Ersatz zu viele Stunden", None
    delta = _value(problem, y, keep + (g.id,)) - base
    old_minutes = sum(o.minutes for o in own_groups)
    notes = (_worse_than(y, g, replaced, old_minutes / 60.0, new_minutes / 60.0) if delta <= 0
             else ["wäre als Ersatz günstiger, wurde aber nicht gewählt"])
    return code, f"{first}; statt {', '.join(r.id for r in replaced)}: {'; '.join(notes)} " \
                 f"(Zielwert {german_number(delta, 0)})", delta


def _worse_than(y: YoungPerson, g: Group, replaced: list[Group], hours: float, new_hours: float) -> list[str]:
    """What makes g worse for y than the groups it would replace (hours: before and after)."""
    notes = []
    km = haversine_km(y.lat, y.lon, g.lat, g.lon)
    km_old = max(haversine_km(y.lat, y.lon, r.lat, r.lon) for r in replaced)
    if km > km_old:
        notes.append(f"weiter entfernt ({format_km(km)} statt {format_km(km_old)})")
    if len(y.needs & g.categories) < max(len(y.needs & r.categories) for r in replaced):
        notes.append("deckt weniger Bedarfe ab")
    if any(r.id in y.preferred for r in replaced) and g.id not in y.preferred:
        notes.append("keine Wunschgruppe")
    if min(new_hours, y.target) < min(hours, y.target):
        notes.append(f"weniger Zielstunden abgedeckt ({format_hours(min(new_hours, y.target))} statt "
                     f"{format_hours(min(hours, y.target))})")
    if any(r.id in y.current for r in replaced):
        notes.append("bisherige Gruppe müsste wechseln")
    if g.provider != y.lead_provider and all(r.provider == y.lead_provider for r in replaced):
        notes.append("anderer Träger (Verrechnung)")
    return notes or ["insgesamt weniger günstig"]


# -- a whole solution -------------------------------------------------------------

def explain_solution(problem: Problem, solution: Solution, people: Iterable[str] | None = None,
                     alternatives: int = 3) -> dict[str, Any]:
    """JSON-ready explanations: objective terms (German labels), KPIs, one entry per young person.

    `people` limits the per-person part (default: everyone). Assignments naming
    unknown people or groups are ignored. The key `text` holds `render_text`.
    """
    assignments = {pid: tuple(g for g in gids if g in problem.groups)
                   for pid, gids in solution.assignments.items() if pid in problem.people}
    ctx = _Context(problem, assignments, bulk=True)
    ev = evaluate(problem, assignments)
    chosen = list(problem.people) if people is None else [p for p in people if p in problem.people]
    explained = {pid: explain_person(problem, assignments, pid, alternatives, _ctx=ctx).to_json()
                 for pid in chosen}
    status = getattr(solution.status, "value", solution.status)
    out = {
        "status": status,
        "objective": ev.objective,
        "terms": {k: {"label": TERM_LABELS[k], "value": ev.terms[k]} for k in TERMS},
        "kpis": ev.kpis,
        "unmatched_first_reasons": dict(Counter(r for e in explained.values() if not e["placed"]
                                                for r in e["reasons"][:1])),
        "people": explained,
    }
    out["text"] = render_text(out)
    return out


def render_text(explained: dict[str, Any]) -> str:
    """Plain German text of `explain_solution`'s result, for the command line."""
    out = [f"Status: {explained['status']}, Zielwert {german_number(explained['objective'])}"]
    k = explained["kpis"]
    out.append(f"Platziert: {k['placed']} von {k['young_people']}; Gruppenstunden "
               f"{german_number(k['group_hours_covered'])} von {german_number(k['group_hours_target'])}; "
               f"Gruppen in Betrieb: {k['groups_running']} von {k['groups']}")
    out.append("Beiträge zum Zielwert:")
    out += [f"  {t['label']}: {german_number(t['value'])}" for t in explained["terms"].values()]
    for e in explained["people"].values():
        out.append("")
        out.append(e["summary"])
        out += [f"  - {line}" for line in e["lines"]]
    return "\n".join(out) + "\n"
