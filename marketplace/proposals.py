"""The instant proposal (Sofortvorschlag) for a placement request: the best options, explained in German.

`propose_options` takes the live matching problem (`marketplace.snapshot`; rebuilt only when
the data changed, `marketplace.snapshot_cache`), asks the engine's single-request recommender
for the best `k` options for one young person with everyone else's placements fixed, and
explains each option in plain German: hours against the target, needs served, distance, times,
wishes, seats, and the offset rate when another provider hosts the group. When nothing fits,
it returns the engine's reasons instead. Read-only: nothing is written here.

The engine speaks in pseudonymous keys ("Y12", "G7", "P3"); texts shown to people use
group titles and provider names, and never name another young person.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from datetime import date

from sqlmodel import Session, select

from .matching.explain import (
    CATEGORY_LABELS,
    category_label,
    describe_group,
    format_hours,
    format_km,
    format_sessions,
    unmatched_reasons,
)
from .matching.problem import Problem, Window, YoungPerson
from .matching.recommend import recommend
from .models import Category, GroupOffer, Municipality, Provider
from .snapshot import Snapshot
from .snapshot_cache import cached_snapshot

DEFAULT_OPTIONS = 3


@dataclass(frozen=True)
class GroupFacts:
    """One group of an option, as the caseworker sees it."""

    offer_id: int
    title: str
    provider: str
    municipality: str
    sessions: str
    hours: float
    km: float
    needs_served: tuple[str, ...]
    preferred: bool
    other_provider: bool
    offset_rate_cents: int
    seats: int
    free_seats: int
    variant_b_allowed: bool
    lines: tuple[str, ...] = ()  # German: distance, times, seats, offset


@dataclass(frozen=True)
class ProposedOption:
    """One option: the groups to confirm together, a German headline and explanation lines."""

    rank: int
    offer_ids: tuple[int, ...]
    groups: tuple[GroupFacts, ...]
    headline: str
    lines: tuple[str, ...]
    feasible: bool = True  # False: a group still lacks members for its minimum size (see `notes`)
    notes: tuple[str, ...] = ()

    @property
    def token(self) -> str:
        """The option's form value: the offer ids joined by commas."""
        return ",".join(str(i) for i in self.offer_ids)

    @property
    def shared_use(self) -> bool:
        return any(g.other_provider for g in self.groups)

    @property
    def variant_b_allowed(self) -> bool:
        return all(g.variant_b_allowed for g in self.groups if g.other_provider)


@dataclass
class Proposal:
    """Up to `k` options, or (when there are none) the reasons why nothing fits."""

    options: list[ProposedOption] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0


def propose_options(
    session: Session, *, young_person_id: int, today: date | None = None, k: int = DEFAULT_OPTIONS
) -> Proposal:
    """The best `k` options for the young person against the live plan (everyone else fixed).

    The engine's recommender (`matching.recommend`) ranks the sets of groups; options whose
    group would still be below its minimum size come last, marked `feasible=False`.
    """
    started = time.monotonic()
    snapshot = cached_snapshot(session, today=today)
    key = snapshot.person_key(young_person_id)
    problem = snapshot.problem
    if key not in problem.people:
        return Proposal(reasons=["Heute liegt keine aktive Bewilligung vor (Bewilligungszeitraum prüfen)."])
    y = problem.people[key]
    others = {pid: gids for pid, gids in snapshot.current_assignments().items() if pid != key}
    texts = _Texts(session, snapshot)
    options = []
    for option in recommend(problem, key, others, k=k):
        new = tuple(g for g in option.groups if g not in y.pinned)
        if new:
            notes = tuple(texts.humanise(note, key) for note in option.notes)
            options.append(_explain(problem, y, new, len(options) + 1, texts, option.feasible, notes))
    reasons: list[str] = []
    if not options:
        reasons = _unmatched_reasons(problem, others, y, texts)
    return Proposal(options=options[:k], reasons=reasons, elapsed_s=time.monotonic() - started)


def _unmatched_reasons(
    problem: Problem, others: dict[str, tuple[str, ...]], y: YoungPerson, texts: _Texts
) -> list[str]:
    """Why no (further) group fits. With fixed groups already, the engine is asked about the rest:
    the person without those groups, with the hours and free times they leave."""
    if not y.pinned:
        return [texts.humanise(r, y.id) for r in unmatched_reasons(problem, {**others, y.id: ()}, y.id)]
    own = [problem.groups[g] for g in y.pinned]
    hours = sum(g.minutes for g in own) / 60.0
    titles = ", ".join(f"„{texts.offer(g.id).title}“" for g in own)
    lead = (
        f"Bereits fest belegt: {titles} ({format_hours(hours)} pro Woche; Ziel {format_hours(y.target)}, "
        f"Maximum {format_hours(y.max_hours)})"
    )
    left = y.max_hours - hours
    if left <= 1e-9:
        return [lead, "Das Gruppenstunden-Maximum ist damit ausgeschöpft; eine weitere Gruppe ist nicht möglich"]
    week = y.available if y.available is not None else tuple(Window(d, 0, 24 * 60) for d in range(7))
    rest = replace(
        y,
        max_hours=left,
        target=max(0.0, y.target - hours),
        pinned=(),
        current=tuple(g for g in y.current if g not in y.pinned),
        available=_without(week, [s for g in own for s in g.sessions]),
    )
    groups = {gid: g for gid, g in problem.groups.items() if gid not in y.pinned}
    sub = Problem(problem.weights, problem.providers, groups, {**problem.people, y.id: rest})
    return [lead, *(texts.humanise(r, y.id) for r in unmatched_reasons(sub, {**others, y.id: ()}, y.id))]


def _without(windows: tuple[Window, ...], busy: list[Window]) -> tuple[Window, ...]:
    """Weekly windows minus the busy ones (a fixed group's sessions are no longer free time)."""
    result = list(windows)
    for b in busy:
        cut = []
        for w in result:
            if w.day != b.day or b.end <= w.start or w.end <= b.start:
                cut.append(w)
                continue
            if w.start < b.start:
                cut.append(Window(w.day, w.start, b.start))
            if b.end < w.end:
                cut.append(Window(w.day, b.end, w.end))
        result = cut
    return tuple(result)


# --------------------------------------------------------------------------- German explanations


class _Texts:
    """Turns engine keys into titles and names (rows loaded once per proposal)."""

    def __init__(self, session: Session, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        ids = [snapshot.offer_id(g) for g in snapshot.problem.groups]
        self.offers = {o.id: o for o in session.exec(select(GroupOffer).where(GroupOffer.id.in_(ids or [-1]))).all()}
        self.providers = {p.id: p for p in session.exec(select(Provider)).all()}
        self.towns = {m.id: m.name for m in session.exec(select(Municipality)).all()}
        self.categories = {c.code: c.label for c in session.exec(select(Category)).all()}
        # the engine words categories its own way; people read the catalogue's labels
        self.relabel = [
            (re.compile(rf"(?<![\w-]){re.escape(engine)}(?![\w-])"), self.categories[code])
            for code, engine in CATEGORY_LABELS.items()
            if code in self.categories and self.categories[code] != engine
        ]

    def category(self, code: str) -> str:
        return self.categories.get(code) or category_label(code)

    def offer(self, key: str) -> GroupOffer:
        return self.offers[self.snapshot.offer_id(key)]

    def provider_name(self, key: str) -> str:
        if key.startswith("P") and key[1:].isdigit() and int(key[1:]) in self.providers:
            return self.providers[int(key[1:])].name
        return "Jugendamt"

    def humanise(self, text: str, own_key: str) -> str:
        """Replace engine keys in an engine text by titles; other young people stay anonymous."""

        def group(match: re.Match) -> str:
            offer = self.offers.get(int(match.group(1)))
            return f"„{offer.title}“" if offer is not None else "eine Gruppe"

        def person(match: re.Match) -> str:
            return "die junge Person selbst" if match.group(0) == own_key else "einer anderen jungen Person"

        for pattern, label in self.relabel:
            text = pattern.sub(label, text)
        text = re.sub(r"\bG(\d+)\b", group, text)
        text = re.sub(r"\bP(\d+)\b", lambda m: self.provider_name(m.group(0)), text)
        return re.sub(r"\bY\d+\b", person, text)


def _explain(
    problem: Problem,
    y: YoungPerson,
    new: tuple[str, ...],
    rank: int,
    texts: _Texts,
    feasible: bool = True,
    notes: tuple[str, ...] = (),
) -> ProposedOption:
    facts = []
    for gid in new:
        g = problem.groups[gid]
        info = describe_group(problem, y, g)
        offer = texts.offer(gid)
        host = texts.providers[offer.provider_id]
        lead = texts.providers.get(int(y.lead_provider[1:])) if y.lead_provider.startswith("P") else None
        b_allowed = bool(host.allows_co_use and lead is not None and lead.allows_co_use)
        free = max(0, offer.seats - offer.seats_taken)
        sessions = format_sessions(g.sessions)
        lines = [
            f"Termine: {sessions} ({format_hours(g.hours)} pro Woche), passen in die freien Zeiten",
            f"Entfernung: {format_km(info['km'])} vom Wohnort (zumutbar bis {format_km(y.max_travel_km)})",
            f"Freie Plätze: {free} von {offer.seats}",
        ]
        if info["other_provider"]:
            rate = f"{offer.offset_rate_cents / 100:.2f}".replace(".", ",")
            lines.append(
                f"Anderer Träger als der federführende: Verrechnung {rate} € je Teilnehmendenstunde; "
                + ("Variante A oder B möglich" if b_allowed else "nur Variante A (ergänzend) möglich")
            )
        facts.append(
            GroupFacts(
                offer_id=offer.id,
                title=offer.title,
                provider=host.name,
                municipality=texts.towns.get(offer.municipality_id, ""),
                sessions=sessions,
                hours=g.hours,
                km=info["km"],
                needs_served=tuple(texts.category(c) for c in info["needs_served"]),
                preferred=info["preferred"],
                other_provider=info["other_provider"],
                offset_rate_cents=offer.offset_rate_cents,
                seats=offer.seats,
                free_seats=free,
                variant_b_allowed=b_allowed,
                lines=tuple(lines),
            )
        )
    pinned_hours = sum(problem.groups[g].minutes for g in y.pinned) / 60.0
    new_hours = sum(problem.groups[g].minutes for g in new) / 60.0
    total = pinned_hours + new_hours
    headline = f"{format_hours(new_hours)} pro Woche"
    if pinned_hours:
        headline += f" – zusammen mit den bestehenden Gruppen {format_hours(total)}"
    headline += f" von {format_hours(y.target)} Zielstunden"
    hours_line = (
        f"Stunden: {format_hours(total)} von {format_hours(y.target)} Ziel (Maximum {format_hours(y.max_hours)})"
    )
    if total + 1e-9 < y.target:
        hours_line += f"; es fehlen noch {format_hours(y.target - total)}"
    served = sorted({c for f in facts for c in f.needs_served})
    missing = sorted({texts.category(c) for c in y.needs} - set(served))
    need_line = "Bedarfe: deckt " + ", ".join(served) + " ab" + (f"; offen: {', '.join(missing)}" if missing else "")
    wished = [f.title for f in facts if f.preferred]
    if wished:
        wish_line = "Wünsche: Wunschgruppe " + ", ".join(f"„{t}“" for t in wished) + " ist dabei"
    elif y.preferred:
        wish_line = "Wünsche: die Wunschgruppe ist in dieser Option nicht enthalten"
    else:
        wish_line = "Wünsche: keine Wunsch- oder Ausschlussgruppen berührt"
    lines = [hours_line, need_line, wish_line]
    return ProposedOption(
        rank=rank,
        offer_ids=tuple(f.offer_id for f in facts),
        groups=tuple(facts),
        headline=headline,
        lines=tuple(lines),
        feasible=feasible,
        notes=notes,
    )
