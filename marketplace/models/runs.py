"""Solver runs (Solverläufe) and key/value settings such as solver weights."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, text
from sqlmodel import Field, SQLModel

from marketplace.timeutil import utcnow

from .base import RunKind, RunStatus, one_of, utc_field

ACTIVE_ON_DEMAND = "kind = 'on_demand' AND status IN ('queued', 'running')"


class SolverRun(SQLModel, table=True):
    """One run of the matching engine: nightly rebalancing, on demand, or a what-if simulation.

    Keeps the exact problem and solution (JSON in the matching format, FORMAT.md),
    the weights used, the objective and proven bound, KPIs, and the diff against the
    placements before the run. `run_key` is unique, so a scheduled run cannot be
    started twice (e.g. "nightly-2025-03-01").
    """

    __tablename__ = "solver_run"
    __table_args__ = (
        one_of("kind", RunKind, "kind_valid"),
        one_of("status", RunStatus, "status_valid"),
        # At most one on-demand run waits or runs: two requests at the same moment cannot both
        # start one (the check in the view alone could let both through).
        Index("uq_solver_run_one_active_on_demand", "kind", unique=True,
              sqlite_where=text(ACTIVE_ON_DEMAND), postgresql_where=text(ACTIVE_ON_DEMAND)),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_key: str = Field(unique=True)
    kind: str  # a RunKind value
    status: str = Field(default=RunStatus.queued.value, index=True)
    started_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    created_at: datetime = utc_field(now=True)
    started_at: datetime | None = utc_field()
    finished_at: datetime | None = utc_field()
    input_hash: str | None = None
    weights: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    solver_status: str | None = None  # OPTIMAL, FEASIBLE, INFEASIBLE, INVALID (FORMAT.md)
    objective: float | None = None
    bound: float | None = None
    kpis: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    diff: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    problem_json: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    solution_json: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    error: str | None = None


class Setting(SQLModel, table=True):
    """A configurable value kept in the database (Einstellung), e.g. key "solver.weights"."""

    __tablename__ = "setting"

    key: str = Field(primary_key=True)
    value: Any = Field(default=None, sa_type=JSON)
    updated_at: datetime = utc_field(now=True, sa_column_kwargs={"onupdate": utcnow})
    updated_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")


#: The old name used in the brief; one table serves solver weights and thresholds alike.
SolverSetting = Setting
