"""The result of a matching run, its exact objective, and an independent rule check.

`evaluate` computes the objective of FORMAT.md exactly (floating point, no
rounding), term by term, plus plain figures (KPIs). `violations` checks the
eight hard rules on an assignment without using the solver's model.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .problem import Problem, haversine_km, ineligibility, sessions_overlap

SOLUTION_FORMAT = "marketplace-matching-solution/1"
TERMS = ("placed", "hours", "need_match", "preferred", "km", "offset_eur", "change")

Assignments = dict[str, tuple[str, ...]]


class Status(StrEnum):
    """Outcome of a run; never an OR-Tools type."""

    OPTIMAL = "OPTIMAL"  # proven optimal
    FEASIBLE = "FEASIBLE"  # a solution, optimality not proven (bound says how far at most)
    INFEASIBLE = "INFEASIBLE"  # the pinned placements themselves break a rule
    INVALID = "INVALID"  # input errors, see Solution.errors
    UNKNOWN = "UNKNOWN"  # no solution found in time


@dataclass
class Unmatched:
    """A young person without any group, and why (German, for caseworkers)."""

    young_person: str
    reasons: list[str]


@dataclass
class Solution:
    """A matching: per young person the assigned group ids, with status and figures."""

    status: Status
    assignments: Assignments = field(default_factory=dict)
    objective: float | None = None
    bound: float | None = None
    unmatched: list[Unmatched] = field(default_factory=list)
    wall_s: float = 0.0
    errors: list[str] = field(default_factory=list)
    terms: dict[str, float] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass
class Evaluation:
    """Exact objective of an assignment, its terms (signed contributions) and KPIs."""

    objective: float
    terms: dict[str, float]
    kpis: dict[str, float]


def evaluate(problem: Problem, assignments: Assignments, only: Collection[str] | None = None) -> Evaluation:
    """The exact objective of FORMAT.md for `assignments` (feasible or not), term by term.

    With `only`, the objective counts just those young people (group KPIs then
    count only their memberships).
    """
    w = problem.weights
    terms = dict.fromkeys(TERMS, 0.0)
    placed = covered = target = km_total = 0.0
    members = dict.fromkeys(problem.groups, 0)
    n_assign = 0
    people = problem.people if only is None else {pid: problem.people[pid] for pid in only}
    for pid, y in people.items():
        gids = list(dict.fromkeys(assignments.get(pid, ())))
        hours = sum(problem.groups[gid].hours for gid in gids)
        target += y.target
        if hours > 0:
            placed += 1
            terms["placed"] += y.priority * w["placed"]
        covered += min(hours, y.target)
        terms["hours"] += y.priority * w["hours"] * min(hours, y.target)
        for gid in gids:
            g = problem.groups[gid]
            members[gid] += 1
            n_assign += 1
            terms["need_match"] += w["need_match"] * len(y.needs & g.categories)
            terms["preferred"] += w["preferred"] * (gid in y.preferred)
            dist = haversine_km(y.lat, y.lon, g.lat, g.lon)
            km_total += dist
            terms["km"] -= w["km"] * dist
            if g.provider != y.lead_provider:
                terms["offset_eur"] -= w["offset_eur"] * g.offset_rate * g.hours
        terms["change"] -= w["change"] * len(set(y.current) - set(gids))
    pinned = {gid for y in problem.people.values() for gid in y.pinned}
    kpis = {
        "young_people": len(people),
        "placed": int(placed),
        "group_hours_covered": round(covered, 2),
        "group_hours_target": round(target, 2),
        "mean_km_per_assignment": round(km_total / n_assign, 3) if n_assign else 0.0,
        "groups_running": sum(1 for n in members.values() if n),
        "groups_below_min": sum(1 for gid, n in members.items()
                                if 0 < n < problem.groups[gid].min_size and gid not in pinned),
        "groups": len(problem.groups),
    }
    return Evaluation(objective=sum(terms.values()), terms=terms, kpis=kpis)


def person_values(problem: Problem, assignments: Assignments,
                  people: Collection[str] | None = None) -> dict[str, float]:
    """Each young person's exact share of the objective (the objective is a sum over people).

    Same formula as `evaluate`, without its problem-wide KPIs, so that summing
    over a component costs only that component.
    """
    w = problem.weights
    out: dict[str, float] = {}
    for pid in problem.people if people is None else people:
        y = problem.people[pid]
        gids = list(dict.fromkeys(assignments.get(pid, ())))
        hours = sum(problem.groups[gid].hours for gid in gids)
        value = y.priority * (w["placed"] * (hours > 0) + w["hours"] * min(hours, y.target))
        for gid in gids:
            g = problem.groups[gid]
            value += w["need_match"] * len(y.needs & g.categories) + w["preferred"] * (gid in y.preferred)
            value -= w["km"] * haversine_km(y.lat, y.lon, g.lat, g.lon)
            if g.provider != y.lead_provider:
                value -= w["offset_eur"] * g.offset_rate * g.hours
        out[pid] = value - w["change"] * len(set(y.current) - set(gids))
    return out


def violations(problem: Problem, assignments: Assignments) -> list[str]:
    """Every broken hard rule (1-8 of FORMAT.md) of `assignments`, in German; [] if feasible."""
    out: list[str] = []
    members: dict[str, list[str]] = {gid: [] for gid in problem.groups}
    for pid, gids in assignments.items():
        if pid not in problem.people:
            out.append(f"Unbekannte junge Person {pid}")
            continue
        for gid in gids:
            if gid not in problem.groups:
                out.append(f"{pid}: unbekannte Gruppe {gid}")
            elif pid in members[gid]:
                out.append(f"{pid}: Gruppe {gid} doppelt zugeordnet")
            else:
                members[gid].append(pid)
    assigned = {pid: [g for g in gids if g in problem.groups] for pid, gids in assignments.items()
                if pid in problem.people}
    for pid, y in problem.people.items():
        gids = list(dict.fromkeys(assigned.get(pid, [])))
        for gid in gids:
            g = problem.groups[gid]
            why = ineligibility(y, g)
            if why:
                out.append(f"{pid} in {gid}: nicht geeignet ({why})")  # rule 1
            if not g.open_for_new and gid not in y.current:
                out.append(f"{pid} in {gid}: geschlossene Gruppe nimmt niemanden neu auf")  # rule 6
        for n, a in enumerate(gids):
            for b in gids[n + 1:]:
                if sessions_overlap(problem.groups[a], problem.groups[b]):
                    out.append(f"{pid}: {a} und {b} überschneiden sich zeitlich")  # rule 3
        minutes = sum(problem.groups[gid].minutes for gid in gids)
        if minutes / 60.0 > y.max_hours + 1e-9:
            out.append(f"{pid}: {minutes / 60:g} Gruppenstunden über dem Maximum {y.max_hours:g}")  # rule 4
        for gid in y.pinned:
            if gid not in gids:
                out.append(f"{pid}: fest zugesagte Gruppe {gid} fehlt")  # rule 8
        for other in y.avoid_with:
            for gid in sorted(set(gids) & set(assigned.get(other, []))):
                out.append(f"{pid} und {other} sind beide in {gid}, müssen aber getrennt sein")  # rule 5
    pinned = {gid for y in problem.people.values() for gid in y.pinned}
    for gid, pids in members.items():
        g = problem.groups[gid]
        if len(pids) > g.seats:
            out.append(f"{gid}: {len(pids)} Teilnehmende bei {g.seats} Plätzen")  # rule 2
        if pids and gid not in pinned and len(pids) < g.min_size:
            out.append(f"{gid}: läuft mit {len(pids)} Teilnehmenden, Mindestgröße ist {g.min_size}")  # rule 7
    return out


def solution_to_json(sol: Solution) -> dict[str, Any]:
    """The solution in FORMAT.md's format, with extra keys `terms` and `stats`."""
    out: dict[str, Any] = {
        "format": SOLUTION_FORMAT,
        "status": sol.status.value,
        "assignments": [{"young_person": pid, "group": gid}
                        for pid, gids in sol.assignments.items() for gid in gids],
        "objective": None if sol.objective is None else round(sol.objective, 4),
        "bound": None if sol.bound is None else round(sol.bound, 4),
        "unmatched": [{"young_person": u.young_person, "reasons": list(u.reasons)} for u in sol.unmatched],
        "wall_s": round(sol.wall_s, 3),
    }
    if sol.errors:
        out["errors"] = list(sol.errors)
    if sol.terms:
        out["terms"] = {k: round(v, 4) for k, v in sol.terms.items()}
    if sol.stats:
        out["stats"] = dict(sol.stats)
    return out


def solution_from_json(raw: Any) -> Solution:
    """Read a solution written by `solution_to_json` (or any tool following FORMAT.md)."""
    if not isinstance(raw, dict) or raw.get("format") != SOLUTION_FORMAT:
        raise ValueError(f"Lösung: Feld format muss '{SOLUTION_FORMAT}' sein")
    try:
        status = Status(raw.get("status", "UNKNOWN"))
    except ValueError:
        raise ValueError(f"Lösung: unbekannter Status {raw.get('status')!r}") from None
    assignments: dict[str, list[str]] = {}
    for n, a in enumerate(raw.get("assignments") or []):
        if not isinstance(a, dict) or not isinstance(a.get("young_person"), str) \
                or not isinstance(a.get("group"), str):
            raise ValueError(f"Lösung: Zuordnung Nr. {n + 1} braucht young_person und group")
        assignments.setdefault(a["young_person"], []).append(a["group"])
    unmatched = [Unmatched(u["young_person"], list(u.get("reasons", [])))
                 for u in raw.get("unmatched") or [] if isinstance(u, dict) and "young_person" in u]
    return Solution(
        status=status, assignments={k: tuple(v) for k, v in assignments.items()},
        objective=raw.get("objective"), bound=raw.get("bound"), unmatched=unmatched,
        wall_s=float(raw.get("wall_s") or 0.0), errors=list(raw.get("errors") or []),
        terms=dict(raw.get("terms") or {}), stats=dict(raw.get("stats") or {}),
    )
