"""`flask --app marketplace privacy ...`: retention (anonymise ended cases) and the DSGVO export by hand.

    flask --app marketplace privacy anonymise [--date JJJJ-MM-TT]
    flask --app marketplace privacy retention [--days TAGE]
    flask --app marketplace privacy export FALL-ID [--output DATEI]

The scheduler's daily housekeeping runs the same anonymisation (`marketplace.privacy`).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from .cli import CliError, GermanGroup, register_command

privacy_cli = register_command(GermanGroup("privacy", help="Datenschutz: Löschfristen und Auskunft."))


def _day(reference: str | None) -> date:
    from .timeutil import today_berlin

    try:
        return date.fromisoformat(reference) if reference else today_berlin()
    except ValueError:
        raise CliError(f"Ungültiges Datum „{reference}“, erwartet wird JJJJ-MM-TT.") from None


@privacy_cli.command("anonymise", help="Beendete Fälle nach Ablauf der Aufbewahrungsfrist anonymisieren.")
@click.option("--date", "reference", default=None, metavar="JJJJ-MM-TT", help="Stichtag (Standard: heute).")
def anonymise(reference: str | None) -> None:
    from .db import session_scope
    from .privacy import anonymise_ended_cases, retention_days

    today = _day(reference)
    with session_scope() as session:
        days = retention_days(session)
        count = anonymise_ended_cases(session, today=today)
    click.echo(f"{count} beendete(r) Fall/Fälle anonymisiert (Aufbewahrungsfrist {days} Tage, Stichtag {today}).")


@privacy_cli.command("retention", help="Aufbewahrungsfrist nach Ende der Hilfe anzeigen oder (mit --days) ändern.")
@click.option("--days", type=int, default=None, metavar="TAGE", help="Neue Frist in Tagen (30 bis 36500).")
def retention(days: int | None) -> None:
    from .db import session_scope
    from .privacy import retention_days, set_retention_days

    with session_scope() as session:
        if days is not None:
            try:
                set_retention_days(session, days=days)
            except ValueError as exc:
                raise CliError(str(exc)) from None
            session.flush()
        current = retention_days(session)
    click.echo(f"Aufbewahrungsfrist: {current} Tage nach Ende der Hilfe.")


@privacy_cli.command("export", help="Auskunft nach Art. 15 DSGVO: alles zu einem Fall als JSON.")
@click.argument("young_person_id", metavar="FALL-ID", type=int)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Datei für das JSON (Standard: Ausgabe im Terminal).")
def export(young_person_id: int, output: Path | None) -> None:
    from .db import session_scope
    from .privacy import export_case

    with session_scope() as session:
        try:
            document = export_case(session, young_person_id=young_person_id, actor=None)
        except LookupError:
            raise CliError(f"Es gibt keinen Fall mit der Nummer {young_person_id}.") from None
    text = json.dumps(document, ensure_ascii=False, indent=2)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(f"Auskunft für Fall {young_person_id} gespeichert: {output}")
