"""Migrations build the whole schema on SQLite and PostgreSQL, and match the models exactly."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

import marketplace.models  # noqa: F401  (registers the tables)
from marketplace import migrate
from marketplace.db import normalise_url


def _tables(url: str) -> set[str]:
    engine = create_engine(normalise_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_creates_every_table_on_an_empty_database(db_url):
    assert migrate.current(db_url) is None
    migrate.upgrade(db_url)
    assert migrate.current(db_url) == migrate.head()
    assert _tables(db_url) == set(SQLModel.metadata.tables) | {"alembic_version"}


def test_autogenerate_finds_no_difference_between_models_and_migrations(db_url):
    migrate.upgrade(db_url)
    assert migrate.check_no_diff(db_url) == []


def test_downgrade_to_base_and_upgrade_again(db_url):
    migrate.upgrade(db_url)
    migrate.downgrade(db_url, "base")
    assert _tables(db_url) <= {"alembic_version"}
    migrate.upgrade(db_url)
    assert migrate.check_no_diff(db_url) == []


def test_constraint_names_follow_the_convention(migrated_url):
    """Named constraints are what lets later migrations drop or alter them on both databases."""
    engine = create_engine(normalise_url(migrated_url))
    try:
        inspector = inspect(engine)
        checks = {c["name"] for c in inspector.get_check_constraints("group_offer")}
        uniques = {c["name"] for c in inspector.get_unique_constraints("app_user")}
        fks = {c["name"] for c in inspector.get_foreign_keys("group_offer")}
    finally:
        engine.dispose()
    assert {"ck_group_offer_seats_positive", "ck_group_offer_min_size_within_seats"} <= checks
    assert "uq_app_user_email" in uniques
    assert "fk_group_offer_provider_id_provider" in fks


def test_cli_upgrade_and_current_on_a_new_database(tmp_path):
    from marketplace import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "current"])
    assert result.exit_code == 0 and "leer" in result.output
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"Stand {migrate.head()}" in result.output
    result = runner.invoke(args=["db", "current"])
    assert "aktuell" in result.output
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0 and "stimmen überein" in result.output
    app.extensions["db_engine"].dispose()


def test_cli_bad_input_answers_in_german_without_traceback(runner):
    cases = [
        (["db", "downgrade", "gibtsnicht"], "Migration nicht möglich"),
        (["db", "gibtsnicht"], "Unbekannter Befehl"),
        (["seed", "gibtsnicht"], "Unbekannter Datensatz"),
        (["seed", "demo", "--date", "2025-13-40"], "Ungültiges Datum"),
    ]
    for args, message in cases:
        result = runner.invoke(args=args)
        assert result.exit_code != 0, args
        assert f"Fehler: {message}" in result.output, (args, result.output)
        assert "Traceback" not in result.output
        assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


def test_seed_refuses_an_unmigrated_database(tmp_path):
    from marketplace import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"})
    result = app.test_cli_runner().invoke(args=["seed", "demo"])
    assert result.exit_code == 1
    assert "db upgrade" in result.output
    app.extensions["db_engine"].dispose()


def test_upgrade_keeps_the_newest_of_several_waiting_on_demand_runs(db_url):
    """Runs left queued or running by a stopped process: all but the newest on-demand one are marked
    failed, so the index allowing one at a time can be built."""
    from sqlalchemy import text

    migrate.upgrade(db_url, "0004_audit_append_only")
    engine = create_engine(normalise_url(db_url))
    try:
        with engine.begin() as connection:
            for n, (kind, status) in enumerate([("on_demand", "running"), ("on_demand", "queued"),
                                                 ("nightly", "running"), ("on_demand", "done")]):
                connection.execute(text(
                    "INSERT INTO solver_run (run_key, kind, status, created_at) VALUES (:key, :kind, :status, :at)"),
                    {"key": f"run-{n}", "kind": kind, "status": status, "at": "2026-11-01 10:00:00"})
        migrate.upgrade(db_url)
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT run_key, status, error FROM solver_run ORDER BY id")).all()
    finally:
        engine.dispose()
    assert [(key, status) for key, status, _ in rows] == [
        ("run-0", "failed"), ("run-1", "queued"), ("run-2", "running"), ("run-3", "done")]
    assert rows[0][2].startswith("Beim Update beendet")
