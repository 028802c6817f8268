"""`flask --app marketplace cases expire-crises [--date JJJJ-MM-TT]`: daily housekeeping of crisis cases.

The scheduler calls `marketplace.cases.end_expired_crises` daily; this command does the same by hand.
"""

from __future__ import annotations

from datetime import date

import click

from .cli import CliError, GermanGroup, register_command

cases_cli = register_command(GermanGroup("cases", help="Fälle junger Menschen (Haushaltsaufgaben)."))


@cases_cli.command(
    "expire-crises",
    help="Abgelaufene Kriseninterventionen auf „Prüfung nötig“ setzen und die Fachkräfte benachrichtigen.",
)
@click.option("--date", "reference", default=None, metavar="JJJJ-MM-TT", help="Stichtag (Standard: heute).")
def expire_crises(reference: str | None) -> None:
    from .cases import end_expired_crises
    from .db import session_scope

    try:
        today = date.fromisoformat(reference) if reference else None
    except ValueError:
        raise CliError(f"Ungültiges Datum „{reference}“, erwartet wird JJJJ-MM-TT.") from None
    with session_scope() as session:
        count = end_expired_crises(session, today)
    click.echo(f"{count} abgelaufene Krisenintervention(en) zur Prüfung gestellt.")
