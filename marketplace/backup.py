"""Backup and restore (Datensicherung und Wiederherstellung).

    flask --app marketplace backup [--output DATEI]
    flask --app marketplace restore DATEI [--yes]

SQLite: the backup uses SQLite's online backup API (`sqlite3.Connection.backup`), which copies
a consistent snapshot while the application keeps running (WAL included). A restore checks that
the file is an intact Gruppenbörse database at the current schema revision, keeps a copy of the
database it replaces, and copies the backup in with the same API.
PostgreSQL: the commands print the exact `pg_dump` / `pg_restore` calls for DATABASE_URL and
exit with an error (the database server's own tools are the right ones there).
"""

from __future__ import annotations

import shlex
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url

from .cli import CliError, register_command

#: Tables every Gruppenbörse database has (a restore refuses files without them).
REQUIRED_TABLES = frozenset({"alembic_version", "app_user", "provider", "young_person", "group_offer", "audit_event"})


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is German and meant for the user."""


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    revision: str
    size_bytes: int


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, None for other databases; in-memory databases are refused."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("Eine Datenbank im Arbeitsspeicher kann nicht gesichert oder wiederhergestellt werden.")
    return Path(parsed.database)


def default_backup_path(instance_path: str, now: datetime | None = None) -> Path:
    """instance/backups/gruppenboerse-JJJJMMTT-HHMMSS.db"""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return Path(instance_path) / "backups" / f"gruppenboerse-{stamp}.db"


def _connect_readonly(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def check_database_file(path: Path, *, expected_revision: str | None) -> str:
    """Check that `path` is an intact Gruppenbörse SQLite database at `expected_revision`; returns its revision."""
    if not path.is_file():
        raise BackupError(f"Die Datei {path} gibt es nicht.")
    with path.open("rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            raise BackupError(f"{path} ist keine SQLite-Datenbank.")
    connection = _connect_readonly(path)
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = REQUIRED_TABLES - tables
        if missing:
            raise BackupError(f"{path} ist keine Datenbank der Gruppenbörse (es fehlen: {', '.join(sorted(missing))}).")
        revisions = [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]
        if connection.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"{path} ist beschädigt (PRAGMA integrity_check meldet Fehler).")
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} lässt sich nicht lesen: {exc}") from None
    finally:
        connection.close()
    revision = revisions[0] if len(revisions) == 1 else None
    if expected_revision is not None and revision != expected_revision:
        raise BackupError(
            f"Die Sicherung hat den Schema-Stand „{revision or 'unbekannt'}“, diese Version der Gruppenbörse "
            f"erwartet „{expected_revision}“. Bitte mit passender Programmversion wiederherstellen "
            "(oder die Sicherung erst dort migrieren)."
        )
    return revision or ""


def _copy(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    source.backup(target, pages=1024)  # in steps, so writers of a live database are not starved


def backup_sqlite(database: Path, output: Path) -> BackupInfo:
    """Copy the live database `database` to the new file `output` (online backup API) and verify the copy."""
    if not database.is_file():
        raise BackupError(f"Die Datenbankdatei {database} gibt es nicht.")
    if output.exists():
        raise BackupError(f"{output} gibt es schon; bitte einen neuen Dateinamen wählen.")
    output.parent.mkdir(parents=True, exist_ok=True)
    source = _connect_readonly(database)
    target = sqlite3.connect(output)
    try:
        _copy(source, target)
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        target.close()
        source.close()
    revision = check_database_file(output, expected_revision=None)
    return BackupInfo(output, revision, output.stat().st_size)


def restore_sqlite(backup: Path, database: Path, *, expected_revision: str | None,
                   keep_copy: bool = True) -> Path | None:
    """Replace the content of `database` by `backup` (checked first); returns where the old content was kept."""
    check_database_file(backup, expected_revision=expected_revision)
    if backup.resolve() == database.resolve():
        raise BackupError("Sicherung und Ziel sind dieselbe Datei.")
    kept = None
    if keep_copy and database.is_file() and database.stat().st_size > 0:
        kept = database.with_name(f"{database.stem}.vor-wiederherstellung-{datetime.now():%Y%m%d-%H%M%S}.db")
        backup_sqlite(database, kept)
    database.parent.mkdir(parents=True, exist_ok=True)
    source = _connect_readonly(backup)
    target = sqlite3.connect(database, timeout=30)
    try:
        _copy(source, target)
    finally:
        target.close()
        source.close()
    return kept


def is_empty_database(database: Path) -> bool:
    """True when the file is missing, empty, or holds no user account and no provider."""
    if not database.is_file() or database.stat().st_size == 0:
        return True
    connection = _connect_readonly(database)
    try:
        for table in ("app_user", "provider"):
            try:
                if connection.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():
                    return False
            except sqlite3.OperationalError:
                continue
        return True
    finally:
        connection.close()


def postgres_hint(url: str, *, restore_from: str | None = None) -> str:
    """German instructions with the exact pg_dump / pg_restore commands for the PostgreSQL `url`."""
    parsed = make_url(url)
    args = []
    if parsed.host:
        args.append(f"--host={shlex.quote(parsed.host)}")
    if parsed.port:
        args.append(f"--port={parsed.port}")
    if parsed.username:
        args.append(f"--username={shlex.quote(parsed.username)}")
    database = shlex.quote(parsed.database or "postgres")
    dump_file = shlex.quote(restore_from or f"gruppenboerse-{datetime.now():%Y%m%d-%H%M%S}.dump")
    dump = ["pg_dump", "--format=custom", "--no-owner", *args, f"--file={dump_file}", database]
    restore = ["pg_restore", "--clean", "--if-exists", "--no-owner", *args, f"--dbname={database}", dump_file]
    lines = [
        "Die Datenbank ist PostgreSQL: bitte mit den Werkzeugen des Datenbankservers sichern.",
        "",
        "Sichern (konsistent im laufenden Betrieb):",
        "  " + " ".join(dump),
        "",
        "Wiederherstellen (Anwendung und Zeitplaner vorher anhalten):",
        "  " + " ".join(restore),
        "  flask --app marketplace db current      # muss „aktuell“ melden",
    ]
    if parsed.password:
        lines += ["", "Das Passwort bitte über PGPASSWORD oder ~/.pgpass angeben, nicht auf der Kommandozeile."]
    return "\n".join(lines)


# --------------------------------------------------------------------------- CLI


def _database_url() -> str:
    return current_app.config["DATABASE_URL"]


def _sqlite_or_hint(*, restore_from: str | None = None) -> Path:
    url = _database_url()
    try:
        path = sqlite_path(url)
    except BackupError as exc:
        raise CliError(str(exc)) from None
    if path is None:
        click.echo(postgres_hint(url, restore_from=restore_from))
        raise CliError("Für PostgreSQL gibt es hier keine eingebaute Sicherung (siehe die Befehle oben).")
    return path


@register_command
@click.command("backup", help="Datenbank sichern (SQLite: Online-Sicherung im laufenden Betrieb).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Zieldatei (Standard: instance/backups/gruppenboerse-JJJJMMTT-HHMMSS.db).")
@with_appcontext
def backup_command(output: Path | None) -> None:
    database = _sqlite_or_hint()
    output = output or default_backup_path(current_app.instance_path)
    try:
        info = backup_sqlite(database, output)
    except BackupError as exc:
        raise CliError(str(exc)) from None
    click.echo(f"Sicherung erstellt: {info.path} ({info.size_bytes / 1024:.0f} KB, Schema-Stand {info.revision}).")


@register_command
@click.command("restore", help="Datenbank aus einer Sicherung wiederherstellen (nur SQLite).")
@click.argument("path", metavar="DATEI", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Eine vorhandene Datenbank ohne Rückfrage ersetzen.")
@with_appcontext
def restore_command(path: Path, yes: bool) -> None:
    from . import migrate

    database = _sqlite_or_hint(restore_from=str(path))
    head = migrate.head()
    try:
        check_database_file(path, expected_revision=head)
        if not is_empty_database(database) and not yes:
            raise CliError(
                f"Die Datenbank {database} enthält Daten. Sie wird nur mit --yes ersetzt "
                "(vorher Anwendung und Zeitplaner anhalten)."
            )
        kept = restore_sqlite(path, database, expected_revision=head)
    except BackupError as exc:
        raise CliError(str(exc)) from None
    click.echo(f"Datenbank aus {path} wiederhergestellt (Schema-Stand {head}).")
    if kept is not None:
        click.echo(f"Der bisherige Stand wurde aufbewahrt: {kept}")
