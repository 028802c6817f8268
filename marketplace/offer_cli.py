"""Command line for group offers: `flask --app marketplace offers housekeeping [--date JJJJ-MM-TT]`.

Runs the daily offer jobs of `marketplace.offers.housekeeping` once (the scheduler runs the
same functions nightly): expired certifications are withdrawn, expiring ones warned about.
"""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from .cli import CliError, register_command

offers_cli = register_command(AppGroup("offers", help="Gruppenangebote: tägliche Pflegeaufgaben."))


@offers_cli.command("housekeeping", help="Abgelaufene Zertifizierungen zurückziehen und bald ablaufende melden.")
@click.option("--date", "reference", default=None, metavar="JJJJ-MM-TT", help="Stichtag (Standard: heute).")
def housekeeping_command(reference: str | None) -> None:
    from .db import session_scope
    from .offers import housekeeping

    try:
        today = date.fromisoformat(reference) if reference else None
    except ValueError:
        raise CliError(f"Ungültiges Datum „{reference}“, erwartet wird JJJJ-MM-TT.") from None
    with session_scope() as session:
        counts = housekeeping(session, today=today)
    click.echo(f"Zertifizierungen abgelaufen: {counts['expired']}, Warnungen verschickt: {counts['warned']}.")
