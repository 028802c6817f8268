"""The scheduler process (Zeitplaner): nightly rebalancing and daily housekeeping.

Runs in its OWN process, never inside web workers (APScheduler's job store cannot be
shared between processes):

    flask --app marketplace scheduler run            # blocks; Ctrl+C stops it
    flask --app marketplace scheduler run-once JOB   # run one job now (nightly, housekeeping)
    flask --app marketplace scheduler jobs           # list the jobs and when they run next

Times are Europe/Berlin. The nightly rebalancing runs at `MARKETPLACE_NIGHTLY_TIME`
(default 02:00), housekeeping at `MARKETPLACE_HOUSEKEEPING_TIME` (default 01:30).
Misfired runs (the machine was asleep) coalesce into one and still run within
`MISFIRE_GRACE_S`. Two scheduler processes are harmless: the nightly run's unique key
(`nightly-YYYY-MM-DD`) lets only one of them record and apply a run.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable

import click
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask, current_app
from flask.cli import AppGroup

from .cli import CliError, register_command
from .db import get_engine, session_scope
from .timeutil import BERLIN, today_berlin

log = logging.getLogger("marketplace.scheduler")
MISFIRE_GRACE_S = 6 * 3600

#: Daily housekeeping steps of the other areas: (module, function name). Each takes
#: (session, *, today) and returns a count; missing ones are skipped.
HOUSEKEEPING_STEPS: list[tuple[str, str]] = [
    ("marketplace.offers", "expire_certifications"),
    ("marketplace.offers", "warn_expiring_certifications"),
    ("marketplace.cases", "end_expired_crises"),
    ("marketplace.ledger", "book_open_months"),
    ("marketplace.privacy", "anonymise_ended_cases"),
]


def nightly_rebalancing() -> str:
    """Job: the nightly rebalancing of the whole district (at most once per Berlin date)."""
    from .runs import run_nightly

    run = run_nightly(get_engine())
    if run is None:
        return "Der nächtliche Abgleich für heute lief bereits."
    if run.status != "done":
        return f"Abgleich {run.run_key}: {run.status} – {run.error}"
    kpis = run.kpis or {}
    return (f"Abgleich {run.run_key}: {kpis.get('placed', 0)} junge Menschen versorgt, "
            f"{kpis.get('changes', 0)} Änderungen, {kpis.get('wall_s', 0)} s")


def daily_housekeeping() -> str:
    """Job: certification expiry and warnings, crisis modules ending, and similar daily steps."""
    today = today_berlin()
    done = []
    for module_name, function_name in HOUSEKEEPING_STEPS:
        try:
            step: Callable = getattr(importlib.import_module(module_name), function_name)
        except (ImportError, AttributeError):
            continue
        with session_scope() as session:
            count = step(session, today=today)
        done.append(f"{function_name}: {count}")
    return "Tagesaufgaben erledigt (" + ", ".join(done) + ")" if done else "Keine Tagesaufgaben vorhanden."


JOBS: dict[str, tuple[Callable[[], str], str, str, str]] = {
    # id: (function, config key of its time, default time, German description)
    "nightly": (nightly_rebalancing, "NIGHTLY_TIME", "02:00", "Nächtlicher Abgleich des ganzen Bezirks"),
    "housekeeping": (daily_housekeeping, "HOUSEKEEPING_TIME", "01:30",
                     "Tagesaufgaben: Zertifikate, Kriseninterventionen, Verrechnung buchen, Löschfristen"),
}


def _in_app(app: Flask, job: Callable[[], str]) -> Callable[[], None]:
    def run() -> None:
        with app.app_context():
            try:
                log.info(job())
            except Exception:  # a failing job must not stop the scheduler process
                log.exception("Job %s fehlgeschlagen", job.__name__)

    run.__name__ = job.__name__
    return run


def _trigger(text: str) -> CronTrigger:
    try:
        hour, minute = (int(part) for part in text.split(":"))
        return CronTrigger(hour=hour, minute=minute, timezone=BERLIN)
    except ValueError as exc:
        raise CliError(f"Ungültige Uhrzeit „{text}“: erwartet HH:MM, z. B. 02:00.") from exc


def build_scheduler(app: Flask) -> BlockingScheduler:
    """A blocking scheduler with every job of `JOBS`, at the configured Berlin times."""
    scheduler = BlockingScheduler(timezone=BERLIN)
    for job_id, (function, key, default, _label) in JOBS.items():
        scheduler.add_job(_in_app(app, function), _trigger(app.config.get(key) or default),
                          id=job_id, name=job_id, replace_existing=True,
                          coalesce=True, max_instances=1, misfire_grace_time=MISFIRE_GRACE_S)
    return scheduler


scheduler_cli = AppGroup("scheduler", help="Zeitplaner: nächtlicher Abgleich und Tagesaufgaben.")


@scheduler_cli.command("run")
def run_command() -> None:
    """Start the scheduler process (blocks until Ctrl+C)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    scheduler = build_scheduler(current_app._get_current_object())
    click.echo("Zeitplaner gestartet: " + ", ".join(f"{j.id} um {_at(j)}" for j in scheduler.get_jobs()))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        click.echo("Zeitplaner beendet.")


@scheduler_cli.command("run-once")
@click.argument("job")
def run_once_command(job: str) -> None:
    """Run one job now (nightly or housekeeping)."""
    if job not in JOBS:
        raise CliError(f"Unbekannter Job „{job}“. Verfügbar: {', '.join(JOBS)}.")
    click.echo(JOBS[job][0]())


@scheduler_cli.command("jobs")
def jobs_command() -> None:
    """List the jobs and their times."""
    for job_id, (_function, key, default, label) in JOBS.items():
        click.echo(f"{job_id:13} {current_app.config.get(key) or default} Uhr  {label}")


def _at(job) -> str:
    fields = {f.name: str(f) for f in job.trigger.fields}
    return f"{int(fields['hour']):02d}:{int(fields['minute']):02d} Uhr"


register_command(scheduler_cli)
