"""Large components: large-neighbourhood search (placeholder: one exact model)."""

from __future__ import annotations

from .model import MatchModel
from .runner import ComponentResult, SearchContext, fallback, run_model
from .scope import Scope
from .solution import Assignments


def solve_large(scope: Scope, start: Assignments, ctx: SearchContext, share: float) -> ComponentResult:
    model = MatchModel(scope)
    result = run_model(model, ctx, ctx.budget(share), start)
    return result or fallback(model, scope, start)
