"""Fixtures of the security tests: the district app, built once per module.

`district_app` is the district on SQLite. A module that must hold on both databases overrides it
with `district_app_both` (once on SQLite, once on PostgreSQL from MARKETPLACE_TEST_POSTGRES_URL;
skipped without that variable, failed on CI), e.g. the bad-input tests: PostgreSQL refuses texts
that SQLite stores (NUL characters), so input checks must be proven there for real.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_ENV

from .district import DistrictApp


@pytest.fixture(scope="module")
def district_app(tmp_path_factory: pytest.TempPathFactory, _migrated_template: Path) -> Iterator[DistrictApp]:
    """The district (two providers, two teams ...) with logged-in sessions and API tokens per role."""
    built = DistrictApp(tmp_path_factory.mktemp("district"), _migrated_template)
    yield built
    built.close()


def postgres_server() -> str:
    """The PostgreSQL server URL of the test run; skips (fails on CI) when there is none."""
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set: CI must test PostgreSQL for real")
        pytest.skip(f"PostgreSQL not configured ({POSTGRES_ENV} unset)")
    return server


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def district_app_both(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                      _migrated_template: Path) -> Iterator[DistrictApp]:
    """The district once on SQLite and once on its own PostgreSQL database."""
    server = postgres_server() if request.param == "postgresql" else None
    built = DistrictApp(tmp_path_factory.mktemp("district"), _migrated_template, postgres_server=server)
    yield built
    built.close()
