"""Backup and restore: a backup taken from a running app restores into a fresh location with everything in it."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlmodel import SQLModel

from marketplace import create_app, migrate
from marketplace.backup import BackupError, check_database_file, postgres_hint
from tests.conftest import TEST_SECRET
from tests.privacy.conftest import build_case


def _counts(path: Path) -> dict[str, int]:
    connection = sqlite3.connect(path)
    try:
        return {t: connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                for t in [*SQLModel.metadata.tables, "alembic_version"]}
    finally:
        connection.close()


def _rows(path: Path, sql: str) -> list[tuple]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def _db_file(app) -> Path:
    return Path(app.config["DATABASE_URL"].removeprefix("sqlite:///"))


def test_backup_and_restore_into_a_fresh_location(app, runner, session, tmp_path):
    built = build_case(session)
    source = _db_file(app)
    backup = tmp_path / "sicherung" / "backup.db"

    result = runner.invoke(args=["backup", "--output", str(backup)])
    assert result.exit_code == 0, result.output
    assert "Sicherung erstellt" in result.output and backup.is_file()

    fresh = tmp_path / "neu" / "marketplace.db"
    other = create_app({"TESTING": True, "SECRET_KEY": TEST_SECRET, "DATABASE_URL": f"sqlite:///{fresh}"})
    result = other.test_cli_runner().invoke(args=["restore", str(backup)])
    other.extensions["db_engine"].dispose()
    assert result.exit_code == 0, result.output

    assert _counts(fresh) == _counts(source)
    assert sum(_counts(fresh).values()) > 30
    for sql in ("SELECT id, pseudonym, case_reference, status, lat FROM young_person ORDER BY id",
                "SELECT id, minutes, amount_cents FROM offset_entry ORDER BY id",
                "SELECT id, action, object_type, case_id FROM audit_event ORDER BY id",
                "SELECT email, password_hash FROM app_user ORDER BY id"):
        assert _rows(fresh, sql) == _rows(source, sql)
    assert (built["person"].pseudonym,) in _rows(fresh, "SELECT pseudonym FROM young_person")
    # the restored database is still append-only for audit rows
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        _rows(fresh, "DELETE FROM audit_event")


def test_restore_refuses_to_overwrite_data_without_yes(app, runner, session, tmp_path):
    build_case(session)
    backup = tmp_path / "b.db"
    assert runner.invoke(args=["backup", "--output", str(backup)]).exit_code == 0
    refused = runner.invoke(args=["restore", str(backup)])
    assert refused.exit_code != 0 and "nur mit --yes" in refused.output
    done = runner.invoke(args=["restore", str(backup), "--yes"])
    assert done.exit_code == 0, done.output
    assert "bisherige Stand wurde aufbewahrt" in done.output


def test_restore_refuses_files_that_are_not_our_database(runner, tmp_path):
    text = tmp_path / "notiz.db"
    text.write_text("kein SQLite")
    foreign = tmp_path / "fremd.db"
    sqlite3.connect(foreign).execute("CREATE TABLE x (id integer)").connection.close()
    for path, message in ((text, "keine SQLite-Datenbank"), (foreign, "keine Datenbank der Gruppenbörse"),
                          (tmp_path / "fehlt.db", "gibt es nicht")):
        result = runner.invoke(args=["restore", str(path), "--yes"])
        assert result.exit_code != 0 and message in result.output, result.output
        assert "Traceback" not in result.output


def test_restore_refuses_another_schema_revision(app, runner, tmp_path, _migrated_template):
    old = tmp_path / "alt.db"
    shutil.copyfile(_migrated_template, old)
    migrate.downgrade(f"sqlite:///{old}", "-1")
    with pytest.raises(BackupError, match="Schema-Stand"):
        check_database_file(old, expected_revision=migrate.head())
    result = runner.invoke(args=["restore", str(old), "--yes"])
    assert result.exit_code != 0 and "Schema-Stand" in result.output


def test_backup_does_not_overwrite_an_existing_file(runner, tmp_path):
    target = tmp_path / "da.db"
    target.write_text("x")
    result = runner.invoke(args=["backup", "--output", str(target)])
    assert result.exit_code != 0 and "gibt es schon" in result.output


def test_backup_default_path_is_in_the_instance_folder(app, runner):
    result = runner.invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    path = Path(result.output.split("Sicherung erstellt: ")[1].split(" (")[0])
    assert path.parent == Path(app.instance_path) / "backups"
    path.unlink()


def test_postgres_gets_the_pg_dump_commands_and_a_non_zero_exit(tmp_path):
    url = "postgresql://gb:geheim@db.example:5433/gruppenboerse"
    app = create_app({"TESTING": True, "SECRET_KEY": TEST_SECRET, "DATABASE_URL": url})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["backup"])
    assert result.exit_code != 0
    assert "pg_dump --format=custom --no-owner --host=db.example --port=5433 --username=gb" in result.output
    assert "geheim" not in result.output and "PGPASSWORD" in result.output
    result = runner.invoke(args=["restore", "sicherung.dump"])
    assert result.exit_code != 0
    assert "pg_restore --clean --if-exists --no-owner --host=db.example --port=5433 --username=gb " \
           "--dbname=gruppenboerse sicherung.dump" in result.output
    app.extensions["db_engine"].dispose()


def test_postgres_hint_without_host_uses_the_local_socket():
    hint = postgres_hint("postgresql:///gruppenboerse")
    assert "  pg_dump --format=custom --no-owner --file=" in hint
    assert "  pg_restore --clean --if-exists --no-owner --dbname=gruppenboerse " in hint
