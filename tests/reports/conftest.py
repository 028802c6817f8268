"""Fixtures of the report tests: `district` (see district.py)."""

from .district import District, district  # noqa: F401
