"""A faster database for many small constraint tests: migrated once per module, rolled back per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from sqlmodel import Session

from marketplace import migrate
from marketplace.db import make_engine


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def _module_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("constraints") / "constraints.db"
        shutil.copyfile(request.getfixturevalue("_migrated_template"), path)
        url = f"sqlite:///{path}"
    else:
        from tests.conftest import _reset_postgres

        url = request.getfixturevalue("_postgres_database")
        _reset_postgres(url)
        migrate.upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def tx_session(_module_engine) -> Iterator[Session]:
    """A session inside one transaction that is rolled back after the test (SQLite and PostgreSQL)."""
    with _module_engine.connect() as connection:
        transaction = connection.begin()
        session = Session(bind=connection, expire_on_commit=False)
        try:
            yield session
        finally:
            session.close()
            if transaction.is_active:
                transaction.rollback()
