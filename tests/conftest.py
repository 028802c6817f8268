"""Fixtures shared by the whole suite (flaskr style: app, client, runner, session) and database URLs.

- `app`: a fresh application on its own SQLite file, with the schema made by the
  migrations. The migrations run once per test session into a template file,
  which each test copies (fast).
- `session`: a SQLModel session on the app's engine.
- `db_url`: an *empty* database, once on SQLite and once on PostgreSQL, for the
  tests that must hold on both. PostgreSQL comes from MARKETPLACE_TEST_POSTGRES_URL
  (a server URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres); the suite
  creates its own database there and drops it at the end. Without that variable
  the PostgreSQL cases are skipped locally, but fail when CI is set.
- `migrated_url` / `db_session`: the same database migrated to head, and a session on it.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from marketplace import create_app, migrate
from marketplace.db import make_engine, normalise_url

POSTGRES_ENV = "MARKETPLACE_TEST_POSTGRES_URL"
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


# --- the application on SQLite ---------------------------------------------------------------


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per test session."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def app_overrides() -> dict:
    """Extra configuration for `app`; override this fixture in a test module to change it."""
    return {}


@pytest.fixture
def app(tmp_path: Path, _migrated_template: Path, app_overrides: dict):
    """A fresh app on its own migrated SQLite file."""
    path = tmp_path / "marketplace.db"
    shutil.copyfile(_migrated_template, path)
    config = {"TESTING": True, "SECRET_KEY": TEST_SECRET, "DATABASE_URL": f"sqlite:///{path}"}
    app = create_app({**config, **app_overrides})
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app) -> Iterator[Session]:
    """A SQLModel session on the app's engine (commit to make rows visible to requests)."""
    with Session(app.extensions["db_engine"], expire_on_commit=False) as session:
        yield session


# --- both databases ----------------------------------------------------------------------------


def _admin_engine(server_url: str) -> Engine:
    return create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def _postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (dropped at the end)."""
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set: CI must test PostgreSQL for real")
        pytest.skip(f"PostgreSQL not configured ({POSTGRES_ENV} unset)")
    name = f"marketplace_test_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine(server)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(normalise_url(server)).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _reset_postgres(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a new SQLite file, or the session's PostgreSQL database with a fresh schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    url = request.getfixturevalue("_postgres_database")
    _reset_postgres(url)
    return url


@pytest.fixture
def migrated_url(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> str:
    """`db_url` migrated to head (SQLite copies the session's template)."""
    if db_url.startswith("sqlite"):
        shutil.copyfile(request.getfixturevalue("_migrated_template"), tmp_path / "empty.db")
    else:
        migrate.upgrade(db_url)
    return db_url


@pytest.fixture
def db_engine(migrated_url: str) -> Iterator[Engine]:
    """The app's kind of engine (SQLite pragmas included) on `migrated_url`."""
    engine = make_engine(migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db_session(db_engine: Engine) -> Iterator[Session]:
    """A session on the migrated database, on SQLite and on PostgreSQL."""
    with Session(db_engine, expire_on_commit=False) as session:
        yield session
