"""Fixtures of the security tests: the district app, built once per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .district import DistrictApp


@pytest.fixture(scope="module")
def district_app(tmp_path_factory: pytest.TempPathFactory, _migrated_template: Path) -> Iterator[DistrictApp]:
    """The district (two providers, two teams ...) with logged-in sessions and API tokens per role."""
    built = DistrictApp(tmp_path_factory.mktemp("district"), _migrated_template)
    yield built
    built.close()
